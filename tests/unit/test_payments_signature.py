"""The webhook signature in isolation: HMAC-SHA256 over "<t>.<body>", tolerance, rotation."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from murur.payments.errors import SignatureInvalid, SignatureMissing, TimestampOutOfTolerance
from murur.payments.signature import TOLERANCE, parse_header, sign, signature_header, verify

SECRET = "s" * 40
OTHER = "o" * 40
BODY = b'{"transactionId":"BK-1","amount":2000}'
NOW = datetime(2026, 11, 29, 7, 0, tzinfo=UTC)
T = int(NOW.timestamp())


def test_sign_is_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, T, BODY) == expected
    assert signature_header(SECRET, BODY, T) == f"t={T},v1={expected}"


def test_a_correctly_signed_fresh_delivery_is_accepted() -> None:
    assert verify(signature_header(SECRET, BODY, T), BODY, [SECRET], NOW) == T


@pytest.mark.parametrize("header", [None, "", "v1=abc", f"t={T}", "t=soon,v1=abc", "garbage"])
def test_a_missing_or_unusable_header_is_signature_missing(header: str | None) -> None:
    with pytest.raises(SignatureMissing):
        verify(header, BODY, [SECRET], NOW)


def test_a_wrong_secret_a_changed_body_or_a_changed_timestamp_is_invalid() -> None:
    with pytest.raises(SignatureInvalid):
        verify(signature_header(OTHER, BODY, T), BODY, [SECRET], NOW)
    with pytest.raises(SignatureInvalid):
        verify(signature_header(SECRET, BODY, T), BODY.replace(b"2000", b"20"), [SECRET], NOW)
    # The signature of another moment cannot be moved to a fresh timestamp.
    old = sign(SECRET, T - 3600, BODY)
    with pytest.raises(SignatureInvalid):
        verify(f"t={T},v1={old}", BODY, [SECRET], NOW)


def test_a_genuine_but_stale_or_future_delivery_is_out_of_tolerance() -> None:
    limit = int(TOLERANCE.total_seconds())
    assert verify(signature_header(SECRET, BODY, T - limit), BODY, [SECRET], NOW) == T - limit
    with pytest.raises(TimestampOutOfTolerance):
        verify(signature_header(SECRET, BODY, T - limit - 1), BODY, [SECRET], NOW)
    with pytest.raises(TimestampOutOfTolerance):
        verify(signature_header(SECRET, BODY, T + limit + 1), BODY, [SECRET], NOW)


def test_a_forged_stale_delivery_is_told_only_that_its_signature_is_invalid() -> None:
    stale = T - 3600
    with pytest.raises(SignatureInvalid):
        verify(signature_header(OTHER, BODY, stale), BODY, [SECRET], NOW)


def test_rotation_any_listed_secret_and_any_listed_signature_matches() -> None:
    assert verify(signature_header(OTHER, BODY, T), BODY, [SECRET, OTHER], NOW) == T
    both = f"t={T},v1={sign(OTHER, T, BODY)},v1={sign(SECRET, T, BODY)}"
    assert verify(both, BODY, [SECRET], NOW) == T


def test_the_header_is_parsed_leniently_about_spaces_and_case() -> None:
    signature = sign(SECRET, T, BODY)
    assert parse_header(f" t={T} , v1={signature.upper()} ") == (T, [signature])
    assert verify(f"t={T}, v1={signature.upper()}", BODY, [SECRET], NOW + timedelta(seconds=1)) == T
