"""A violation's lifecycle: its statuses, the changes allowed between them, and the audit entry of each.

Pure (no AWS): `ViolationsRepository.transition` checks a change here before it writes it, and the
write itself is conditional on the status it was checked against, so the table cannot hold a change
this module refuses.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from murur.errors import TransitionRefused

# Actors named in the history: the system's own steps, or a person ("officer:<id>").
ISSUE_ACTOR = "system:issue_violation"
SECTION_ACTOR = "system:section_control"  # a section's average speed (murur.sections)
NOTIFY_ACTOR = "system:notify"


def officer_actor(officer_id: str) -> str:
    return f"officer:{officer_id}"


class ViolationStatus(StrEnum):
    ISSUED = "ISSUED"
    NOTIFIED = "NOTIFIED"
    PAID = "PAID"
    OBJECTED = "OBJECTED"  # the owner contests it; enforcement waits for the decision
    OVERDUE = "OVERDUE"  # the deadline passed unpaid
    UPHELD = "UPHELD"  # the objection was rejected: the fine stands
    CANCELLED = "CANCELLED"  # the objection was accepted


_S = ViolationStatus
# target <- the statuses it may be reached from. PAID and CANCELLED lead nowhere: they are final.
ALLOWED_SOURCES: dict[ViolationStatus, frozenset[ViolationStatus]] = {
    _S.ISSUED: frozenset(),  # only the initial write creates a violation ISSUED
    _S.NOTIFIED: frozenset({_S.ISSUED}),
    _S.PAID: frozenset({_S.ISSUED, _S.NOTIFIED, _S.OVERDUE, _S.UPHELD}),
    _S.OBJECTED: frozenset({_S.ISSUED, _S.NOTIFIED, _S.OVERDUE}),
    _S.OVERDUE: frozenset({_S.ISSUED, _S.NOTIFIED, _S.UPHELD}),
    _S.UPHELD: frozenset({_S.OBJECTED}),
    _S.CANCELLED: frozenset({_S.OBJECTED}),
}
FINAL: frozenset[ViolationStatus] = frozenset(
    status for status in ViolationStatus if not any(status in sources for sources in ALLOWED_SOURCES.values()))


def allowed_sources(target: ViolationStatus) -> frozenset[ViolationStatus]:
    return ALLOWED_SOURCES[ViolationStatus(target)]


def is_allowed(current: ViolationStatus, target: ViolationStatus) -> bool:
    return ViolationStatus(current) in allowed_sources(target)


def check_transition(current: ViolationStatus, target: ViolationStatus) -> None:
    """Return if `current -> target` is allowed, else raise TransitionRefused."""
    if not is_allowed(current, target):
        raise TransitionRefused(f"{ViolationStatus(current).value} -> {ViolationStatus(target).value} is not allowed")


class StatusChange(BaseModel):
    """One entry of a violation's `history`: appended with each change of status, never rewritten.

    The first entry (the issue) has no `from`. Stored as {from, to, actor, at, reason?}.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    from_status: ViolationStatus | None = Field(default=None, alias="from")
    to: ViolationStatus
    actor: str
    at: AwareDatetime
    reason: str | None = None

    def stored(self) -> dict[str, object]:
        """The entry as written: absent values left out, as everywhere in the tables."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
