from __future__ import annotations

from datetime import UTC, datetime

import pytest

from murur.reviews import InvalidDecision, make_decision
from murur.workflow import ReviewOutcome

AT = datetime(2026, 11, 28, 10, tzinfo=UTC)


def test_a_correction_carries_the_normalised_plate() -> None:
    decision = make_decision("corrected", plate_text="2718 eh-00", reviewer="officer-17", decided_at=AT)
    assert (decision.outcome, decision.plate_text, decision.reviewer) == (ReviewOutcome.CORRECTED, "2718EH00", "officer-17")


def test_a_correction_without_a_plate_is_refused() -> None:
    with pytest.raises(InvalidDecision):
        make_decision(ReviewOutcome.CORRECTED, plate_text=" - ", reviewer="officer-17", decided_at=AT)


def test_a_confirmation_keeps_the_model_read_and_a_discard_carries_no_plate() -> None:
    assert make_decision("CONFIRMED", reviewer="o", decided_at=AT).plate_text is None
    assert make_decision("discarded", plate_text="2718EH00", reviewer="o", decided_at=AT).plate_text is None


def test_an_unknown_outcome_is_refused() -> None:
    with pytest.raises(ValueError):
        make_decision("MAYBE", reviewer="o", decided_at=AT)
