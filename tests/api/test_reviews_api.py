"""The officers' review routes through the local HTTP API gateway: the OfficerAuthorizer from the
template, ObjectionFunction, and the real state machine waiting for the decision."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, urlparse

import pytest

import murur
from murur.local import LocalStack
from murur.local.camera import scene_upload
from murur.local.identity import citizen_token, officer_token
from murur.local.operator import table_items
from murur.local.seed import CAMERAS
from murur.workflow import ViolationType

needs_plate_reader = pytest.mark.skipif(
    not (Path(murur.__file__).parent / "alpr" / "models" / "model_card.json").exists(),
    reason="the plate reader's models are not in the tree",
)
pytestmark = needs_plate_reader

CAPTURED_AT = datetime(2026, 11, 28, 9, 30, 12, tzinfo=UTC)
PLATE = "6142MR06"
CORRECT_PLATE = "2718EH00"  # another registered vehicle
OFFICER = "officer-17"


def wait_for_review(stack: LocalStack) -> dict[str, Any]:
    """One frame of PLATE uploaded; a threshold no read reaches sends it to an officer."""
    upload = scene_upload(CAMERAS[0].camera_id, "F000321", CAPTURED_AT, [PLATE], seed=11,
                          violation_type=ViolationType.SPEEDING, measured_speed_kmh=91.0, speed_limit_kmh=60.0, lane=1)
    stack.upload_frame(upload.body, key=upload.key, metadata=upload.metadata, content_type=upload.content_type)
    (execution,) = stack.executions()
    stack.wait_until(lambda: stack.is_waiting_for_review(execution["executionArn"]), timeout=30,
                     what="the review wait")
    return execution


@pytest.fixture
def waiting(make_stack: Callable[..., LocalStack]) -> tuple[LocalStack, dict[str, Any]]:
    stack = make_stack(AutoIssueThreshold="1")
    return stack, wait_for_review(stack)


def review_id_of(stack: LocalStack) -> str:
    (review,) = table_items(stack, "ReviewsTable")
    return str(review["frame_id"])


def decide(stack: LocalStack, review_id: str, body: dict[str, Any], officer: str = OFFICER,
           language: str | None = None) -> Any:
    headers = {"Accept-Language": language} if language else None
    return stack.http("POST", f"/officer/reviews/{review_id}/decision", token=officer_token(officer), body=body,
                      headers=headers)


def test_an_officer_sees_the_pending_read_with_short_lived_pictures(waiting: tuple[LocalStack, Any]) -> None:
    stack, _ = waiting
    answer = stack.http("GET", "/officer/reviews", token=officer_token(OFFICER))
    assert answer.status == 200, answer.json()
    (review,) = answer.json()["reviews"]
    assert review["review_id"] == review_id_of(stack)
    assert review["camera_id"] == CAMERAS[0].camera_id and review["violation_type"] == "SPEEDING"
    assert review["measured_speed_kmh"] == 91.0
    assert 0 <= review["read"]["confidence"] <= 1 and review["read"]["text"]
    assert review["model_version"]
    for name in ("frame_url", "plate_crop_url"):
        url = urlparse(review[name])
        query = parse_qs(url.query)
        assert query["X-Amz-Expires"] == ["300"] and query["X-Amz-Signature"], name
    assert urlparse(review["frame_url"]).path.endswith("/F000321.jpg")
    assert "/reviews/" in urlparse(review["plate_crop_url"]).path
    # What the URLs point at: the frame as uploaded and a JPEG of the plate.
    s3, bucket = stack.client("s3"), stack.name("FramesBucket")
    crop_key = urlparse(review["plate_crop_url"]).path.split(f"/{bucket}/", 1)[-1].lstrip("/")
    assert s3.get_object(Bucket=bucket, Key=crop_key)["Body"].read()[:2] == b"\xff\xd8"


def test_citizens_and_strangers_are_refused(waiting: tuple[LocalStack, Any]) -> None:
    stack, _ = waiting
    review_id = review_id_of(stack)
    routes = [("GET", "/officer/reviews", None), ("POST", f"/officer/reviews/{review_id}/decision",
                                                   {"outcome": "CONFIRMED"})]
    for method, path, body in routes:
        # A citizen's Khidmati token is not the officers' pool's: the gateway refuses it.
        assert stack.http(method, path, token=citizen_token("1234567890"), body=body).status == 401, path
        assert stack.http(method, path, body=body).status == 401, path
        # A pool member outside the officers group reaches the function, which refuses it.
        outsider = stack.http(method, path, token=officer_token("clerk-3", groups=()), body=body)
        assert (outsider.status, outsider.json()["code"]) == (403, "NOT_AN_OFFICER"), path
    assert table_items(stack, "ReviewsTable")[0]["status"] == "PENDING"


def test_a_correction_resumes_the_execution_into_a_violation_by_the_officer(
        waiting: tuple[LocalStack, Any]) -> None:
    stack, execution = waiting
    review_id = review_id_of(stack)
    answer = decide(stack, review_id, {"outcome": "CORRECTED", "plate_text": "2718 EH 00"})
    assert answer.status == 200, answer.json()
    assert answer.json()["plate_text"] == CORRECT_PLATE and answer.json()["reviewer"] == OFFICER

    assert stack.wait_for_execution(execution["executionArn"])["status"] == "SUCCEEDED"
    (violation,) = table_items(stack, "ViolationsTable")
    assert violation["plate"] == CORRECT_PLATE and violation["read_source"] == "officer"
    assert violation["history"][0]["actor"] == f"officer:{OFFICER}"
    (review,) = table_items(stack, "ReviewsTable")
    assert (review["status"], review["reviewer"]) == ("DECIDED", OFFICER)

    again = decide(stack, review_id, {"outcome": "CONFIRMED"}, officer="officer-18")
    assert (again.status, again.json()["code"]) == (409, "REVIEW_ALREADY_DECIDED")
    assert len(table_items(stack, "ViolationsTable")) == 1


def test_a_discard_issues_nothing(waiting: tuple[LocalStack, Any]) -> None:
    stack, execution = waiting
    assert decide(stack, review_id_of(stack), {"outcome": "DISCARDED"}).status == 200
    assert stack.wait_for_execution(execution["executionArn"])["status"] == "SUCCEEDED"
    assert table_items(stack, "ViolationsTable") == []
    (frame,) = table_items(stack, "FramesTable")
    assert (frame["status"], frame["reviewer"]) == ("DISCARDED", OFFICER)


def test_a_bad_decision_is_refused_with_its_fields_and_changes_nothing(waiting: tuple[LocalStack, Any]) -> None:
    stack, _ = waiting
    review_id = review_id_of(stack)
    answer = decide(stack, review_id, {"outcome": "CORRECTED"}, language="fr")
    assert answer.status == 422
    body = answer.json()
    assert body["code"] == "VALIDATION_FAILED" and body["message"].startswith("Requête invalide")
    assert body["fields"]
    unknown = decide(stack, review_id, {"outcome": "MAYBE"})
    assert unknown.status == 422 and any(f["field"].endswith("outcome") for f in unknown.json()["fields"])
    missing = decide(stack, "NKC-TVZ-01-NOPE", {"outcome": "CONFIRMED"})
    assert (missing.status, missing.json()["code"]) == (404, "REVIEW_NOT_FOUND")
    assert table_items(stack, "ReviewsTable")[0]["status"] == "PENDING"


def test_a_review_nobody_decided_in_time_answers_expired(make_stack: Callable[..., LocalStack]) -> None:
    stack = make_stack(AutoIssueThreshold="1", ReviewTimeoutSeconds="1")
    upload = scene_upload(CAMERAS[0].camera_id, "F000322", CAPTURED_AT, [PLATE], seed=11,
                          violation_type=ViolationType.SPEEDING, measured_speed_kmh=91.0, speed_limit_kmh=60.0, lane=1)
    stack.upload_frame(upload.body, key=upload.key, metadata=upload.metadata, content_type=upload.content_type)
    (execution,) = stack.executions()
    assert stack.wait_for_execution(execution["executionArn"], timeout=30)["status"] == "SUCCEEDED"
    answer = decide(stack, review_id_of(stack), {"outcome": "CONFIRMED"})
    assert (answer.status, answer.json()["code"]) == (409, "REVIEW_EXPIRED")
    assert stack.http("GET", "/officer/reviews", token=officer_token(OFFICER)).json()["reviews"] == []


def test_a_decision_the_execution_stopped_waiting_for_answers_expired(waiting: tuple[LocalStack, Any]) -> None:
    from moto.core.exceptions import AWSError
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    class TaskTimedOut(AWSError):
        TYPE = "TaskTimedOut"
        STATUS = 400

    stack, _ = waiting
    # ReviewTimeoutSeconds ran out a moment ago: Step Functions refuses the token, and ExpireReview
    # has not yet closed the review.
    with mock.patch.object(StepFunctionsParserBackend, "send_task_success", side_effect=TaskTimedOut("Task Timed Out")):
        answer = decide(stack, review_id_of(stack), {"outcome": "CONFIRMED"})
    assert (answer.status, answer.json()["code"]) == (409, "REVIEW_EXPIRED")
    assert table_items(stack, "ReviewsTable")[0]["status"] == "EXPIRED"
    assert table_items(stack, "ViolationsTable") == []
