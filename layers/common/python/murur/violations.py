"""Violations: the human reference, the record, and ViolationsTable."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, NamedTuple

from botocore.exceptions import ClientError
from pydantic import AwareDatetime, BaseModel, ConfigDict

from murur.dynamo import iso_time, model_from_item, to_item, to_values, write_if
from murur.errors import TransitionRefused, ViolationNotFound
from murur.lifecycle import NOTIFY_ACTOR, StatusChange, ViolationStatus, check_transition
from murur.objections import Objection, Ruling
from murur.workflow import FrameRef, ViolationType

# Crockford's base32: no I, L, O or U, so a reference read over the phone is not misheard.
_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# 10 characters = 50 bits: a clash within a million violations a year has odds of about 1 in 2,000,
# and a clash is detected (ViolationIdClash), never silently merged.
_REFERENCE_CHARACTERS = 10


class SmsStatus(StrEnum):
    SENT = "SENT"
    NO_PHONE = "NO_PHONE"  # the registry has no number for the owner: the portal event is the notice
    INVALID_PHONE = "INVALID_PHONE"  # the registry's number is not a Mauritanian E.164 mobile number


def violation_id_for(frame: FrameRef) -> str:
    """The reference printed on the notice: "MR" + capture year + 10 base32 characters of the frame id.

    Derived from the frame only, so a retried IssueViolation writes the same item.
    """
    return _reference(frame.frame_id, frame.captured_at)


def section_violation_id_for(section_id: str, exit_frame: FrameRef) -> str:
    """The reference of a section-speeding violation: from the section and its exit frame only.

    One exit passage ends one trip, so the same pair processed twice, or the exit matched again
    from an entry decided later, gives the same item (murur.sections).
    """
    return _reference(f"section:{section_id}:{exit_frame.frame_id}", exit_frame.captured_at)


def _reference(seed: str, captured_at: datetime) -> str:
    number = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big")
    characters = []
    for _ in range(_REFERENCE_CHARACTERS):
        number, index = divmod(number, 32)
        characters.append(_REFERENCE_ALPHABET[index])
    return f"MR{captured_at:%y}-{''.join(characters)}"


class SectionRecord(BaseModel):
    """A section-speeding violation's second passage and its computation (murur.sections).

    The violation's own frame fields are the exit passage; these are the entry passage, the
    section as configured when the offence was judged, and the times and speed it was judged on.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    section_id: str
    name: str
    distance_m: int
    limit_kmh: int
    tolerance_kmh: int
    clock_skew_seconds: float
    entry_camera_id: str
    exit_camera_id: str
    entry_frame_id: str
    entry_captured_at: AwareDatetime
    entry_frame_bucket: str
    entry_frame_key: str
    entry_frame_sha256: str
    entry_read_source: Literal["model", "officer"]
    entry_reviewer: str | None = None
    evidence_entry_frame_key: str
    evidence_entry_frame_sha256: str
    elapsed_seconds: float  # exit captured-at minus entry captured-at
    credited_seconds: float  # elapsed + twice the clock allowance: what the average is computed from
    average_speed_kmh: float  # rounded down to 0.1 km/h


