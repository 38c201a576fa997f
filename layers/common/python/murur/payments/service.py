"""Applying a wallet payment exactly once, and recording every notice for reconciliation.

Three guards, each enough for its own failure:

* Powertools idempotency (IdempotencyTable), keyed on provider + transaction id: a redelivery, or
  any number of concurrent identical deliveries, runs the work once; the others get the stored
  answer, or PaymentInProgress (409, "send it again") while the first is still running. The
  payload (reference, amount, time) is validated too: the same transaction id with another
  payment in it is refused (TransactionMismatch), never merged.
* PaymentsTable's conditional put: one record per transaction, forever (the idempotency record
  expires), so a delivery weeks later still gets the first answer and changes nothing.
* The violation's conditional transition to PAID (murur.violations), which also sets `payment_id`
  once: of two payments for one violation only one is applied; the other is ALREADY_PAID. A
  retry after a crash recognises its own payment by that `payment_id` and finishes the work.

The receipt is claimed on the payment record before it is sent, so it goes out at most once; a
crash between the claim and the SMS loses that receipt, not the payment (the wallet has already
confirmed the payment to its user, and the portal shows it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer
from pydantic import AwareDatetime, BaseModel, ConfigDict

from murur.errors import SmsPublishFailed, TransientError, TransitionRefused
from murur.lifecycle import ViolationStatus, is_allowed
from murur.notifications import PortalEvents, SmsGateway, sms_status_for
from murur.payments.errors import PaymentInProgress, TransactionMismatch
from murur.payments.notice import PaymentNotice, PaymentOutcome, Provider
from murur.payments.receipts import ReceiptFacts, render_receipt
from murur.payments.repository import PaymentRecord, PaymentsRepository
from murur.registry import VehicleRegistry
from murur.violations import SmsStatus, Violation, ViolationsRepository

# Providers retry for up to three days; past the idempotency record, PaymentsTable still answers.
IDEMPOTENCY_EXPIRY = timedelta(days=7)
# A violation changed between our read and our write (an objection filed at that moment): decide again.
_DECISION_ATTEMPTS = 3


def wallet_actor(provider: Provider) -> str:
    """Who made the violation PAID, in its history."""
    return f"wallet:{provider.value}"


class PaymentResult(BaseModel):
    """The webhook's answer for an accepted notice (HTTP 200), the same for every delivery of it."""

    model_config = ConfigDict(frozen=True)

    payment_id: str
    outcome: PaymentOutcome
    violation_reference: str
    amount_mru: int
    amount_due_mru: int | None  # what the violation asked for when the notice was decided
    recorded_at: AwareDatetime

    @classmethod
    def of(cls, record: PaymentRecord) -> "PaymentResult":
        return cls(payment_id=record.payment_id, outcome=record.outcome,
                   violation_reference=record.violation_reference, amount_mru=record.amount_mru,
                   amount_due_mru=record.amount_due_mru, recorded_at=record.received_at)


def decide(violation: Violation | None, notice: PaymentNotice) -> PaymentOutcome:
    """What this notice does to this violation (pure). APPLIED for a violation already PAID by this
    very payment: a retry finishing its own work."""
    if violation is None:
        return PaymentOutcome.UNKNOWN_REFERENCE
    if violation.status is ViolationStatus.PAID:
        return PaymentOutcome.APPLIED if violation.payment_id == notice.payment_id else PaymentOutcome.ALREADY_PAID
    if not is_allowed(violation.status, ViolationStatus.PAID):
        return PaymentOutcome.NOT_PAYABLE  # objected (suspended until the ruling) or cancelled
    if notice.amount_mru != violation.payable_mru:
        return PaymentOutcome.WRONG_AMOUNT
    return PaymentOutcome.APPLIED


