"""The local stand-ins for Khidmati's identity provider and the officers' Cognito pool: one key pair.

Tokens are RS256 JWTs, as both issue. The key pair is made once per process, so tokens minted here
are accepted by the local gateway (murur.local.gateway) of the same process and by nothing else.
Locally the template parameter KhidmatiIssuer points at LOCAL_KHIDMATI_ISSUER (LocalStack sets it);
the officers' issuer and audience are the template's own (the local pool's name and client).

    stack.http("GET", "/violations", token=citizen_token("1234567890"))
    stack.http("GET", "/officer/objections", token=officer_token("officer-7"))
"""

from __future__ import annotations

import time
import uuid
from functools import cache
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

LOCAL_KHIDMATI_ISSUER = "https://auth.khidmati.local"
# Template parameters the local stack binds unless told otherwise.
LOCAL_PARAMETERS = {"KhidmatiIssuer": LOCAL_KHIDMATI_ISSUER}
KEY_ID = "murur-local"
TOKEN_SECONDS = 3600


@cache
def _private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_key() -> rsa.RSAPublicKey:
    return _private_key().public_key()


@cache
def _authorizers() -> dict[str, Any]:
    from murur.local.gateway import jwt_authorizers
    from murur.local.template import LocalTemplate, load_template

    return jwt_authorizers(LocalTemplate(load_template(), dict(LOCAL_PARAMETERS)))


def sign(claims: dict[str, Any]) -> str:
    """Any claims, signed with the local key (for tests of what the gateway refuses)."""
    return jwt.encode(claims, _private_key(), algorithm="RS256", headers={"kid": KEY_ID})


def _token(base: dict[str, Any], overrides: dict[str, Any]) -> str:
    """`overrides` replace claims; an override of None removes the claim."""
    now = int(time.time())
    claims = {"iat": now, "nbf": now, "exp": now + TOKEN_SECONDS, "jti": str(uuid.uuid4()), **base}
    for name, value in overrides.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return sign(claims)


def citizen_token(nni: str, **overrides: Any) -> str:
    """A Khidmati token for the citizen with this NNI, as Khidmati sends it on the citizen's behalf."""
    khidmati = _authorizers()["KhidmatiAuthorizer"]
    return _token({"iss": khidmati.issuer, "aud": khidmati.audiences[0], "sub": f"citizen-{nni}", "nni": nni},
                  overrides)


def officer_token(officer_id: str, groups: tuple[str, ...] = ("officers",), **overrides: Any) -> str:
    """An ID token of the officers' pool for this officer (cognito:username), in `groups`."""
    officers = _authorizers()["OfficerAuthorizer"]
    base: dict[str, Any] = {"iss": officers.issuer, "aud": officers.audiences[0], "sub": str(uuid.uuid5(
        uuid.NAMESPACE_URL, officer_id)), "cognito:username": officer_id, "token_use": "id"}
    if groups:
        base["cognito:groups"] = list(groups)
    return _token(base, overrides)
