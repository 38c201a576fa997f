"""Who is calling: read from the claims API Gateway's JWT authorizer has already verified.

The gateway refuses a request whose token is missing, expired, badly signed, or from another issuer
or audience (401) before the function runs; what reaches here is trusted. The citizen's NNI comes
from the token and never from the request's path, query or body.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from murur.api.errors import NotAnOfficer, NotACitizen
from murur.lifecycle import officer_actor

OFFICERS_GROUP = "officers"
NNI_CLAIM = "nni"
GROUPS_CLAIM = "cognito:groups"


@dataclass(frozen=True)
class Citizen:
    nni: str

    def __repr__(self) -> str:  # never print the NNI by accident (logs, tracebacks)
        return "Citizen(nni=***)"


@dataclass(frozen=True)
class Officer:
    officer_id: str

    @property
    def actor(self) -> str:
        return officer_actor(self.officer_id)


def _claims(event: APIGatewayProxyEventV2) -> dict[str, Any]:
    authorizer = event.request_context.authorizer
    claims = authorizer.jwt_claim if authorizer is not None else None
    return dict(claims or {})


def _groups(value: Any) -> set[str]:
    """cognito:groups as API Gateway passes it: a list, or its text form "[a b]" / "a,b"."""
    if isinstance(value, (list, tuple)):
        return {str(group) for group in value}
    if isinstance(value, str):
        return {group for group in value.strip("[]").replace(",", " ").split() if group}
    return set()


def citizen_from(event: APIGatewayProxyEventV2) -> Citizen:
    nni = _claims(event).get(NNI_CLAIM)
    if not isinstance(nni, str) or not nni.strip():
        raise NotACitizen("the token carries no nni claim")
    return Citizen(nni=nni.strip())


def officer_from(event: APIGatewayProxyEventV2) -> Officer:
    claims = _claims(event)
    if OFFICERS_GROUP not in _groups(claims.get(GROUPS_CLAIM)):
        raise NotAnOfficer("the token is not in the officers group")
    officer_id = claims.get("cognito:username") or claims.get("username") or claims.get("sub")
    if not officer_id:
        raise NotAnOfficer("the token names no officer")
    return Officer(officer_id=str(officer_id))
