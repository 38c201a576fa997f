"""Deadlines decisions: who gets the reminder, who becomes OVERDUE, and the surcharge's rounding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from murur.deadlines import Action, action_for, needs_overdue_event, overdue_charges
from murur.fines import FineSchedule
from murur.lifecycle import ViolationStatus
from murur.violations import Violation
from murur.workflow import ViolationType

S = ViolationStatus
NOW = datetime(2026, 12, 20, 10, 0, tzinfo=UTC)


def violation(status: ViolationStatus = S.NOTIFIED, *, deadline_in: timedelta = timedelta(days=2),
              amount: int = 4000, **update: object) -> Violation:
    return Violation(
        violation_id="MR26-7KQ2M9XA4P", status=status, violation_type=ViolationType.SPEEDING, plate="4821AB00",
        owner_nni="1234567890", amount_mru=amount, issued_at=NOW - timedelta(days=28),
        deadline_at=NOW + deadline_in, captured_at=NOW - timedelta(days=28), camera_id="NKC-TVZ-01",
        frame_id="F1", frame_bucket="b", frame_key="k", frame_sha256="0" * 64, evidence_bucket="e",
        evidence_frame_key="f", evidence_frame_sha256="1" * 64, evidence_annotated_key="a",
        evidence_annotated_sha256="2" * 64, model_version="m", read_source="model", execution_arn="arn",
    ).model_copy(update=update)


@pytest.mark.parametrize(("deadline_in", "expected"), [
    (timedelta(days=10), Action.NOTHING),  # too early for the reminder
    (timedelta(days=3, seconds=1), Action.NOTHING),
    (timedelta(days=3), Action.REMIND),  # the window opens exactly reminder_days_before days ahead
    (timedelta(days=2), Action.REMIND),
    (timedelta(seconds=1), Action.REMIND),
    (timedelta(0), Action.OVERDUE),  # at the deadline it has passed
    (-timedelta(days=1), Action.OVERDUE),
])
def test_the_deadline_decides_by_time(deadline_in: timedelta, expected: Action) -> None:
    assert action_for(violation(deadline_in=deadline_in), NOW, 3) is expected


def test_a_violation_is_reminded_once() -> None:
    assert action_for(violation(reminded_at=NOW - timedelta(hours=1)), NOW, 3) is Action.NOTHING
    # ... but a reminded violation still becomes OVERDUE.
    assert action_for(violation(deadline_in=-timedelta(hours=1), reminded_at=NOW - timedelta(days=2)),
                      NOW, 3) is Action.OVERDUE


@pytest.mark.parametrize("status", [S.ISSUED, S.NOTIFIED, S.UPHELD])
def test_open_fines_are_reminded_and_become_overdue(status: ViolationStatus) -> None:
    assert action_for(violation(status), NOW, 3) is Action.REMIND
    assert action_for(violation(status, deadline_in=-timedelta(days=1)), NOW, 3) is Action.OVERDUE


@pytest.mark.parametrize("status", [S.PAID, S.OBJECTED, S.CANCELLED, S.OVERDUE])
def test_settled_contested_or_already_overdue_violations_are_left_alone(status: ViolationStatus) -> None:
    assert action_for(violation(status), NOW, 3) is Action.NOTHING
    assert action_for(violation(status, deadline_in=-timedelta(days=1)), NOW, 3) is Action.NOTHING


def schedule(percent: int) -> FineSchedule:
    return FineSchedule.default().model_copy(update={"overdue_surcharge_percent": percent})


@pytest.mark.parametrize(("amount", "percent", "surcharge"), [
    (4000, 50, 2000),
    (1, 50, 1),  # 0.5 -> 1: half up
    (3, 50, 2),  # 1.5 -> 2
    (5, 50, 3),  # 2.5 -> 3, where round() would give 2
    (1001, 10, 100),  # 100.1 -> 100
    (1005, 10, 101),  # 100.5 -> 101
    (1500, 0, 0),
])
def test_the_surcharge_is_whole_mru_rounded_half_up(amount: int, percent: int, surcharge: int) -> None:
    assert schedule(percent).surcharge_mru(amount) == surcharge


def test_overdue_charges_are_applied_once() -> None:
    assert overdue_charges(violation(amount=4000), schedule(50)) == {"surcharge_mru": 2000, "amount_due_mru": 6000}
    # OVERDUE again after an upheld objection: the surcharge it already carries stands.
    assert overdue_charges(violation(S.UPHELD, surcharge_mru=2000, amount_due_mru=6000), schedule(50)) is None


def test_the_default_schedule_reminds_three_days_ahead_and_older_schedules_still_load() -> None:
    assert FineSchedule.default().reminder_days_before == 3
    document = FineSchedule.default().model_dump(mode="json", exclude={"reminder_days_before"})
    assert FineSchedule.model_validate(document).reminder_days_before == 3


def test_the_portal_is_told_once_per_deadline_that_passed() -> None:
    overdue = violation(S.OVERDUE, deadline_in=-timedelta(hours=1))
    assert needs_overdue_event(overdue)
    told = overdue.model_copy(update={"overdue_event_for": overdue.deadline_at})
    assert not needs_overdue_event(told)
    # Upheld after an objection, with a new deadline that passed too: the portal hears of it again.
    again = told.model_copy(update={"deadline_at": NOW - timedelta(minutes=5)})
    assert needs_overdue_event(again)
    assert not needs_overdue_event(violation(S.PAID, deadline_in=-timedelta(hours=1)))
