from __future__ import annotations

from datetime import UTC, datetime
from itertools import product

import pytest

from murur.errors import MururError, TransitionRefused
from murur.lifecycle import FINAL, StatusChange, ViolationStatus, check_transition

S = ViolationStatus
# The lifecycle as the enforcement rules state it, written out independently of the module's table.
ALLOWED = {
    (S.ISSUED, S.NOTIFIED),
    (S.ISSUED, S.PAID), (S.ISSUED, S.OBJECTED), (S.ISSUED, S.OVERDUE),
    (S.NOTIFIED, S.PAID), (S.NOTIFIED, S.OBJECTED), (S.NOTIFIED, S.OVERDUE),
    (S.OVERDUE, S.PAID), (S.OVERDUE, S.OBJECTED),
    (S.OBJECTED, S.UPHELD), (S.OBJECTED, S.CANCELLED),
    (S.UPHELD, S.PAID), (S.UPHELD, S.OVERDUE),
}
REFUSED = sorted(set(product(S, S)) - ALLOWED)


def _id(pair: tuple[ViolationStatus, ViolationStatus]) -> str:
    return f"{pair[0].value}->{pair[1].value}"


@pytest.mark.parametrize("pair", sorted(ALLOWED), ids=_id)
def test_an_allowed_change_passes(pair: tuple[ViolationStatus, ViolationStatus]) -> None:
    check_transition(*pair)


@pytest.mark.parametrize("pair", REFUSED, ids=_id)
def test_every_other_change_is_refused(pair: tuple[ViolationStatus, ViolationStatus]) -> None:
    current, target = pair
    with pytest.raises(TransitionRefused) as raised:
        check_transition(current, target)
    assert isinstance(raised.value, MururError)
    assert str(raised.value) == f"{current.value} -> {target.value} is not allowed"


def test_the_table_covers_every_pair_once() -> None:
    assert len(ALLOWED) + len(REFUSED) == len(S) ** 2 == 49


def test_paid_and_cancelled_are_final_and_nothing_returns_to_issued() -> None:
    assert FINAL == {S.PAID, S.CANCELLED}
    assert not any(target is S.ISSUED for _, target in ALLOWED)


def test_statuses_given_as_strings_are_checked_the_same() -> None:
    check_transition("NOTIFIED", "PAID")  # type: ignore[arg-type]
    with pytest.raises(TransitionRefused):
        check_transition("PAID", "NOTIFIED")  # type: ignore[arg-type]


def test_a_history_entry_is_stored_as_from_to_actor_at_reason_without_absent_values() -> None:
    at = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    change = StatusChange(from_status=S.OBJECTED, to=S.UPHELD, actor="officer:NKC-0042", at=at, reason="photo clear")
    assert change.stored() == {"from": "OBJECTED", "to": "UPHELD", "actor": "officer:NKC-0042",
                               "at": "2026-11-29T08:00:00Z", "reason": "photo clear"}
    assert StatusChange(to=S.ISSUED, actor="system:issue_violation", at=at).stored() == {
        "to": "ISSUED", "actor": "system:issue_violation", "at": "2026-11-29T08:00:00Z"}
    assert StatusChange.model_validate(change.stored()) == change
