"""Notify: tell the owner (SMS in their language) and the Khidmati portal (an event), once per violation."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field

from murur.errors import InvalidPayload, SmsPublishFailed, TransientError, ViolationNotFound
from murur.notices import Notice, NoticeFacts, NoticeKind, is_e164, language_of, render_notice
from murur.registry import VehicleRegistry
from murur.violations import SmsStatus, Violation, ViolationsRepository
from murur.workflow import NotifyInput, NotifyResult

PORTAL_SOURCE = "murur"
VIOLATION_ISSUED = "ViolationIssued"
VIOLATION_OVERDUE = "ViolationOverdue"
PAYMENT_RECEIVED = "PaymentReceived"
OBJECTION_RULED = "ObjectionRuled"


class SmsGateway:
    """SNS Publish to a phone number, as a transactional message (delivered ahead of promotional ones)."""

    def __init__(self, sns: Any) -> None:
        self._sns = sns

    def send(self, phone_number: str, text: str) -> str:
        """The SNS message id; SmsPublishFailed when SNS refuses the message or cannot be reached."""
        try:
            response = self._sns.publish(
                PhoneNumber=phone_number,
                Message=text,
                MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}},
            )
        except ClientError as error:
            # The code only: SNS's message may quote the phone number.
            raise SmsPublishFailed(f"SNS Publish: {error.response.get('Error', {}).get('Code', 'unknown')}") from error
        except BotoCoreError as error:
            raise SmsPublishFailed(f"SNS Publish: {type(error).__name__}") from error
        return response["MessageId"]


class PortalEvents:
    """Events for the Khidmati portal. Never a phone number; the owner is identified by NNI."""

    def __init__(self, events: Any, bus_name: str) -> None:
        self._events = events
        self._bus = bus_name

    def violation_issued(self, violation: Violation, *, portal_url: str, sms_notice: bool) -> None:
        """`sms_notice`: the owner is also being told by SMS (False: the portal is the only notice)."""
        detail = {
            "violation_id": violation.violation_id,
            "owner_nni": violation.owner_nni,
            "plate": violation.plate,
            "violation_type": violation.violation_type.value,
            "amount_mru": violation.amount_mru,
            "currency": violation.currency,
            "issued_at": violation.issued_at.isoformat(),
            "deadline_at": violation.deadline_at.isoformat(),
            "captured_at": violation.captured_at.isoformat(),
            "camera_id": violation.camera_id,
            "place": violation.place,
            "region_code": violation.region_code,
            "evidence_annotated_key": violation.evidence_annotated_key,
            "sms_notice": sms_notice,
            "portal_url": portal_url,
        }
        self._put(VIOLATION_ISSUED, violation.violation_id, detail)

    def violation_overdue(self, violation: Violation, *, overdue_at: datetime, surcharge_mru: int | None,
                          amount_due_mru: int | None) -> None:
        """The deadline passed unpaid (murur.deadlines): the portal shows the new amount due."""
        self._put(VIOLATION_OVERDUE, violation.violation_id, {
            "violation_id": violation.violation_id,
            "owner_nni": violation.owner_nni,
            "status": "OVERDUE",
            "overdue_at": overdue_at.isoformat(),
            "deadline_at": violation.deadline_at.isoformat(),
            "amount_mru": violation.amount_mru,
            "surcharge_mru": surcharge_mru,
            "amount_due_mru": amount_due_mru,
            "currency": violation.currency,
        })

    def payment_received(self, violation: Violation, *, payment_id: str, provider: str, amount_mru: int,
                         paid_at: datetime) -> None:
        """A wallet payment made the violation PAID (murur.payments); never the payer's phone number."""
        self._put(PAYMENT_RECEIVED, violation.violation_id, {
            "violation_id": violation.violation_id,
            "owner_nni": violation.owner_nni,
            "status": "PAID",
            "payment_id": payment_id,
            "provider": provider,
            "amount_mru": amount_mru,
            "currency": violation.currency,
            "paid_at": paid_at.isoformat(),
        })

    def objection_ruled(self, violation: Violation) -> None:
        """An officer ruled on the owner's objection (murur.objections): UPHELD with its new deadline, or CANCELLED."""
        ruling = violation.ruling
        self._put(OBJECTION_RULED, violation.violation_id, {
            "violation_id": violation.violation_id,
            "owner_nni": violation.owner_nni,
            "status": violation.status.value,
            "decision": ruling.decision.value if ruling else None,
            "ruled_at": ruling.ruled_at.isoformat() if ruling else None,
            "deadline_at": violation.deadline_at.isoformat() if violation.status.value == "UPHELD" else None,
            "amount_due_mru": violation.payable_mru if violation.status.value == "UPHELD" else None,
            "currency": violation.currency,
        })

    def _put(self, detail_type: str, violation_id: str, detail: dict[str, Any]) -> None:
        response = self._events.put_events(Entries=[{
            "Source": PORTAL_SOURCE, "DetailType": detail_type, "Detail": json.dumps(detail),
            "EventBusName": self._bus, "Resources": [],
        }])
        if response.get("FailedEntryCount"):
            code = response["Entries"][0].get("ErrorCode", "unknown")
            raise TransientError(f"the portal event {detail_type} for {violation_id} was not accepted ({code})")


