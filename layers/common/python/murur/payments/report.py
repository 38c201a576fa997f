"""Reconciliation: the payments of some days, applied and unmatched, with totals per provider and day.

    python -m murur.payments.report --table PAYMENTS_TABLE_NAME [--from 2026-11-01] [--to 2026-11-30]
                                    [--provider bankily] [--json]

Reads PaymentsTable through its day-index (one query per day, never a scan), with the caller's AWS
credentials; the table name defaults to $PAYMENTS_TABLE. The totals are what each provider's
settlement statement for the day should show; every unmatched payment is listed with its reason,
to be refunded or applied by hand. Payer numbers are masked.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TextIO

from murur.payments.notice import PaymentOutcome, Provider
from murur.payments.repository import PaymentRecord, PaymentsRepository
from murur.settings import ENV_PAYMENTS_TABLE


@dataclass
class DayTotals:
    day: str
    provider: str
    applied_count: int = 0
    applied_mru: int = 0
    unmatched_count: int = 0
    unmatched_mru: int = 0

    @property
    def received_mru(self) -> int:
        return self.applied_mru + self.unmatched_mru


@dataclass
class Reconciliation:
    applied: list[PaymentRecord] = field(default_factory=list)
    unmatched: list[PaymentRecord] = field(default_factory=list)
    totals: list[DayTotals] = field(default_factory=list)  # by day, then provider

    def as_json(self) -> dict[str, Any]:
        def line(record: PaymentRecord) -> dict[str, Any]:
            return {**record.model_dump(mode="json", include={
                "payment_id", "provider", "provider_transaction_id", "violation_reference", "amount_mru",
                "amount_due_mru", "paid_at", "outcome", "violation_status"}),
                "receipt": receipt(record), "payer_phone": masked(record.payer_phone)}

        return {"applied": [line(r) for r in self.applied], "unmatched": [line(r) for r in self.unmatched],
                "totals": [asdict(t) | {"received_mru": t.received_mru} for t in self.totals]}


def masked(phone: str) -> str:
    """Enough to tell payers apart on a call, not enough to call them: +222*****890. (Not Powertools
    data masking: its extra brings the AWS Encryption SDK into the layer for this one-line mask.)"""
    return phone[:4] + "*" * max(len(phone) - 7, 0) + phone[-3:] if len(phone) > 7 else "***"


def receipt(record: PaymentRecord) -> str:
    """SENT, NO_PHONE, INVALID_PHONE, FAILED (SNS refused it), or - (not claimed yet)."""
    if record.receipt_error:
        return "FAILED"
    return record.receipt_sms_status.value if record.receipt_sms_status else "-"


def reconcile(records: Iterable[PaymentRecord]) -> Reconciliation:
    """Pure: split and total the records."""
    result = Reconciliation()
    totals: dict[tuple[str, str], DayTotals] = {}
    for record in sorted(records, key=lambda r: (r.paid_day, r.provider.value, r.paid_at, r.payment_id)):
        day = totals.setdefault((record.paid_day, record.provider.value), DayTotals(record.paid_day,
                                                                                    record.provider.value))
        if record.outcome is PaymentOutcome.APPLIED:
            result.applied.append(record)
            day.applied_count += 1
            day.applied_mru += record.amount_mru
        else:
            result.unmatched.append(record)
            day.unmatched_count += 1
            day.unmatched_mru += record.amount_mru
    result.totals = [totals[key] for key in sorted(totals)]
    return result


def days_between(first: date, last: date) -> list[date]:
    if last < first:
        raise ValueError("the last day is before the first")
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def collect(payments: PaymentsRepository, days: Iterable[date], provider: Provider | None = None) -> Reconciliation:
    return reconcile(record for day in days for record in payments.on_day(day, provider))


def render(reconciliation: Reconciliation, stream: TextIO) -> None:
    def say(text: str = "") -> None:
        print(text, file=stream)

    say(f"Payments applied: {len(reconciliation.applied)}")
    for r in reconciliation.applied:
        say(f"  {r.paid_at:%Y-%m-%d %H:%M}  {r.payment_id:<32} {r.violation_reference:<16} {r.amount_mru:>8} MRU  "
            f"receipt {receipt(r)}")
    say(f"Payments unmatched: {len(reconciliation.unmatched)} (refund, or apply by hand)")
    for r in reconciliation.unmatched:
        due = f"due {r.amount_due_mru}" if r.amount_due_mru is not None else "no violation"
        status = f", violation {r.violation_status}" if r.violation_status else ""
        say(f"  {r.paid_at:%Y-%m-%d %H:%M}  {r.payment_id:<32} {r.violation_reference:<16} {r.amount_mru:>8} MRU  "
            f"{r.outcome.value} ({due}{status})  payer {masked(r.payer_phone)}")
    say("Totals per day and provider (MRU):")
    say(f"  {'day':<10} {'provider':<8} {'applied':>8} {'amount':>10} {'unmatched':>9} {'amount':>10} {'received':>10}")
    for t in reconciliation.totals:
        say(f"  {t.day:<10} {t.provider:<8} {t.applied_count:>8} {t.applied_mru:>10} {t.unmatched_count:>9} "
            f"{t.unmatched_mru:>10} {t.received_mru:>10}")


def main(argv: list[str] | None = None, *, dynamodb: Any = None, stream: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(prog="python -m murur.payments.report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    today = datetime.now(UTC).date()
    parser.add_argument("--table", default=os.environ.get(ENV_PAYMENTS_TABLE), help="PaymentsTable's name")
    parser.add_argument("--from", dest="first", type=date.fromisoformat, default=today, help="first day (UTC)")
    parser.add_argument("--to", dest="last", type=date.fromisoformat, help="last day (UTC), default: --from")
    parser.add_argument("--provider", type=Provider, choices=list(Provider))
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    if not args.table:
        parser.error(f"name the payments table with --table or ${ENV_PAYMENTS_TABLE}")
    try:
        days = days_between(args.first, args.last or args.first)
    except ValueError as error:
        parser.error(str(error))
    if dynamodb is None:
        import boto3

        dynamodb = boto3.client("dynamodb")
    reconciliation = collect(PaymentsRepository(dynamodb, args.table), days, args.provider)
    if args.json:
        json.dump(reconciliation.as_json(), stream, indent=2, ensure_ascii=False)
        stream.write("\n")
    else:
        render(reconciliation, stream)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
