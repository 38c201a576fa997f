"""Who may call what: every JWT-protected route of the template, through the local gateway, for each
kind of caller. The gateway's authorizers answer 401 before any function runs; the functions answer
404 for another citizen's violation (never 403: no existence leak) and 403 for a pool user who is
not an officer."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from murur.lifecycle import ISSUE_ACTOR
from murur.local import LocalStack
from murur.local.gateway import NO_AUTHORIZER, Route, http_api_routes
from murur.local.identity import LOCAL_PARAMETERS, citizen_token, officer_token
from murur.local.seed import seed_registry
from murur.local.template import LocalTemplate, load_template

from .conftest import (
    OTHER_NNI,
    OTHER_VIOLATION,
    OWNER_NNI,
    OWNER_VIOLATIONS,
    make_violation,
    repository,
)

OBJECTED_TARGET = OWNER_VIOLATIONS[0]  # the owner objects to this one (once, in the matrix)
TARGET = OWNER_VIOLATIONS[1]  # every other {violation_id} route is called on this one
PROTECTED_ROUTES = [route for route in http_api_routes(LocalTemplate(load_template(), dict(LOCAL_PARAMETERS)))
                    if route.authorizer != NO_AUTHORIZER]
CALLERS = ["owner", "other_citizen", "officer", "pool_user_not_officer", "no_token", "expired_token",
           "wrong_audience"]

# Valid bodies for the routes whose bodies are known here; any other route gets {} (its own
# validation may then answer 422, which still shows the caller got past the authorizer).
BODIES: dict[str, Any] = {
    "POST /violations/{violation_id}/objection": {"reason": "PLATE_MISREAD", "details": "ce n'est pas ma voiture"},
    "POST /violations/{violation_id}/objection/attachments": {"content_type": "image/jpeg"},
    "POST /officer/objections/{violation_id}/ruling": {"decision": "CANCEL"},
    "POST /officer/reviews/{review_id}/decision": {"outcome": "DISCARDED"},
}


@pytest.fixture(scope="module")
def shared_stack() -> Iterator[LocalStack]:
    """One stack for the whole matrix: each case leaves the others' expectations true (only the owner
    can change the target, and only by objecting once)."""
    with LocalStack(log_level="WARNING") as stack:
        seed_registry(stack)
        violations = repository(stack)
        for violation_id in [*OWNER_VIOLATIONS]:
            violations.put_new(make_violation(violation_id, evidence_bucket=stack.name("EvidenceBucket")),
                               actor=ISSUE_ACTOR)
        violations.put_new(make_violation(OTHER_VIOLATION, plate="1907KN00", owner_nni=OTHER_NNI,
                                          evidence_bucket=stack.name("EvidenceBucket")), actor=ISSUE_ACTOR)
        yield stack


def token_for(caller: str, route: Route) -> str | None:
    officers = route.authorizer == "OfficerAuthorizer"
    past = int(time.time()) - 120

    def right_kind(**overrides: Any) -> str:
        return officer_token("officer-7", **overrides) if officers else citizen_token(OWNER_NNI, **overrides)

    return {
        "owner": lambda: citizen_token(OWNER_NNI),
        "other_citizen": lambda: citizen_token(OTHER_NNI),
        "officer": lambda: officer_token("officer-7"),
        "pool_user_not_officer": lambda: officer_token("clerk-2", groups=()),
        "no_token": lambda: None,
        "expired_token": lambda: right_kind(exp=past, iat=past - 3600, nbf=past - 3600),
        "wrong_audience": lambda: right_kind(aud="another-application"),
    }[caller]()


def target_of(route: Route) -> str:
    return OBJECTED_TARGET if route.route_key == "POST /violations/{violation_id}/objection" else TARGET


def path_of(route: Route) -> str:
    return route.path.replace("{violation_id}", target_of(route)).replace("{review_id}", "F-UNKNOWN-FRAME")


def expected(caller: str, route: Route) -> int | None:
    """The status the caller must get; None: anything but 401/403 (another engineer's route, past the
    authorizer, answering from its own state)."""
    if caller in {"no_token", "expired_token", "wrong_audience"}:
        return 401
    officers_route = route.authorizer == "OfficerAuthorizer"
    citizen = caller in {"owner", "other_citizen"}
    if officers_route:
        if citizen:
            return 401  # a Khidmati token is not from the officers' pool
        if caller == "pool_user_not_officer":
            return 403
        return {"GET /officer/objections": 200,
                "POST /officer/objections/{violation_id}/ruling": 404}.get(route.route_key)  # no objection on it
    if not citizen:
        return 401  # an officers' pool token is not Khidmati's
    if route.route_key == "GET /violations":
        return 200
    if caller == "other_citizen":
        return 404
    return {"GET /violations/{violation_id}": 200,
            "POST /violations/{violation_id}/objection": 201,
            "POST /violations/{violation_id}/objection/attachments": 201}[route.route_key]


def test_the_matrix_covers_every_protected_route_of_the_template() -> None:
    keys = {route.route_key for route in PROTECTED_ROUTES}
    assert {"GET /violations", "GET /violations/{violation_id}", "POST /violations/{violation_id}/objection",
            "POST /violations/{violation_id}/objection/attachments", "GET /officer/objections",
            "POST /officer/objections/{violation_id}/ruling"} <= keys
    assert len(keys) == len(PROTECTED_ROUTES)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("route", PROTECTED_ROUTES, ids=lambda route: route.route_key)
def test_each_caller_gets_what_its_token_allows(shared_stack: LocalStack, route: Route, caller: str) -> None:
    before = repository(shared_stack).get(target_of(route))
    response = shared_stack.http(route.method, path_of(route), token=token_for(caller, route),
                                 body=BODIES.get(route.route_key, {}) if route.method == "POST" else None)
    status = expected(caller, route)
    if status is None:
        assert response.status not in (401, 403), response.body
    else:
        assert response.status == status, response.body
    if response.status == 401:
        assert response.json() == {"message": "Unauthorized"}
    elif response.status == 403:
        assert response.json()["code"] == "NOT_AN_OFFICER"
    elif response.status == 404:
        assert response.json()["code"].endswith("_NOT_FOUND")
    if not (caller == "owner" and route.route_key == "POST /violations/{violation_id}/objection"):
        # Nobody else changes the owner's violation, whatever they send.
        assert repository(shared_stack).get(target_of(route)) == before


def test_another_citizens_violation_answers_exactly_as_one_that_does_not_exist(shared_stack: LocalStack) -> None:
    token = citizen_token(OTHER_NNI)
    theirs = shared_stack.http("GET", f"/violations/{TARGET}", token=token, headers={"Accept-Language": "fr"})
    missing = shared_stack.http("GET", "/violations/MR26-ZZZZZZZZZZ", token=token, headers={"Accept-Language": "fr"})
    assert (theirs.status, theirs.json()) == (missing.status, missing.json()) == (
        404, {"code": "VIOLATION_NOT_FOUND", "message": "Infraction introuvable."})


def test_each_citizen_lists_only_their_own_violations(shared_stack: LocalStack) -> None:
    owner = shared_stack.http("GET", "/violations", token=citizen_token(OWNER_NNI)).json()
    other = shared_stack.http("GET", "/violations", token=citizen_token(OTHER_NNI)).json()
    assert {v["violation_id"] for v in owner["violations"]} == set(OWNER_VIOLATIONS)
    assert [v["violation_id"] for v in other["violations"]] == [OTHER_VIOLATION]


def test_the_nni_comes_from_the_token_never_from_the_request(shared_stack: LocalStack) -> None:
    response = shared_stack.http("GET", f"/violations?nni={OWNER_NNI}&owner_nni={OWNER_NNI}",
                                 token=citizen_token(OTHER_NNI),
                                 headers={"X-Nni": OWNER_NNI})
    assert response.status == 200
    assert [v["violation_id"] for v in response.json()["violations"]] == [OTHER_VIOLATION]


def test_a_token_signed_with_another_key_is_refused(shared_stack: LocalStack) -> None:
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    genuine = jwt.decode(citizen_token(OWNER_NNI), options={"verify_signature": False})
    forged = jwt.encode(genuine, rsa.generate_private_key(public_exponent=65537, key_size=2048), algorithm="RS256")
    assert shared_stack.http("GET", "/violations", token=forged).status == 401
    unsigned = jwt.encode(genuine, key=None, algorithm="none")
    assert shared_stack.http("GET", "/violations", token=unsigned).status == 401


def test_a_khidmati_token_without_an_nni_is_forbidden(shared_stack: LocalStack) -> None:
    import jwt

    from murur.local.identity import sign

    claims = jwt.decode(citizen_token(OWNER_NNI), options={"verify_signature": False})
    del claims["nni"]
    response = shared_stack.http("GET", "/violations", token=sign(claims))
    assert response.status == 403
    assert response.json()["code"] == "NOT_A_CITIZEN"


def test_a_pool_user_outside_the_group_learns_nothing_of_an_officers_body(shared_stack: LocalStack) -> None:
    """The group is checked before request validation: no 422 with the route's field names."""
    clerk = officer_token("clerk-2", groups=())
    for route in [r for r in PROTECTED_ROUTES if r.authorizer == "OfficerAuthorizer" and r.method == "POST"]:
        response = shared_stack.http("POST", path_of(route), token=clerk, body={"unexpected": True},
                                     headers={"Accept-Language": "fr"})
        assert (response.status, response.json()) == (403, {
            "code": "NOT_AN_OFFICER", "message": "Ce service est réservé aux agents de police."}), route.route_key

