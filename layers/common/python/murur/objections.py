"""Objections: the owner contests a violation, an officer rules on it.

- The owner files one objection per violation, ever: a reason from `ObjectionReason`, optional
  free text (at most DETAILS_MAX_CHARACTERS) and up to MAX_ATTACHMENTS attachments uploaded first
  through a presigned POST (`AttachmentStore.upload_form`: size and type limited by S3 itself).
  Filing is one conditional write on the violation (`ViolationsRepository.transition` to OBJECTED
  with the objection set once): of two concurrent objections one wins, the other is refused.
  OBJECTED suspends payment and the deadline: a payment is refused (murur.lifecycle has no
  OBJECTED -> PAID) and the deadlines job leaves it alone (murur.deadlines.OPEN_STATUSES).
- An officer rules: UPHOLD -> UPHELD, payable again with a new deadline of the fine schedule's
  payment_days from the ruling; CANCEL -> CANCELLED, closed. Again one conditional write (the
  ruling set once, the history entry names `officer:<id>`), then the owner is told by SMS
  (templates ruling_upheld_* / ruling_cancelled_*) and the portal by an ObjectionRuled event.

Who files is always the violation's owner (checked against the NNI of the token); the history
names them `citizen:owner`, never by NNI.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError
from pydantic import AwareDatetime, BaseModel, ConfigDict

from murur.errors import MururError, SmsPublishFailed, TransitionRefused
from murur.lifecycle import ViolationStatus, is_allowed, officer_actor

if TYPE_CHECKING:
    from murur.fines import FineScheduleSource
    from murur.notifications import PortalEvents, SmsGateway
    from murur.registry import VehicleRegistry
    from murur.violations import Violation, ViolationsRepository

OWNER_ACTOR = "citizen:owner"
DETAILS_MAX_CHARACTERS = 1000
RULING_NOTE_MAX_CHARACTERS = 1000
MAX_ATTACHMENTS = 3
ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
ATTACHMENT_CONTENT_TYPES = ("image/jpeg", "image/png", "application/pdf")
AttachmentContentType = Literal["image/jpeg", "image/png", "application/pdf"]
UPLOAD_FORM_SECONDS = 600
ATTACHMENTS_PREFIX = "attachments"


class ObjectionReason(StrEnum):
    PLATE_MISREAD = "PLATE_MISREAD"  # the picture is not of my vehicle (misread or cloned plate)
    VEHICLE_SOLD_OR_STOLEN = "VEHICLE_SOLD_OR_STOLEN"  # it was not mine, or not in my hands, that day
    EMERGENCY = "EMERGENCY"  # giving way to, or driving, an emergency vehicle
    SIGNAL_OR_SIGN_FAULT = "SIGNAL_OR_SIGN_FAULT"  # the light or the sign was faulty or hidden
    MEASUREMENT_ERROR = "MEASUREMENT_ERROR"  # the speed or the signal phase is wrong
    ALREADY_PAID = "ALREADY_PAID"  # paid, but the payment was not recorded
    OTHER = "OTHER"


class RulingDecision(StrEnum):
    UPHOLD = "UPHOLD"  # the objection is rejected: the fine stands
    CANCEL = "CANCEL"  # the objection is accepted: the fine is cancelled


class Objection(BaseModel):
    """As stored on the violation (`objection`)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    reason: ObjectionReason
    details: str | None = None
    attachments: tuple[str, ...] = ()  # attachment ids, objects under attachments/{violation_id}/
    filed_at: AwareDatetime


class Ruling(BaseModel):
    """As stored on the violation (`ruling`)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    decision: RulingDecision
    officer_id: str
    ruled_at: AwareDatetime
    note: str | None = None
    # UPHOLD only: the new deadline, and what is then due.
    deadline_at: AwareDatetime | None = None
    amount_due_mru: int | None = None


# ------------------------------------------------------------------ refusals (no personal data in messages)
class ObjectionRefused(MururError):
    """Base of what filing or ruling refuses."""


class NotTheOwnersViolation(ObjectionRefused):
    """No such violation, or it is another owner's: the caller cannot tell which."""


class ObjectionAlreadyFiled(ObjectionRefused):
    """The violation already has its objection."""


