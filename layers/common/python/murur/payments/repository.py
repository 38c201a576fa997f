"""PaymentsTable: every wallet notice that passed the signature check, applied or not, with its outcome.

Key `payment_id` ("<provider>:<provider transaction id>"): one item per transaction, written once
(conditional put), so the first decision on a transaction stands however often it is delivered.
GSI `day-index` (paid_day, payment_id) lists a day's payments, one provider's with a key condition
on the payment id's prefix: the reconciliation report never scans.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict

from murur.dynamo import model_from_item, to_item, to_values, write_if
from murur.payments.notice import PaymentNotice, PaymentOutcome, Provider
from murur.violations import SmsStatus

DAY_INDEX = "day-index"


class PaymentRecord(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    payment_id: str
    provider: Provider
    provider_transaction_id: str
    violation_reference: str
    amount_mru: int
    paid_at: AwareDatetime
    paid_day: str  # YYYY-MM-DD of paid_at (UTC): the day the provider's statement lists it under
    payer_phone: str  # kept for a refund of an unmatched payment; never logged, never in an event
    received_at: AwareDatetime
    outcome: PaymentOutcome
    # What the violation looked like when the notice was decided (absent for an unknown reference).
    violation_status: str | None = None
    amount_due_mru: int | None = None
    # The receipt SMS, claimed once before it is sent (APPLIED only).
    receipt_claimed_at: AwareDatetime | None = None
    receipt_sms_status: SmsStatus | None = None
    receipt_message_id: str | None = None
    receipt_error: str | None = None  # SNS refused the receipt (its error code): claimed, not sent

    @classmethod
    def of(cls, notice: PaymentNotice, *, outcome: PaymentOutcome, received_at: datetime,
           violation_status: str | None, amount_due_mru: int | None) -> "PaymentRecord":
        return cls(payment_id=notice.payment_id, provider=notice.provider,
                   provider_transaction_id=notice.provider_transaction_id,
                   violation_reference=notice.violation_reference, amount_mru=notice.amount_mru,
                   paid_at=notice.paid_at, paid_day=notice.paid_at.date().isoformat(),
                   payer_phone=notice.payer_phone, received_at=received_at, outcome=outcome,
                   violation_status=violation_status, amount_due_mru=amount_due_mru)

    def matches(self, notice: PaymentNotice) -> bool:
        """The same payment as `notice` (a redelivery), not another one reusing its transaction id."""
        return (self.violation_reference, self.amount_mru, self.paid_at) == \
            (notice.violation_reference, notice.amount_mru, notice.paid_at)


class PaymentsRepository:
    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table = table_name

    def get(self, payment_id: str) -> PaymentRecord | None:
        item = self._dynamodb.get_item(TableName=self._table, Key={"payment_id": {"S": payment_id}},
                                       ConsistentRead=True).get("Item")
        return model_from_item(PaymentRecord, item, f"payment {payment_id}") if item else None

    def put_new(self, record: PaymentRecord) -> bool:
        """Write the record unless the payment is already recorded (False: the earlier record stands)."""
        return write_if(self._dynamodb.put_item, TableName=self._table,
                        Item=to_item(record.model_dump(mode="json")),
                        ConditionExpression="attribute_not_exists(payment_id)")

    def claim_receipt(self, payment_id: str, *, at: datetime, sms_status: SmsStatus) -> bool:
        """Record the receipt once, before it is sent; False when it was already claimed."""
        return write_if(
            self._dynamodb.update_item, TableName=self._table, Key={"payment_id": {"S": payment_id}},
            UpdateExpression="SET receipt_claimed_at = :at, receipt_sms_status = :status",
            ConditionExpression="attribute_exists(payment_id) AND attribute_not_exists(receipt_claimed_at)",
            ExpressionAttributeValues=to_values({":at": at, ":status": sms_status.value}))

    def record_receipt_sent(self, payment_id: str, message_id: str) -> None:
        self._dynamodb.update_item(
            TableName=self._table, Key={"payment_id": {"S": payment_id}},
            UpdateExpression="SET receipt_message_id = :message",
            ExpressionAttributeValues=to_values({":message": message_id}))

    def record_receipt_failed(self, payment_id: str, error: str) -> None:
        self._dynamodb.update_item(
            TableName=self._table, Key={"payment_id": {"S": payment_id}},
            UpdateExpression="SET receipt_error = :error",
            ExpressionAttributeValues=to_values({":error": error}))

    def on_day(self, day: date, provider: Provider | None = None) -> list[PaymentRecord]:
        """The payments made on `day` (UTC), all providers or one, from the day-index GSI."""
        condition = "paid_day = :day"
        values: dict[str, Any] = {":day": day.isoformat()}
        if provider is not None:
            condition += " AND begins_with(payment_id, :provider)"
            values[":provider"] = f"{Provider(provider).value}:"
        pages = self._dynamodb.get_paginator("query").paginate(
            TableName=self._table, IndexName=DAY_INDEX, KeyConditionExpression=condition,
            ExpressionAttributeValues=to_values(values))
        return [model_from_item(PaymentRecord, item, f"payment {item.get('payment_id', {}).get('S', '?')}")
                for page in pages for item in page.get("Items", [])]
