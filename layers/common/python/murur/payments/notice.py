"""What a wallet tells us about one payment, whichever wallet it is: the PaymentNotice.

Each provider's adapter (murur.payments.providers) maps its own webhook body to this model; from
here on nothing depends on the provider's format.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

# A provider's transaction id goes into keys and logs: printable ASCII without separators or spaces.
TransactionId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64,
                                                 pattern=r"^[A-Za-z0-9._:-]+$")]

_E164 = re.compile(r"^\+[1-9]\d{7,14}$")


class Provider(StrEnum):
    """The wallets whose webhooks are accepted; the value is the `{provider}` of the webhook's path."""

    BANKILY = "bankily"
    MASRVI = "masrvi"
    SEDAD = "sedad"


def mauritanian_e164(number: str) -> str:
    """A payer's number as E.164. Wallets send Mauritanian numbers as 8 local digits, as 222 + 8
    digits, or already as +222...; anything else must already be E.164."""
    digits = re.sub(r"[\s().-]", "", number)
    if re.fullmatch(r"\d{8}", digits):
        return f"+222{digits}"
    if re.fullmatch(r"(00)?222\d{8}", digits):
        return f"+{digits.removeprefix('00')}"
    return digits


def _e164(number: str) -> str:
    if not _E164.match(number):
        raise ValueError("the payer's phone number is not in E.164 form")
    return number


def normalise_reference(text: str) -> str:
    """The violation reference as the payer typed it in the wallet, made comparable: upper case, no spaces.

    Not checked against the reference format: a payment that names no existing violation is still a
    payment, recorded as UNKNOWN_REFERENCE for reconciliation (and a refund), never refused.
    """
    return "".join(text.split()).upper()


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


class PaymentNotice(BaseModel):
    """One payment as the wallet reports it. Amount in whole MRU, time UTC, payer phone E.164."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: Provider
    provider_transaction_id: TransactionId
    violation_reference: Annotated[str, StringConstraints(min_length=1, max_length=64),
                                   AfterValidator(normalise_reference)]
    amount_mru: int = Field(gt=0, le=100_000_000)
    paid_at: Annotated[AwareDatetime, AfterValidator(_utc)]
    payer_phone: Annotated[str, AfterValidator(_e164)]

    @property
    def payment_id(self) -> str:
        """The payment's key everywhere (PaymentsTable, idempotency, the violation's payment_id)."""
        return payment_id_for(self.provider, self.provider_transaction_id)


def payment_id_for(provider: Provider | str, provider_transaction_id: str) -> str:
    return f"{Provider(provider).value}:{provider_transaction_id}"


class PaymentOutcome(StrEnum):
    """What became of a notice; every notice is recorded with one. Only APPLIED changes a violation."""

    APPLIED = "APPLIED"  # the violation is now PAID by this payment
    WRONG_AMOUNT = "WRONG_AMOUNT"  # not the amount due (the fine, or the fine with its overdue surcharge)
    UNKNOWN_REFERENCE = "UNKNOWN_REFERENCE"  # no violation has this reference
    ALREADY_PAID = "ALREADY_PAID"  # the violation was paid, by another payment
    NOT_PAYABLE = "NOT_PAYABLE"  # objected (payment suspended) or cancelled


UNMATCHED: frozenset[PaymentOutcome] = frozenset(set(PaymentOutcome) - {PaymentOutcome.APPLIED})
