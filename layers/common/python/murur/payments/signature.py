"""The webhook signature: `Murur-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`.

The HMAC is computed with the provider's secret over `"<t>.<raw body>"`, the scheme payment
processors use (the timestamp is signed, so a captured delivery cannot be replayed with a new
one). Several `v1=` entries are allowed (a provider signing with old and new secret during a
rotation), and several secrets are accepted on our side for the same reason. Written with hmac and
hashlib: no maintained library implements this generic scheme outside one vendor's SDK.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from murur.payments.errors import SignatureInvalid, SignatureMissing, TimestampOutOfTolerance

SIGNATURE_HEADER = "Murur-Signature"
SCHEME = "v1"
# Long enough for a provider's clock drift and queueing, short enough that a captured delivery is
# useless soon after.
TOLERANCE = timedelta(minutes=5)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of `"<timestamp>.<body>"`."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value a provider sends (used by the local stack, the tests and the demo)."""
    moment = int(datetime.now(UTC).timestamp()) if timestamp is None else timestamp
    return f"t={moment},{SCHEME}={sign(secret, moment, body)}"


def parse_header(value: str | None) -> tuple[int, list[str]]:
    """(timestamp, candidate signatures); SignatureMissing when the header is absent or unusable."""
    if not value:
        raise SignatureMissing(f"the {SIGNATURE_HEADER} header is missing")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in value.split(","):
        name, _, item = part.strip().partition("=")
        if name == "t" and item.isdigit() and len(item) <= 12:
            timestamp = int(item)
        elif name == SCHEME and item:
            signatures.append(item.lower())
    if timestamp is None or not signatures:
        raise SignatureMissing(f"the {SIGNATURE_HEADER} header needs t=<unix seconds> and {SCHEME}=<hex>")
    return timestamp, signatures


def verify(header: str | None, body: bytes, secrets: Sequence[str], now: datetime,
           tolerance: timedelta = TOLERANCE) -> int:
    """Check a delivery's signature, then its age; the signed timestamp when both hold.

    The signature is checked first, so only a genuinely signed delivery learns that it is stale
    (TimestampOutOfTolerance); anything else is SignatureInvalid. Every comparison is constant-time.
    """
    timestamp, candidates = parse_header(header)
    expected = [sign(secret, timestamp, body) for secret in secrets]
    # Compare every pair, without stopping at the first match: the time taken tells nothing.
    matched = False
    for signature in candidates:
        for computed in expected:
            matched |= hmac.compare_digest(signature.encode(), computed.encode())
    if not matched:
        raise SignatureInvalid("the signature does not match the body")
    if abs(now.timestamp() - timestamp) > tolerance.total_seconds():
        raise TimestampOutOfTolerance(
            f"the signed timestamp is more than {int(tolerance.total_seconds())} s from our clock")
    return timestamp
