"""One adapter per wallet: its webhook body (a pydantic model) mapped to a PaymentNotice.

The wallets publish no common webhook format, so each body below is the one agreed with that
provider and documented in docs/WALLET_WEBHOOKS.md. Adding a provider: a `Provider` member, a body
model with `to_notice()`, an entry in ADAPTERS, its secret in the webhook secret, a section in the
document; the route, signature, idempotency and reconciliation need nothing more.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal, Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from murur.payments.errors import InvalidNotice, MalformedJson, UnknownProvider
from murur.payments.notice import PaymentNotice, Provider, mauritanian_e164


class ProviderBody(Protocol):
    def to_notice(self) -> PaymentNotice: ...


class _Body(BaseModel):
    # Providers add fields over time: unknown ones are ignored, the ones we use are strict.
    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)


class BankilyPayer(_Body):
    msisdn: str = Field(min_length=8, max_length=20)


class BankilyBody(_Body):
    """{"transactionId", "reference", "amount": integer MRU, "currency": "MRU", "paidAt": ISO 8601,
    "payer": {"msisdn": "222XXXXXXXX"}}"""

    transaction_id: str = Field(alias="transactionId")
    reference: str
    amount: int = Field(strict=True)
    currency: Literal["MRU"]
    paid_at: AwareDatetime = Field(alias="paidAt")
    payer: BankilyPayer

    def to_notice(self) -> PaymentNotice:
        return PaymentNotice(provider=Provider.BANKILY, provider_transaction_id=self.transaction_id,
                             violation_reference=self.reference, amount_mru=self.amount, paid_at=self.paid_at,
                             payer_phone=mauritanian_e164(self.payer.msisdn))


class MasrviBody(_Body):
    """{"txn_ref", "merchant_ref", "amount_mru": whole MRU as a string of digits, "timestamp": unix
    seconds, "customer_phone": 8 local digits}"""

    txn_ref: str
    merchant_ref: str
    amount_mru: str = Field(pattern=r"^[0-9]{1,9}$")
    timestamp: int = Field(strict=True, gt=0, lt=10_000_000_000)
    customer_phone: str = Field(min_length=8, max_length=20)

    def to_notice(self) -> PaymentNotice:
        return PaymentNotice(provider=Provider.MASRVI, provider_transaction_id=self.txn_ref,
                             violation_reference=self.merchant_ref, amount_mru=int(self.amount_mru),
                             paid_at=datetime.fromtimestamp(self.timestamp, UTC),
                             payer_phone=mauritanian_e164(self.customer_phone))


class SedadBody(_Body):
    """{"operation_id", "invoice_number", "total": decimal string with at most 2 places, whole MRU,
    "currency": "MRU", "operation_date": ISO 8601 with offset, "phone": E.164}"""

    operation_id: str
    invoice_number: str
    total: Decimal = Field(max_digits=12, decimal_places=2)
    currency: Literal["MRU"]
    operation_date: AwareDatetime
    phone: str = Field(min_length=8, max_length=20)

    @field_validator("total", mode="before")
    @classmethod
    def _decimal_string(cls, value: Any) -> Any:
        # A JSON number would arrive as a float and could round; Sedad sends amounts as strings.
        if not isinstance(value, str):
            raise ValueError("total must be a decimal string, e.g. \"4000.00\"")
        return value

    @field_validator("total")
    @classmethod
    def _whole_mru(cls, value: Decimal) -> Decimal:
        if value != value.to_integral_value():
            raise ValueError("fines are in whole MRU: total must have no fraction")
        return value

    def to_notice(self) -> PaymentNotice:
        return PaymentNotice(provider=Provider.SEDAD, provider_transaction_id=self.operation_id,
                             violation_reference=self.invoice_number, amount_mru=int(self.total),
                             paid_at=self.operation_date, payer_phone=mauritanian_e164(self.phone))


ADAPTERS: dict[Provider, type[BankilyBody] | type[MasrviBody] | type[SedadBody]] = {
    Provider.BANKILY: BankilyBody,
    Provider.MASRVI: MasrviBody,
    Provider.SEDAD: SedadBody,
}


def provider_named(name: str) -> Provider:
    try:
        return Provider(name)
    except ValueError:
        raise UnknownProvider("no wallet provider has this name") from None


def parse_notice(provider: Provider, body: bytes) -> PaymentNotice:
    """The provider's body as a PaymentNotice; MalformedJson or InvalidNotice (fields named, values never shown)."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise MalformedJson("the body is not JSON") from None
    if not isinstance(document, dict):
        raise MalformedJson("the body must be a JSON object")
    try:
        return ADAPTERS[provider].model_validate(document).to_notice()
    except ValidationError as error:
        # Field names and pydantic's error type only: the input values include the payer's number.
        details = [{"field": ".".join(str(part) for part in e["loc"]) or "body", "type": e["type"]}
                   for e in error.errors(include_url=False, include_input=False, include_context=False)]
        raise InvalidNotice(f"the {provider.value} notice has invalid or missing fields", details=details) from None
