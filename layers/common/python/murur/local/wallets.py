"""The wallet providers, played locally: their signing secrets and signed deliveries.

The template creates the webhook secret empty (operators set it in a deployment); the local stack
sets it to LOCAL_WEBHOOK_SECRETS, which the tests, the demo and the benchmark sign with. They are
test values, public in this repository, and never used anywhere else.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from murur.payments.notice import Provider
from murur.payments.signature import SIGNATURE_HEADER, signature_header

LOCAL_WEBHOOK_SECRETS: dict[str, list[str]] = {
    Provider.BANKILY.value: ["local-bankily-webhook-secret-0123456789abcdef"],
    # Two secrets, as during a rotation: both are accepted.
    Provider.MASRVI.value: ["local-masrvi-webhook-secret-0123456789abcdef",
                            "local-masrvi-previous-secret-0123456789abcdef"],
    Provider.SEDAD.value: ["local-sedad-webhook-secret-0123456789abcdef"],
}
# What the local stack stores in each secret the template declares, by logical id.
LOCAL_SECRET_STRINGS: dict[str, str] = {"WalletWebhookSecrets": json.dumps(LOCAL_WEBHOOK_SECRETS)}


def webhook_path(provider: Provider | str) -> str:
    return f"/payments/{provider}/webhook"


def signed_delivery(provider: Provider | str, payload: dict[str, Any] | bytes, *, secret: str | None = None,
                    at: datetime | None = None) -> tuple[dict[str, str], bytes]:
    """(headers, body) of a delivery as the provider sends it, signed with its local secret (or `secret`)."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    key = secret if secret is not None else LOCAL_WEBHOOK_SECRETS[str(Provider(provider).value)][0]
    moment = at or datetime.now(UTC)
    return ({SIGNATURE_HEADER: signature_header(key, body, int(moment.timestamp())),
             "Content-Type": "application/json"}, body)


def provider_payload(provider: Provider | str, *, transaction_id: str, reference: str, amount_mru: int,
                     paid_at: datetime, phone_local: str) -> dict[str, Any]:
    """A payment notice in the provider's own format (docs/WALLET_WEBHOOKS.md); `phone_local`: 8 digits."""
    provider = Provider(provider)
    if provider is Provider.BANKILY:
        return {"transactionId": transaction_id, "reference": reference, "amount": amount_mru, "currency": "MRU",
                "paidAt": paid_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                "payer": {"msisdn": f"222{phone_local}"}}
    if provider is Provider.MASRVI:
        return {"txn_ref": transaction_id, "merchant_ref": reference, "amount_mru": str(amount_mru),
                "timestamp": int(paid_at.timestamp()), "customer_phone": phone_local}
    return {"operation_id": transaction_id, "invoice_number": reference, "total": f"{amount_mru}.00",
            "currency": "MRU", "operation_date": paid_at.isoformat(), "phone": f"+222{phone_local}"}
