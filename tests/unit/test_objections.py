"""Objections' pure rules, the API's language choice and error shapes, identity from claims."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from murur.api.errors import NotACitizen, NotAnOfficer, language_from, validation_fields
from murur.api.identity import citizen_from, officer_from
from murur.lifecycle import ViolationStatus
from murur.objections import Objection, ObjectionReason, RulingDecision, can_object, ruling_target
from murur.violations import InvalidCursor, Violation, _decode_cursor, _encode_cursor
from murur.workflow import ViolationType


def event(claims: dict | None) -> APIGatewayProxyEventV2:
    context: dict = {"http": {"method": "GET", "path": "/violations"}, "stage": "$default"}
    if claims is not None:
        context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return APIGatewayProxyEventV2({"version": "2.0", "rawPath": "/violations", "requestContext": context})


@pytest.mark.parametrize(("header", "language"), [
    (None, "ar"), ("", "ar"), ("fr", "fr"), ("fr-MR", "fr"), ("FR-fr", "fr"), ("ar-MR,fr;q=0.8", "ar"),
    ("en-US,en;q=0.9", "ar"), ("en,fr;q=0.3,ar;q=0.2", "fr"), ("fr;q=0,ar;q=0.1", "ar"), ("fr;q=bad", "ar"),
    ("*", "ar"),
])
def test_the_language_is_the_best_accepted_of_arabic_and_french(header: str | None, language: str) -> None:
    assert language_from(header) == language


def test_validation_fields_name_the_field_and_never_the_value() -> None:
    errors = [{"loc": ("body", "details"), "type": "string_too_long", "input": "0612345678 personal"},
              {"loc": ("query", "limit"), "type": "some_new_pydantic_type", "input": -1}]
    fields = validation_fields(errors, "fr")
    assert fields == [
        {"field": "body.details", "type": "string_too_long", "message": "texte trop long"},
        {"field": "query.limit", "type": "some_new_pydantic_type", "message": "valeur invalide"},
    ]
    assert "personal" not in str(fields)


def test_a_citizen_is_the_nni_claim_and_never_prints_it() -> None:
    citizen = citizen_from(event({"nni": " 1234567890 ", "sub": "x"}))
    assert citizen.nni == "1234567890"
    assert "1234567890" not in repr(citizen)
    with pytest.raises(NotACitizen):
        citizen_from(event({"sub": "x"}))
    with pytest.raises(NotACitizen):
        citizen_from(event(None))


@pytest.mark.parametrize("groups", [["officers"], "[officers]", "[reviewers officers]", "officers,admins"])
def test_an_officer_is_in_the_officers_group_however_the_gateway_passes_it(groups: object) -> None:
    officer = officer_from(event({"cognito:groups": groups, "cognito:username": "o-7", "sub": "s"}))
    assert (officer.officer_id, officer.actor) == ("o-7", "officer:o-7")


def test_the_officer_id_falls_back_to_username_then_sub() -> None:
    assert officer_from(event({"cognito:groups": "[officers]", "username": "u-1", "sub": "s"})).officer_id == "u-1"
    assert officer_from(event({"cognito:groups": "[officers]", "sub": "s-1"})).officer_id == "s-1"


@pytest.mark.parametrize("groups", [None, "[]", "[officersx]", ["clerks"], "officer"])
def test_anyone_else_is_not_an_officer(groups: object) -> None:
    claims = {"cognito:username": "clerk"} | ({"cognito:groups": groups} if groups is not None else {})
    with pytest.raises(NotAnOfficer):
        officer_from(event(claims))


@pytest.mark.parametrize("status", list(ViolationStatus))
def test_an_objection_is_possible_exactly_where_the_lifecycle_allows_objected(status: ViolationStatus) -> None:
    from murur.lifecycle import is_allowed

    fresh = _violation(status)
    assert can_object(fresh) is is_allowed(status, ViolationStatus.OBJECTED)
    assert can_object(fresh) is (status in {ViolationStatus.ISSUED, ViolationStatus.NOTIFIED, ViolationStatus.OVERDUE})
    objected_before = fresh.model_copy(update={"objection": Objection(
        reason=ObjectionReason.OTHER, filed_at=datetime(2026, 1, 1, tzinfo=UTC))})
    assert can_object(objected_before) is False  # one objection per violation, ever


def test_rulings_lead_to_upheld_or_cancelled() -> None:
    assert ruling_target(RulingDecision.UPHOLD) is ViolationStatus.UPHELD
    assert ruling_target(RulingDecision.CANCEL) is ViolationStatus.CANCELLED


def test_page_cursors_round_trip_and_refuse_anything_else() -> None:
    cursor = _encode_cursor("MR26-0000000A01", "2026-11-27T06:29:54Z")
    assert _decode_cursor(cursor) == ("MR26-0000000A01", "2026-11-27T06:29:54Z")
    for forged in ["", "!!!", "bm90LWpzb24", "WzEsMl0", "WyJhIl0", "WyIiLCAiYiJd"]:
        with pytest.raises(InvalidCursor):
            _decode_cursor(forged)


def _violation(status: ViolationStatus) -> Violation:
    at = datetime(2026, 11, 27, 6, 30, tzinfo=UTC)
    return Violation(
        violation_id="MR26-0000000A01", status=status, violation_type=ViolationType.RED_LIGHT, plate="4821AB00",
        owner_nni="1234567890", amount_mru=5000, issued_at=at, deadline_at=at, captured_at=at, camera_id="C",
        frame_id="F", frame_bucket="b", frame_key="k", frame_sha256="0" * 64, evidence_bucket="e",
        evidence_frame_key="f", evidence_frame_sha256="1" * 64, evidence_annotated_key="a",
        evidence_annotated_sha256="2" * 64, model_version="m", read_source="model", execution_arn="arn")
