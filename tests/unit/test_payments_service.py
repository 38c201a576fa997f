"""The payment decision (pure) and the reconciliation's arithmetic (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from murur.lifecycle import ViolationStatus
from murur.payments.notice import PaymentNotice, PaymentOutcome, Provider
from murur.payments.report import days_between, masked, reconcile
from murur.payments.repository import PaymentRecord
from murur.payments.service import decide, wallet_actor
from murur.violations import Violation
from murur.workflow import ViolationType

S = ViolationStatus
O = PaymentOutcome
AT = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def violation(status: ViolationStatus, *, amount_due_mru: int | None = None, payment_id: str | None = None) -> Violation:
    return Violation(
        violation_id="MR26-7KQ2M9XA4B", status=status, violation_type=ViolationType.RED_LIGHT, plate="4821AB00",
        owner_nni="1234567890", amount_mru=5000, amount_due_mru=amount_due_mru, payment_id=payment_id,
        issued_at=AT, deadline_at=AT + timedelta(days=30), captured_at=AT, camera_id="NKC-TVZ-01",
        frame_id="F1", frame_bucket="b", frame_key="k", frame_sha256="0" * 64, evidence_bucket="e",
        evidence_frame_key="f", evidence_frame_sha256="1" * 64, evidence_annotated_key="a",
        evidence_annotated_sha256="2" * 64, model_version="m", read_source="model", execution_arn="arn")


def notice(amount_mru: int = 5000, transaction: str = "TX1", provider: Provider = Provider.BANKILY) -> PaymentNotice:
    return PaymentNotice(provider=provider, provider_transaction_id=transaction, violation_reference="mr26-7kq2m9xa4b",
                         amount_mru=amount_mru, paid_at=AT, payer_phone="+22244998877")


@pytest.mark.parametrize("status", [S.ISSUED, S.NOTIFIED, S.UPHELD])
def test_the_fine_paid_in_full_in_a_payable_status_is_applied(status: ViolationStatus) -> None:
    assert decide(violation(status), notice()) is O.APPLIED


def test_overdue_asks_for_the_surcharge_too() -> None:
    overdue = violation(S.OVERDUE, amount_due_mru=7500)
    assert decide(overdue, notice(7500)) is O.APPLIED
    assert decide(overdue, notice(5000)) is O.WRONG_AMOUNT


@pytest.mark.parametrize("amount", [4999, 5001, 50000])
def test_any_other_amount_is_wrong(amount: int) -> None:
    assert decide(violation(S.NOTIFIED), notice(amount)) is O.WRONG_AMOUNT


@pytest.mark.parametrize("status", [S.OBJECTED, S.CANCELLED])
def test_an_objected_or_cancelled_violation_is_not_payable(status: ViolationStatus) -> None:
    assert decide(violation(status), notice()) is O.NOT_PAYABLE


def test_paid_by_this_payment_is_applied_and_by_another_is_already_paid() -> None:
    paid = violation(S.PAID, payment_id="bankily:TX1")
    assert decide(paid, notice()) is O.APPLIED  # a retry finishing its own work
    assert decide(paid, notice(transaction="TX2")) is O.ALREADY_PAID
    assert decide(paid, notice(provider=Provider.SEDAD)) is O.ALREADY_PAID


def test_no_violation_is_an_unknown_reference() -> None:
    assert decide(None, notice()) is O.UNKNOWN_REFERENCE


def test_the_history_names_the_wallet() -> None:
    assert wallet_actor(Provider.MASRVI) == "wallet:masrvi"


def record(provider: Provider, transaction: str, amount: int, outcome: PaymentOutcome, day: int) -> PaymentRecord:
    paid = notice(amount, transaction, provider).model_copy(update={"paid_at": AT + timedelta(days=day)})
    return PaymentRecord.of(paid, outcome=outcome, received_at=paid.paid_at, violation_status="NOTIFIED",
                            amount_due_mru=5000)


def test_reconcile_splits_applied_from_unmatched_and_totals_by_day_and_provider() -> None:
    records = [record(Provider.SEDAD, "S1", 5000, O.APPLIED, 0), record(Provider.BANKILY, "B1", 5000, O.APPLIED, 0),
               record(Provider.BANKILY, "B2", 4000, O.WRONG_AMOUNT, 0), record(Provider.BANKILY, "B3", 5000, O.APPLIED, 1),
               record(Provider.BANKILY, "B4", 5000, O.ALREADY_PAID, 1)]
    result = reconcile(records)
    assert [r.payment_id for r in result.applied] == ["bankily:B1", "sedad:S1", "bankily:B3"]
    assert [r.payment_id for r in result.unmatched] == ["bankily:B2", "bankily:B4"]
    assert [(t.day, t.provider, t.applied_count, t.applied_mru, t.unmatched_count, t.unmatched_mru, t.received_mru)
            for t in result.totals] == [
        ("2026-11-29", "bankily", 1, 5000, 1, 4000, 9000),
        ("2026-11-29", "sedad", 1, 5000, 0, 0, 5000),
        ("2026-11-30", "bankily", 1, 5000, 1, 5000, 10000),
    ]
    assert reconcile([]).totals == []


def test_report_helpers() -> None:
    assert masked("+22244998877") == "+222*****877"
    assert days_between(AT.date(), AT.date() + timedelta(days=2))[-1] == AT.date() + timedelta(days=2)
    with pytest.raises(ValueError):
        days_between(AT.date(), AT.date() - timedelta(days=1))