class PaymentService:
    def __init__(
        self,
        violations: ViolationsRepository,
        payments: PaymentsRepository,
        registry: VehicleRegistry,
        sms: SmsGateway,
        portal: PortalEvents,
        portal_base_url: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._violations = violations
        self._payments = payments
        self._registry = registry
        self._sms = sms
        self._portal = portal
        self._portal_base_url = portal_base_url
        self._clock = clock

    def receive(self, notice: PaymentNotice) -> PaymentResult:
        """Decide, apply and record one notice; safe to run again for the same notice at any time."""
        recorded = self._payments.get(notice.payment_id)
        if recorded is not None:
            return self._answer_recorded(recorded, notice)
        for _ in range(_DECISION_ATTEMPTS):
            violation = self._violation(notice.violation_reference)
            outcome = decide(violation, notice)
            if outcome is not PaymentOutcome.APPLIED or violation is None or violation.status is ViolationStatus.PAID:
                break
            try:
                self._violations.transition(
                    violation.violation_id, ViolationStatus.PAID, actor=wallet_actor(notice.provider),
                    at=self._clock(), reason=f"payment {notice.payment_id}", expected=violation.status,
                    set_once={"payment_id": notice.payment_id, "paid_at": notice.paid_at})
                break
            except TransitionRefused:
                continue
        else:
            raise TransientError("the violation kept changing while the payment was decided")
        record = PaymentRecord.of(notice, outcome=outcome, received_at=self._clock(),
                                  violation_status=violation.status.value if violation else None,
                                  amount_due_mru=violation.payable_mru if violation else None)
        if not self._payments.put_new(record):
            stored = self._payments.get(notice.payment_id)
            if stored is None:
                raise TransientError("the payment record was neither written nor readable")
            return self._answer_recorded(stored, notice)
        if outcome is PaymentOutcome.APPLIED and violation is not None:
            self._acknowledge(record, violation)
        return PaymentResult.of(record)

    def _violation(self, reference: str) -> Violation | None:
        return self._violations.get(reference) if reference else None

    def _answer_recorded(self, recorded: PaymentRecord, notice: PaymentNotice) -> PaymentResult:
        if not recorded.matches(notice):
            raise TransactionMismatch("this transaction id was already received with another reference, "
                                      "amount or time")
        if recorded.outcome is PaymentOutcome.APPLIED and recorded.receipt_claimed_at is None:
            # An earlier delivery stopped between the record and the receipt: finish it.
            violation = self._violation(recorded.violation_reference)
            if violation is not None:
                self._acknowledge(recorded, violation)
        return PaymentResult.of(recorded)

    def _acknowledge(self, record: PaymentRecord, violation: Violation) -> None:
        """The portal event, then the payer's receipt (claimed first, so sent at most once)."""
        self._portal.payment_received(violation, payment_id=record.payment_id, provider=record.provider.value,
                                      amount_mru=record.amount_mru, paid_at=record.paid_at)
        sms_status = sms_status_for(record.payer_phone)
        receipt = None
        if sms_status is SmsStatus.SENT:
            receipt = render_receipt(ReceiptFacts(
                reference=violation.violation_id, provider=record.provider,
                provider_transaction_id=record.provider_transaction_id, amount_mru=record.amount_mru,
                paid_at=record.paid_at, portal_url=self._portal_base_url), self._language(violation))
        if not self._payments.claim_receipt(record.payment_id, at=self._clock(), sms_status=sms_status):
            return
        if receipt is not None:
            try:
                message_id = self._sms.send(record.payer_phone, receipt.text)
            except SmsPublishFailed as error:
                # The payment stands; the report lists the receipt as failed (the code only, no number).
                self._payments.record_receipt_failed(record.payment_id, str(error))
                return
            self._payments.record_receipt_sent(record.payment_id, message_id)

    def _language(self, violation: Violation) -> str | None:
        """The language the owner was told in, else the registry's."""
        if violation.language:
            return violation.language
        owner = self._registry.lookup(violation.plate)
        return owner.language if owner else None


class ExactlyOncePayments:
    """PaymentService.receive behind Powertools idempotency (IdempotencyTable), keyed on the payment."""

    def __init__(self, service: PaymentService, dynamodb: Any, idempotency_table: str,
                 expires_after: timedelta = IDEMPOTENCY_EXPIRY) -> None:
        self._config = IdempotencyConfig(
            event_key_jmespath="[provider, provider_transaction_id]",
            payload_validation_jmespath="[violation_reference, amount_mru, paid_at]",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=int(expires_after.total_seconds()),
        )
        self._receive = idempotent_function(
            service.receive, data_keyword_argument="notice",
            persistence_store=DynamoDBPersistenceLayer(table_name=idempotency_table, boto3_client=dynamodb),
            config=self._config, output_serializer=PydanticSerializer(PaymentResult), key_prefix="payment")

    def register_lambda_context(self, context: Any) -> None:
        """An interrupted run's lock lasts until the Lambda would have timed out, not the whole expiry."""
        self._config.register_lambda_context(context)

    def receive(self, notice: PaymentNotice) -> PaymentResult:
        try:
            return self._receive(notice=notice)
        except IdempotencyAlreadyInProgressError:
            raise PaymentInProgress("this transaction is being processed; deliver it again in a few seconds") \
                from None
        except IdempotencyValidationError:
            raise TransactionMismatch("this transaction id was already received with another reference, "
                                      "amount or time") from None