class NotObjectable(ObjectionRefused):
    """The violation's status does not allow an objection (paid, cancelled, already ruled on)."""


class AttachmentMissing(ObjectionRefused):
    """A named attachment was never uploaded (or not for this violation)."""


class NoObjection(ObjectionRefused):
    """The violation has no objection to rule on (or does not exist)."""


class AlreadyRuled(ObjectionRefused):
    """The objection was ruled on already."""


# ------------------------------------------------------------------ pure rules
def can_object(violation: Violation) -> bool:
    return violation.objection is None and is_allowed(violation.status, ViolationStatus.OBJECTED)


def ruling_target(decision: RulingDecision) -> ViolationStatus:
    return ViolationStatus.UPHELD if decision is RulingDecision.UPHOLD else ViolationStatus.CANCELLED


def attachment_key(violation_id: str, attachment_id: str) -> str:
    return f"{ATTACHMENTS_PREFIX}/{violation_id}/{attachment_id}"


def stored(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude_none=True)


# ------------------------------------------------------------------ attachments
@dataclass(frozen=True)
class UploadForm:
    attachment_id: str
    url: str
    fields: dict[str, str]
    content_type: str
    max_bytes: int
    expires_at: datetime


class AttachmentStore:
    """Presigned POST forms for attachments, and the check that one was uploaded. The form's policy,
    enforced by S3, fixes the key, the content type and the size range; the bucket stays private."""

    def __init__(self, s3: Any, bucket: str, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._clock = clock

    def upload_form(self, violation_id: str, content_type: AttachmentContentType) -> UploadForm:
        if content_type not in ATTACHMENT_CONTENT_TYPES:
            raise ValueError(f"attachments may not be {content_type}")
        attachment_id = uuid.uuid4().hex
        form = self._s3.generate_presigned_post(
            Bucket=self._bucket,
            Key=attachment_key(violation_id, attachment_id),
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, ATTACHMENT_MAX_BYTES]],
            ExpiresIn=UPLOAD_FORM_SECONDS,
        )
        return UploadForm(attachment_id=attachment_id, url=form["url"], fields=dict(form["fields"]),
                          content_type=content_type, max_bytes=ATTACHMENT_MAX_BYTES,
                          expires_at=self._clock() + timedelta(seconds=UPLOAD_FORM_SECONDS))

    def exists(self, violation_id: str, attachment_id: str) -> bool:
        try:
            self._s3.head_object(Bucket=self._bucket, Key=attachment_key(violation_id, attachment_id))
        except ClientError as error:
            if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404 or \
                    error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True


# ------------------------------------------------------------------ filing and ruling

@dataclass(frozen=True)
class RulingOutcome:
    violation: Violation
    sms_sent: bool