class Violation(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    violation_id: str
    status: ViolationStatus
    violation_type: ViolationType
    plate: str
    owner_nni: str
    amount_mru: int
    currency: Literal["MRU"] = "MRU"
    issued_at: AwareDatetime
    deadline_at: AwareDatetime
    captured_at: AwareDatetime
    camera_id: str
    place: str | None = None
    region_code: str | None = None
    measured_speed_kmh: float | None = None
    speed_limit_kmh: float | None = None
    signal_phase: str | None = None
    lane: int | None = None
    frame_id: str
    frame_bucket: str
    frame_key: str
    frame_sha256: str
    evidence_bucket: str
    evidence_frame_key: str
    evidence_frame_sha256: str
    evidence_annotated_key: str
    evidence_annotated_sha256: str
    evidence_plate_key: str | None = None
    evidence_plate_sha256: str | None = None
    model_version: str
    read_confidence: float | None = None
    read_source: Literal["model", "officer"]
    reviewer: str | None = None
    execution_arn: str
    # Section control only: the entry passage and the average-speed computation.
    section: SectionRecord | None = None
    notified_at: AwareDatetime | None = None
    sms_status: SmsStatus | None = None
    sms_message_id: str | None = None
    sms_segments: int | None = None
    language: str | None = None
    # Notify failed after its last retry: when, and its error name. The notice then waits in the
    # undelivered-notices queue until a re-drive sends it (murur.ops.redrive), which sets notified_at.
    # When the portal event (ViolationIssued) went out: a retried or re-driven notice does not repeat it.
    portal_notified_at: AwareDatetime | None = None
    notice_undelivered_at: AwareDatetime | None = None
    # SNS's delivery status said the carrier did not deliver the notice's SMS (murur.notifications).
    sms_delivery: Literal["FAILED"] | None = None
    sms_delivery_failed_at: AwareDatetime | None = None
    sms_provider_response: str | None = None
    notice_error: str | None = None
    # The one reminder before the deadline (murur.deadlines): when it was claimed, and how it went out.
    reminded_at: AwareDatetime | None = None
    reminder_sms_status: SmsStatus | None = None
    # The deadline whose passing the portal was told of (ViolationOverdue, murur.deadlines): a fine made
    # OVERDUE again after an upheld objection has a new deadline, and the portal hears of it again.
    overdue_event_for: AwareDatetime | None = None
    # Set once, with the change to OVERDUE: the surcharge and what is then due (amount_mru + surcharge_mru).
    surcharge_mru: int | None = None
    amount_due_mru: int | None = None
    # Set once, with the change to PAID by a wallet payment (murur.payments): which payment, and when it was made.
    payment_id: str | None = None
    paid_at: AwareDatetime | None = None
    # The owner's objection (set once, with the change to OBJECTED) and the officer's ruling on it
    # (set once, with the change to UPHELD or CANCELLED): murur.objections.
    objection: Objection | None = None
    ruling: Ruling | None = None
    # Every change of status, oldest first (murur.lifecycle.StatusChange); only ever appended to.
    history: tuple[StatusChange, ...] = ()

    @property
    def payable_mru(self) -> int:
        """What paying it costs now: the fine, or the fine with its overdue surcharge once one is set."""
        return self.amount_due_mru if self.amount_due_mru is not None else self.amount_mru


# Appends an audit entry; items written before the history existed start an empty one.
_APPEND_HISTORY = "history = list_append(if_not_exists(history, :no_history), :change)"
STATUS_INDEX = "status-index"
SMS_MESSAGE_INDEX = "sms-message-index"
OWNER_INDEX = "owner-index"


class InvalidCursor(ValueError):
    """A page cursor that this table did not hand out (or not for this query)."""


class Page(NamedTuple):
    violations: list[Violation]
    # Opaque: where the next page starts, or None after the last page. Holds a violation id and a
    # time only, never the NNI or status it is a page of: the query supplies those again.
    next_cursor: str | None


def _encode_cursor(violation_id: str, sort_value: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([violation_id, sort_value]).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError) as error:
        raise InvalidCursor("the cursor does not decode") from error
    if not (isinstance(decoded, list) and len(decoded) == 2 and all(isinstance(v, str) and 0 < len(v) <= 64
                                                                   for v in decoded)):
        raise InvalidCursor("the cursor is not a violation position")
    return decoded[0], decoded[1]


class ViolationsRepository:
    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table = table_name

    def get(self, violation_id: str) -> Violation | None:
        item = self._dynamodb.get_item(
            TableName=self._table, Key={"violation_id": {"S": violation_id}}, ConsistentRead=True
        ).get("Item")
        return model_from_item(Violation, item, f"violation {violation_id}") if item else None

    def put_new(self, violation: Violation, *, actor: str) -> bool:
        """Write the violation unless its id exists; False means an earlier attempt already wrote it.

        The item starts its history with the issue: to ISSUED, by `actor`, at `issued_at`.
        """
        if violation.status is not ViolationStatus.ISSUED:
            raise TransitionRefused(f"a violation is created ISSUED, not {violation.status.value}")
        issued = StatusChange(to=violation.status, actor=actor, at=violation.issued_at)
        item = violation.model_dump(mode="json", exclude={"history"}) | {"history": [issued.stored()]}
        return write_if(
            self._dynamodb.put_item,
            TableName=self._table,
            Item=to_item(item),
            ConditionExpression="attribute_not_exists(violation_id)",
        )

    def record_portal_notified(self, violation_id: str, at: datetime) -> bool:
        """The portal event went out; False when an earlier attempt recorded it first."""
        return write_if(
            self._dynamodb.update_item,
            TableName=self._table,
            Key={"violation_id": {"S": violation_id}},
            UpdateExpression="SET portal_notified_at = :at",
            ConditionExpression="attribute_exists(violation_id) AND attribute_not_exists(portal_notified_at)",
            ExpressionAttributeValues=to_values({":at": at}),
        )

    def record_notified(self, violation_id: str, *, notified_at: datetime, sms_status: SmsStatus,
                        sms_message_id: str | None, sms_segments: int | None, language: str) -> bool:
        """Mark the violation notified once (ISSUED -> NOTIFIED, by NOTIFY_ACTOR); False when it already
        was, or when it left ISSUED first (e.g. paid at the portal before the notice was recorded)."""
        change = StatusChange(from_status=ViolationStatus.ISSUED, to=ViolationStatus.NOTIFIED, actor=NOTIFY_ACTOR,
                              at=notified_at)
        values = {
            ":issued": ViolationStatus.ISSUED.value, ":notified": ViolationStatus.NOTIFIED.value,
            ":at": notified_at, ":sms_status": sms_status.value,
            ":segments": sms_segments, ":language": language, ":no_history": [], ":change": [change.stored()],
        }
        # Written only when an SMS went out: sms_message_id keys the sms-message-index, which refuses
        # a NULL where it expects a string.
        message = "sms_message_id = :message, " if sms_message_id else ""
        if sms_message_id:
            values[":message"] = sms_message_id
        return write_if(
            self._dynamodb.update_item,
            TableName=self._table,
            Key={"violation_id": {"S": violation_id}},
            UpdateExpression="SET #status = :notified, notified_at = :at, sms_status = :sms_status, "
                             f"{message}sms_segments = :segments, #language = :language, " + _APPEND_HISTORY,
            ConditionExpression="attribute_exists(violation_id) AND attribute_not_exists(notified_at) "
                                "AND #status = :issued",
            ExpressionAttributeNames={"#status": "status", "#language": "language"},
            ExpressionAttributeValues=to_values(values),
        )

    def with_deadline_until(self, status: ViolationStatus, until: datetime,
                            since: datetime | None = None) -> list[Violation]:
        """Violations in `status` whose deadline is at or before `until` (and at or after `since`),
        from the status-index GSI (status, deadline_at): a key condition, never a scan. The index is
        eventually consistent; every write made on what it returns is conditional, so a stale entry
        changes nothing."""
        values = {":status": ViolationStatus(status).value, ":until": iso_time(until)}
        window = "deadline_at <= :until"
        if since is not None:
            window = "deadline_at BETWEEN :since AND :until"
            values[":since"] = iso_time(since)
        paginator = self._dynamodb.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table, IndexName=STATUS_INDEX,
            KeyConditionExpression=f"#status = :status AND {window}",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_values(values),
        )
        return [model_from_item(Violation, item, f"violation {item.get('violation_id', {}).get('S', '?')}")
                for page in pages for item in page.get("Items", [])]

    def owned_by(self, owner_nni: str, *, limit: int, cursor: str | None = None) -> Page:
        """The owner's violations, newest first, from owner-index (owner_nni, issued_at): the owner
        recorded when the violation was issued, who answers for it even if the vehicle was sold since."""
        return self._page(OWNER_INDEX, "owner_nni", owner_nni, "issued_at", limit, cursor, newest_first=True)

    def in_status(self, status: ViolationStatus, *, limit: int, cursor: str | None = None) -> Page:
        """Violations in `status`, earliest deadline first, from status-index (status, deadline_at)."""
        return self._page(STATUS_INDEX, "status", ViolationStatus(status).value, "deadline_at", limit, cursor,
                          newest_first=False)

    def _page(self, index: str, key: str, value: str, sort_key: str, limit: int, cursor: str | None, *,
              newest_first: bool) -> Page:
        request: dict[str, Any] = {
            "TableName": self._table, "IndexName": index, "KeyConditionExpression": "#key = :key",
            "ExpressionAttributeNames": {"#key": key}, "ExpressionAttributeValues": {":key": {"S": value}},
            "Limit": limit, "ScanIndexForward": not newest_first,
        }
        if cursor:
            violation_id, sort_value = _decode_cursor(cursor)
            request["ExclusiveStartKey"] = {"violation_id": {"S": violation_id}, key: {"S": value},
                                            sort_key: {"S": sort_value}}
        try:
            response = self._dynamodb.query(**request)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ValidationException" and cursor:
                raise InvalidCursor("the cursor does not fit this query") from error
            raise
        violations = [model_from_item(Violation, item, f"violation {item.get('violation_id', {}).get('S', '?')}")
                      for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        next_cursor = _encode_cursor(last["violation_id"]["S"], last[sort_key]["S"]) if last else None
        return Page(violations, next_cursor)

    def record_overdue_event(self, violation_id: str, deadline_at: datetime) -> None:
        """The portal was told this violation's deadline `deadline_at` passed (ViolationOverdue)."""
        write_if(
            self._dynamodb.update_item,
            TableName=self._table,
            Key={"violation_id": {"S": violation_id}},
            UpdateExpression="SET overdue_event_for = :deadline",
            ConditionExpression="attribute_exists(violation_id)",
            ExpressionAttributeValues=to_values({":deadline": deadline_at}),
        )

    def claim_reminder(self, violation_id: str, *, expected: ViolationStatus, at: datetime,
                       sms_status: SmsStatus) -> bool:
        """Record the reminder once, before it is sent; False when one was already recorded, or the
        violation left `expected` (paid, contested) since it was read: then nothing is to be sent."""
        values = {":expected": ViolationStatus(expected).value, ":at": at, ":sms_status": sms_status.value}
        return write_if(
            self._dynamodb.update_item,
            TableName=self._table,
            Key={"violation_id": {"S": violation_id}},
            UpdateExpression="SET reminded_at = :at, reminder_sms_status = :sms_status",
            ConditionExpression="attribute_exists(violation_id) AND attribute_not_exists(reminded_at) "
                                "AND #status = :expected",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_values(values),
        )

    def by_sms_message_id(self, message_id: str) -> str | None:
        """The violation whose notice SNS sent as `message_id` (sms-message-index), if any: reminders,
        receipts and rulings are SMS too, and name no violation here."""
        response = self._dynamodb.query(
            TableName=self._table, IndexName=SMS_MESSAGE_INDEX, KeyConditionExpression="sms_message_id = :message",
            ExpressionAttributeValues=to_values({":message": message_id}), Limit=1,
        )
        items = response.get("Items", [])
        return items[0]["violation_id"]["S"] if items else None

    def record_sms_delivery_failed(self, violation_id: str, *, at: datetime, provider_response: str) -> bool:
        """The carrier did not deliver the notice's SMS (SNS delivery status); the violation says so."""
        return write_if(
            self._dynamodb.update_item,
            TableName=self._table,
            Key={"violation_id": {"S": violation_id}},
            UpdateExpression="SET sms_delivery = :failed, sms_delivery_failed_at = :at, sms_provider_response = :why",
            ConditionExpression="attribute_exists(violation_id)",
            ExpressionAttributeValues=to_values({":failed": "FAILED", ":at": at, ":why": provider_response}),
        )

    def release_reminder(self, violation_id: str, *, claimed_at: datetime) -> None:
        """Undo this run's claim of the reminder (SNS refused the SMS), so a later run sends it."""
        write_if(
            self._dynamodb.update_item,
            TableName=self._table,
            Key={"violation_id": {"S": violation_id}},
            UpdateExpression="REMOVE reminded_at, reminder_sms_status",
            ConditionExpression="reminded_at = :at",
            ExpressionAttributeValues=to_values({":at": claimed_at}),
        )

    def transition(self, violation_id: str, target: ViolationStatus, *, actor: str, at: datetime,
                   reason: str | None = None, expected: ViolationStatus | None = None,
                   set_once: dict[str, Any] | None = None, also_set: dict[str, Any] | None = None) -> StatusChange:
        """Change the violation's status to `target` and append the change to its history, in one write.

        The change is checked against the lifecycle from the status the violation has (read here, or
        `expected`: the status the caller's decision was based on), and written only if the item still
        has that status. The condition names the exact source, not just any allowed one, so the
        history's `from` is always true; of two changes decided on the same status, one wins and the
        other gets TransitionRefused (it was decided on a state that no longer holds: decide again).
        Messages name statuses only, never the violation's personal data.

        `set_once`: attributes written by the same update, only if the item has none of them yet
        (the overdue surcharge: a violation may become OVERDUE again after an upheld objection, and
        must not be surcharged twice). If one is already there, the change is refused as a whole.
        `also_set`: attributes the same update sets whatever they held (an upheld fine's new deadline).
        """
        target = ViolationStatus(target)
        if expected is None:
            current = self.get(violation_id)
            if current is None:
                raise ViolationNotFound(f"violation {violation_id} is not in the table")
            expected = current.status
        check_transition(expected, target)
        change = StatusChange(from_status=expected, to=target, actor=actor, at=at, reason=reason)
        values = {":from": expected.value, ":to": target.value, ":no_history": [], ":change": [change.stored()]}
        once = set_once or {}
        values |= {f":{name}": value for name, value in once.items()}
        overwrite = also_set or {}
        values |= {f":{name}": value for name, value in overwrite.items()}
        applied = write_if(
            self._dynamodb.update_item,
            TableName=self._table,
            Key={"violation_id": {"S": violation_id}},
            UpdateExpression="SET #status = :to, " + "".join(f"{name} = :{name}, " for name in [*once, *overwrite])
                             + _APPEND_HISTORY,
            ConditionExpression="attribute_exists(violation_id) AND #status = :from"
                                + "".join(f" AND attribute_not_exists({name})" for name in once),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_values(values),
        )
        if not applied:
            now = self.get(violation_id)
            if now is None:
                raise ViolationNotFound(f"violation {violation_id} is not in the table")
            if once and now.status is expected:
                raise TransitionRefused(f"violation {violation_id} already has {', '.join(sorted(once))}: "
                                        f"{expected.value} -> {target.value} was not applied")
            raise TransitionRefused(f"violation {violation_id} is {now.status.value}, not {expected.value}: "
                                    f"{expected.value} -> {target.value} was not applied")
        return change