def notice_facts(violation: Violation, portal_base_url: str) -> NoticeFacts:
    return NoticeFacts(
        reference=violation.violation_id,
        violation_type=violation.violation_type,
        place=violation.place or violation.camera_id,
        captured_at=violation.captured_at,
        amount_mru=violation.amount_mru,
        deadline_at=violation.deadline_at,
        portal_url=portal_base_url,
        measured_speed_kmh=violation.measured_speed_kmh,
        speed_limit_kmh=violation.speed_limit_kmh,
    )


class Notifier:
    def __init__(
        self,
        violations: ViolationsRepository,
        registry: VehicleRegistry,
        sms: SmsGateway,
        portal: PortalEvents,
        portal_base_url: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._violations = violations
        self._registry = registry
        self._sms = sms
        self._portal = portal
        self._portal_base_url = portal_base_url
        self._clock = clock

    def notify(self, task: NotifyInput) -> NotifyResult:
        violation_id = task.violation.violation_id
        if not violation_id:
            raise InvalidPayload("Notify needs the violation_id of an issued violation")
        return self.notify_violation(violation_id).result

    def notify_violation(self, violation_id: str) -> "Delivery":
        """Tell the owner of this violation, unless that is already recorded (then nothing is sent).

        The one path for Notify and for the re-drive of undelivered notices (murur.ops.redrive).
        Raises SmsPublishFailed when SNS refuses the SMS: nothing is recorded then, so a later try
        (Notify's Retry, a re-drive) sends it.
        """
        violation = self._violations.get(violation_id)
        if violation is None:
            raise ViolationNotFound(f"violation {violation_id} is not in the table")
        if violation.notified_at is not None:
            return Delivery(_recorded(violation), sent_now=False)

        phone, sms_status, language, notice = owner_notice(self._registry, violation, self._portal_base_url)
        # The portal event goes first, once: recorded after it is put, so an attempt that retries
        # after an SMS refusal (or a re-drive) does not tell the portal, and the citizen, again. The
        # SMS is then the last step before the record.
        if violation.portal_notified_at is None:
            self._portal.violation_issued(violation, portal_url=self._portal_base_url,
                                          sms_notice=notice is not None)
            self._violations.record_portal_notified(violation_id, self._clock())
        message_id: str | None = None
        if notice is not None and phone:
            # Checked before publishing (notified_at above), recorded after. If this function dies
            # between Publish and record_notified, the retried task sends the SMS a second time: SNS
            # has no idempotency key for SMS, and marking first would instead risk an owner never told.
            # The window is one DynamoDB write wide.
            message_id = self._sms.send(phone, notice.text)
        notified_at = self._clock()
        segments = notice.segments.segments if notice else None
        if not self._violations.record_notified(violation_id, notified_at=notified_at, sms_status=sms_status,
                                                sms_message_id=message_id, sms_segments=segments, language=language):
            # A concurrent attempt recorded first; its record stands. Otherwise the violation left
            # ISSUED before the notice was recorded (paid or contested at the portal in the meantime):
            # its new status stands, and this notice is reported as sent.
            recorded = self._violations.get(violation_id)
            if recorded is not None and recorded.notified_at is not None:
                return Delivery(_recorded(recorded), sent_now=True)
        return Delivery(NotifyResult(violation_id=violation_id, sms_sent=sms_status is SmsStatus.SENT,
                                     sms_message_id=message_id, sms_segments=segments, language=language,
                                     portal_event_sent=True, notified_at=notified_at), sent_now=True)


class Delivery(NamedTuple):
    result: NotifyResult
    sent_now: bool  # False: the notice was already recorded before this call, nothing went out


class OwnerNotice(NamedTuple):
    phone: str | None
    sms_status: SmsStatus
    language: str
    notice: Notice | None  # None when the owner cannot receive an SMS


def owner_notice(registry: VehicleRegistry, violation: Violation, portal_base_url: str, kind: NoticeKind = "sms",
                 language: str | None = None) -> OwnerNotice:
    """Whom to tell and what: in `language` if given, else the registry's. Rendered before anything is
    written or sent, so a notice that cannot be written fails with nothing out."""
    owner = registry.lookup(violation.plate)
    phone = owner.owner_phone if owner else None
    sms_status = sms_status_for(phone)
    chosen = language_of(language or (owner.language if owner else None))
    notice = render_notice(notice_facts(violation, portal_base_url), chosen, kind) \
        if sms_status is SmsStatus.SENT else None
    return OwnerNotice(phone, sms_status, chosen, notice)


def sms_status_for(phone: str | None) -> SmsStatus:
    """SENT when the number can receive the notice; otherwise why not."""
    if not phone:
        return SmsStatus.NO_PHONE
    return SmsStatus.SENT if is_e164(phone) else SmsStatus.INVALID_PHONE


def _recorded(violation: Violation) -> NotifyResult:
    assert violation.notified_at is not None
    return NotifyResult(
        violation_id=violation.violation_id,
        sms_sent=violation.sms_status is SmsStatus.SENT,
        sms_message_id=violation.sms_message_id,
        sms_segments=violation.sms_segments,
        language=violation.language,
        portal_event_sent=True,
        notified_at=violation.notified_at,
    )


class _SnsNotification(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    message_id: str = Field(alias="messageId")


class _SnsDelivery(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    provider_response: str = Field(default="", alias="providerResponse")


class SmsDeliveryLog(BaseModel):
    """One entry of SNS's SMS delivery-status log (DirectPublishToPhoneNumber[/Failure]). The
    destination number is in the entry too; it is never read here."""

    model_config = ConfigDict(extra="ignore")

    notification: _SnsNotification
    delivery: _SnsDelivery = _SnsDelivery()
    status: str


@dataclass
class DeliveryStatusReport:
    """Counts only: which violations' SMS failed is on their records."""

    failures_recorded: int = 0
    not_a_notice: int = 0  # a reminder, receipt or ruling SMS: no violation's notice to mark
    delivered: int = 0


def record_sms_delivery_failures(violations: ViolationsRepository, entries: list[SmsDeliveryLog],
                                 now: datetime) -> DeliveryStatusReport:
    """Mark each violation whose notice SMS the carrier did not deliver (status FAILURE)."""
    report = DeliveryStatusReport()
    for entry in entries:
        if entry.status != "FAILURE":
            report.delivered += 1
            continue
        violation_id = violations.by_sms_message_id(entry.notification.message_id)
        if violation_id is None:
            report.not_a_notice += 1
            continue
        # The carrier's words are about the network, not the person: kept, bounded.
        violations.record_sms_delivery_failed(violation_id, at=now,
                                              provider_response=entry.delivery.provider_response[:200])
        report.failures_recorded += 1
    return report
