"""Deadlines: one reminder SMS before a violation's deadline, OVERDUE with its surcharge after it.

Run on a schedule (functions/deadlines). Violations are found through ViolationsTable's
`status-index` (status, deadline_at), one query per open status, never a scan. Every write is
conditional, so a run repeated, overlapping or retried changes nothing more:

* the reminder is claimed (`reminded_at`, written only where it is absent) before it is sent;
* the change to OVERDUE is conditional on the status it was decided on, and carries the surcharge
  in the same update, written only where no surcharge is recorded yet; the portal then gets a
  ViolationOverdue event with the new amount due, and the violation records that it was told
  (`overdue_event_for`: the deadline it was told about). Each run first sends the events a failed
  run left out, for violations made OVERDUE within OVERDUE_EVENT_CATCH_UP.

The decisions (`action_for`) are pure; `DeadlinesJob` applies them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from murur.errors import SmsPublishFailed, TransitionRefused
from murur.fines import FineSchedule, FineScheduleSource
from murur.lifecycle import ViolationStatus
from murur.notifications import PortalEvents, SmsGateway, owner_notice
from murur.registry import VehicleRegistry
from murur.violations import Violation, ViolationsRepository

DEADLINES_ACTOR = "system:deadlines"
# How far back a run looks for OVERDUE violations whose event the portal missed (a run that failed
# after the change to OVERDUE): DeadlinesFunctionErrorsAlarm calls someone long before this ends.
OVERDUE_EVENT_CATCH_UP = timedelta(days=7)

# The statuses in which a fine is still to be paid: those OVERDUE may be reached from
# (murur.lifecycle). ISSUED is included for a violation whose notice was never recorded; UPHELD
# (an objection rejected) runs to the new deadline its ruling set (murur.objections). OBJECTED is
# not here: an open objection suspends the deadline.
OPEN_STATUSES: tuple[ViolationStatus, ...] = (ViolationStatus.ISSUED, ViolationStatus.NOTIFIED,
                                               ViolationStatus.UPHELD)


class Action(StrEnum):
    REMIND = "REMIND"
    OVERDUE = "OVERDUE"
    NOTHING = "NOTHING"


def action_for(violation: Violation, now: datetime, reminder_days_before: int) -> Action:
    """What the deadline asks of this violation now.

    Past the deadline (at it included): OVERDUE. Within `reminder_days_before` days before it and
    not yet reminded: REMIND. Anything else, or a status with no fine left to pay: NOTHING.
    """
    if violation.status not in OPEN_STATUSES:
        return Action.NOTHING
    if violation.deadline_at <= now:
        return Action.OVERDUE
    if violation.reminded_at is None and violation.deadline_at - timedelta(days=reminder_days_before) <= now:
        return Action.REMIND
    return Action.NOTHING


def needs_overdue_event(violation: Violation) -> bool:
    """OVERDUE, and the portal not yet told that this deadline passed."""
    return violation.status is ViolationStatus.OVERDUE and violation.overdue_event_for != violation.deadline_at


def overdue_charges(violation: Violation, schedule: FineSchedule) -> dict[str, int] | None:
    """The surcharge and the new amount due, or None when the violation already carries one
    (OVERDUE again after an upheld objection: the surcharge is applied once, ever)."""
    if violation.surcharge_mru is not None:
        return None
    surcharge = schedule.surcharge_mru(violation.amount_mru)
    return {"surcharge_mru": surcharge, "amount_due_mru": violation.amount_mru + surcharge}


@dataclass
class DeadlinesReport:
    """Counts only: no plate, phone or NNI leaves the job."""

    reminders_sent: int = 0
    reminders_without_sms: int = 0
    overdue: int = 0
    skipped: int = 0  # the violation changed between the query and the write: its new state stands
    overdue_events_resent: int = 0  # portal events an earlier, failed run left out
    reminders_failed: int = 0  # SNS refused the SMS: the reminder is released for the next run


class DeadlinesJob:
    def __init__(
        self,
        violations: ViolationsRepository,
        registry: VehicleRegistry,
        sms: SmsGateway,
        portal: PortalEvents,
        schedule: FineScheduleSource,
        portal_base_url: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._violations = violations
        self._registry = registry
        self._sms = sms
        self._portal = portal
        self._schedule = schedule
        self._portal_base_url = portal_base_url
        self._clock = clock

    def run(self) -> DeadlinesReport:
        now = self._clock()
        schedule = self._schedule.get()
        until = now + timedelta(days=schedule.reminder_days_before)
        report = DeadlinesReport()
        for violation in self._violations.with_deadline_until(ViolationStatus.OVERDUE, now,
                                                              since=now - OVERDUE_EVENT_CATCH_UP):
            if needs_overdue_event(violation):
                self._tell_portal_overdue(violation, now, violation.surcharge_mru, violation.amount_due_mru)
                report.overdue_events_resent += 1
        for status in OPEN_STATUSES:
            for violation in self._violations.with_deadline_until(status, until):
                action = action_for(violation, now, schedule.reminder_days_before)
                if action is Action.REMIND:
                    self._remind(violation, now, report)
                elif action is Action.OVERDUE:
                    self._overdue(violation, now, schedule, report)
        return report

    def _remind(self, violation: Violation, now: datetime, report: DeadlinesReport) -> None:
        # In the language the notice went out in, else the registry's; rendered before the claim.
        phone, sms_status, _, notice = owner_notice(self._registry, violation, self._portal_base_url, "reminder",
                                                    language=violation.language)
        # Claimed before it is sent, unlike Notify's notice: the owner already has the notice, so a
        # reminder lost to a crash between claim and Publish costs less than one sent on every run.
        if not self._violations.claim_reminder(violation.violation_id, expected=violation.status, at=now,
                                               sms_status=sms_status):
            report.skipped += 1
            return
        if notice is not None and phone:
            try:
                self._sms.send(phone, notice.text)
            except SmsPublishFailed:
                # Released, so the next run (or the schedule's retry of this one) sends it: still one
                # reminder, and this run goes on with the other violations.
                self._violations.release_reminder(violation.violation_id, claimed_at=now)
                report.reminders_failed += 1
                return
            report.reminders_sent += 1
        else:
            report.reminders_without_sms += 1

    def _overdue(self, violation: Violation, now: datetime, schedule: FineSchedule, report: DeadlinesReport) -> None:
        charges = overdue_charges(violation, schedule)
        try:
            self._violations.transition(violation.violation_id, ViolationStatus.OVERDUE, actor=DEADLINES_ACTOR,
                                        at=now, reason="payment deadline passed", expected=violation.status,
                                        set_once=charges)
        except TransitionRefused:
            # Paid, contested or made OVERDUE by an overlapping run since the query.
            report.skipped += 1
            return
        report.overdue += 1
        # After the update, so only the run that made it OVERDUE tells the portal. If this put fails,
        # the run fails (DeadlinesFunctionErrorsAlarm) and the next one sends it (catch-up above).
        self._tell_portal_overdue(violation, now,
                                  charges["surcharge_mru"] if charges else violation.surcharge_mru,
                                  charges["amount_due_mru"] if charges else violation.amount_due_mru)

    def _tell_portal_overdue(self, violation: Violation, now: datetime, surcharge_mru: int | None,
                             amount_due_mru: int | None) -> None:
        self._portal.violation_overdue(violation, overdue_at=now, surcharge_mru=surcharge_mru,
                                       amount_due_mru=amount_due_mru)
        self._violations.record_overdue_event(violation.violation_id, violation.deadline_at)
