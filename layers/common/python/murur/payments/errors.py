"""Why a webhook delivery is refused: an HTTP status and a machine-readable code the provider can act on.

A refused delivery changes nothing; the provider may send it again once the cause is fixed (the
codes and what each asks of the provider are in docs/WALLET_WEBHOOKS.md). Messages never quote
the body: it holds the payer's phone number.
"""

from __future__ import annotations

from typing import Any


class WebhookRefused(Exception):
    status: int = 400
    code: str = "BAD_REQUEST"

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class UnknownProvider(WebhookRefused):
    status, code = 404, "UNKNOWN_PROVIDER"


class PayloadTooLarge(WebhookRefused):
    status, code = 413, "PAYLOAD_TOO_LARGE"


class SignatureMissing(WebhookRefused):
    status, code = 401, "SIGNATURE_MISSING"


class SignatureInvalid(WebhookRefused):
    status, code = 401, "SIGNATURE_INVALID"


class TimestampOutOfTolerance(WebhookRefused):
    status, code = 401, "TIMESTAMP_OUT_OF_TOLERANCE"


class MalformedJson(WebhookRefused):
    status, code = 400, "MALFORMED_JSON"


class InvalidNotice(WebhookRefused):
    status, code = 422, "INVALID_NOTICE"


class TransactionMismatch(WebhookRefused):
    """The transaction id was seen before with another reference or amount: never applied twice, never merged."""

    status, code = 409, "TRANSACTION_MISMATCH"


class PaymentInProgress(WebhookRefused):
    """The same transaction is being handled right now (a concurrent delivery): send it again shortly."""

    status, code = 409, "PAYMENT_IN_PROGRESS"


class WebhookNotConfigured(WebhookRefused):
    """No signing secret is set for this provider: our fault, so a 5xx the provider retries."""

    status, code = 503, "WEBHOOK_NOT_CONFIGURED"