class ObjectionDesk:
    def __init__(self, violations: ViolationsRepository, *, attachments: AttachmentStore | None = None,
                 schedule: FineScheduleSource | None = None, registry: VehicleRegistry | None = None,
                 sms: SmsGateway | None = None, portal: PortalEvents | None = None, portal_base_url: str = "",
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._violations = violations
        self._attachments = attachments
        self._schedule = schedule
        self._registry = registry
        self._sms = sms
        self._portal = portal
        self._portal_base_url = portal_base_url
        self._clock = clock

    def owners_violation(self, violation_id: str, owner_nni: str) -> Violation:
        """The violation if `owner_nni` owns it; otherwise NotTheOwnersViolation, whether it exists or not."""
        violation = self._violations.get(violation_id)
        if violation is None or violation.owner_nni != owner_nni:
            raise NotTheOwnersViolation(f"violation {violation_id} is not the caller's")
        return violation

    def attachment_form(self, violation_id: str, owner_nni: str, content_type: AttachmentContentType) -> UploadForm:
        violation = self.owners_violation(violation_id, owner_nni)
        self._check_objectable(violation)
        assert self._attachments is not None, "ObjectionDesk needs an AttachmentStore for attachments"
        return self._attachments.upload_form(violation_id, content_type)

    def file(self, violation_id: str, owner_nni: str, reason: ObjectionReason, details: str | None = None,
             attachments: tuple[str, ...] = ()) -> Violation:
        violation = self.owners_violation(violation_id, owner_nni)
        self._check_objectable(violation)
        unique = tuple(dict.fromkeys(attachments))
        for attachment_id in unique:
            if self._attachments is None or not self._attachments.exists(violation_id, attachment_id):
                raise AttachmentMissing(f"attachment {attachment_id} of violation {violation_id} was not uploaded")
        objection = Objection(reason=reason, details=(details or "").strip() or None, attachments=unique,
                              filed_at=self._clock())
        try:
            self._violations.transition(violation_id, ViolationStatus.OBJECTED, actor=OWNER_ACTOR,
                                        at=objection.filed_at, reason=f"objection: {reason.value}",
                                        expected=violation.status, set_once={"objection": stored(objection)})
        except TransitionRefused:
            # Something changed it since it was read: a concurrent objection, a payment, the deadlines job.
            self._check_objectable(self.owners_violation(violation_id, owner_nni))
            raise
        return self.owners_violation(violation_id, owner_nni)

    def _check_objectable(self, violation: Violation) -> None:
        if violation.objection is not None:
            raise ObjectionAlreadyFiled(f"violation {violation.violation_id} already has an objection")
        if not can_object(violation):
            raise NotObjectable(f"violation {violation.violation_id} is {violation.status.value}")

    def open_objection(self, violation_id: str) -> Violation:
        violation = self._violations.get(violation_id)
        if violation is None or violation.objection is None:
            raise NoObjection(f"violation {violation_id} has no objection")
        if violation.ruling is not None or violation.status is not ViolationStatus.OBJECTED:
            raise AlreadyRuled(f"the objection to violation {violation_id} was ruled on")
        return violation

    def rule(self, violation_id: str, officer_id: str, decision: RulingDecision, note: str | None = None
             ) -> RulingOutcome:
        violation = self.open_objection(violation_id)
        now = self._clock()
        ruling = Ruling(decision=decision, officer_id=officer_id, ruled_at=now, note=(note or "").strip() or None)
        also_set: dict[str, Any] = {}
        if decision is RulingDecision.UPHOLD:
            assert self._schedule is not None, "upholding needs the fine schedule (payment_days)"
            deadline = self._schedule.get().deadline(now)
            ruling = ruling.model_copy(update={"deadline_at": deadline, "amount_due_mru": violation.payable_mru})
            also_set["deadline_at"] = deadline
        target = ruling_target(decision)
        try:
            self._violations.transition(violation_id, target, actor=officer_actor(officer_id), at=now,
                                        reason=f"objection {'rejected' if target is ViolationStatus.UPHELD else 'accepted'}",
                                        expected=ViolationStatus.OBJECTED, set_once={"ruling": stored(ruling)},
                                        also_set=also_set)
        except TransitionRefused:
            self.open_objection(violation_id)  # raises AlreadyRuled when another officer was first
            raise
        ruled = self._violations.get(violation_id)
        assert ruled is not None
        return RulingOutcome(ruled, self._tell_owner(ruled))

    def _tell_owner(self, violation: Violation) -> bool:
        """SMS (when the registry has a number) and the portal event. The ruling is recorded already:
        a failed SMS is reported (sms_sent False), not a reason to undo it."""
        from murur.notifications import owner_notice

        sent = False
        if self._registry is not None and self._sms is not None:
            kind = "ruling_upheld" if violation.status is ViolationStatus.UPHELD else "ruling_cancelled"
            # The notice states what is due now: with the surcharge if the fine went overdue before the objection.
            due = violation.model_copy(update={"amount_mru": violation.payable_mru})
            notice = owner_notice(self._registry, due, self._portal_base_url, kind=kind)  # type: ignore[arg-type]
            # The registry answers for the plate today; if the vehicle changed hands since the offence,
            # its number is the new owner's, who must not hear of the old owner's case: portal only.
            registered = self._registry.lookup(violation.plate)
            same_owner = registered is not None and registered.owner_nni == violation.owner_nni
            if same_owner and notice.phone and notice.notice is not None:
                try:
                    self._sms.send(notice.phone, notice.notice.text)
                    sent = True
                except SmsPublishFailed:
                    sent = False
        if self._portal is not None:
            self._portal.objection_ruled(violation)
        return sent
