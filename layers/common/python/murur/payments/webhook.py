"""One webhook delivery, from raw request to answer: provider, size, signature, body, payment.

Every check comes before anything is written, in the order that reveals least: an unknown
provider (404), an oversized body (413, before it is hashed), the signature and its age (401), the
body's JSON and fields (400, 422); only then is the notice applied and recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from murur.payments.errors import PayloadTooLarge
from murur.payments.notice import PaymentNotice, Provider
from murur.payments.providers import parse_notice, provider_named
from murur.payments.service import PaymentResult
from murur.payments.signature import verify

# A notice is a few hundred bytes; 64 KiB leaves room for any provider's extra fields.
MAX_BODY_BYTES = 64 * 1024


class SecretSource(Protocol):
    def for_provider(self, provider: Provider) -> list[str]: ...


class PaymentSink(Protocol):
    def receive(self, notice: PaymentNotice) -> PaymentResult: ...


class WebhookReceiver:
    def __init__(self, secrets: SecretSource, payments: PaymentSink,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._secrets = secrets
        self._payments = payments
        self._clock = clock

    def authenticate(self, provider_name: str, signature_header: str | None, body: bytes) -> PaymentNotice:
        """The delivery's notice, once it is known to come from the provider; raises WebhookRefused."""
        provider = provider_named(provider_name)
        if len(body) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"the body is over {MAX_BODY_BYTES} bytes")
        verify(signature_header, body, self._secrets.for_provider(provider), self._clock())
        return parse_notice(provider, body)

    def receive(self, provider_name: str, signature_header: str | None, body: bytes) -> tuple[PaymentNotice,
                                                                                               PaymentResult]:
        notice = self.authenticate(provider_name, signature_header, body)
        return notice, self._payments.receive(notice)
