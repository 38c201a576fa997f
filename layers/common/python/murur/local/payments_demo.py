"""The demo's wallet payments: two owners pay through signed webhooks, the way their wallets would.

One pays with Bankily and the wallet delivers the notice twice (a retry after a lost answer: the
second delivery changes nothing and gets the same answer); the other pays with Masrvi, after a first
attempt with the wrong amount (recorded for reconciliation, the violation untouched). Then the
reconciliation report for the day.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from murur.local.operator import table_items
from murur.local.seed import vehicle
from murur.local.wallets import provider_payload, signed_delivery, webhook_path
from murur.payments import report
from murur.payments.notice import Provider

PAYABLE = ("UPHELD", "NOTIFIED", "ISSUED", "OVERDUE")  # an upheld fine first: payable again after the ruling


def _payable(stack: Any) -> list[dict[str, Any]]:
    """One payable violation per owner who has a phone (the receipt needs one), upheld fines first."""
    candidates = sorted((v for v in table_items(stack, "ViolationsTable") if v["status"] in PAYABLE),
                        key=lambda v: (PAYABLE.index(v["status"]), v["violation_id"]))
    chosen: dict[str, dict[str, Any]] = {}
    for violation in candidates:
        if violation["owner_nni"] not in chosen and vehicle(violation["plate"]).owner_phone:
            chosen[violation["owner_nni"]] = violation
    return list(chosen.values())[:2]


def owners_pay_by_wallet(stack: Any, say: Callable[[str], None]) -> dict[str, Any]:
    payers = _payable(stack)
    summary: dict[str, Any] = {"payments": [], "deliveries": 0, "receipts": 0, "reconciliation": None}
    if not payers:
        say("\nNo payable violation: the wallet payments step is skipped.")
        return summary
    say(f"\nOwners pay by wallet ({len(payers)}), through signed webhooks:")
    paid_at = datetime.now(UTC).replace(microsecond=0)
    before = len(stack.sms_outbox())
    plans = [(Provider.BANKILY, ["due", "due"]), (Provider.MASRVI, ["wrong", "due"])]
    for number, (violation, (provider, amounts)) in enumerate(zip(payers, plans), start=1):
        owner = vehicle(violation["plate"])
        due = violation.get("amount_due_mru") or violation["amount_mru"]
        for attempt, which in enumerate(amounts, start=1):
            amount = due if which == "due" else due - 500
            transaction = f"DEMO-{provider.value.upper()}-{number}-{attempt if which == 'wrong' else 0}"
            headers, body = signed_delivery(provider, provider_payload(
                provider, transaction_id=transaction, reference=violation["violation_id"], amount_mru=amount,
                paid_at=paid_at, phone_local=str(owner.owner_phone)[-8:]))
            answer = stack.http("POST", webhook_path(provider), headers=headers, body=body)
            summary["deliveries"] += 1
            result = answer.json()
            say(f"  {provider.value:<7} {violation['violation_id']} ({violation['status']}, due {due}) pays {amount:>6} MRU"
                f" -> {answer.status} "
                f"{result.get('outcome', result.get('code'))}"
                + ("   (the same delivery again)" if attempt == 2 and amounts[0] == "due" else ""))
            summary["payments"].append({"payment_id": result.get("payment_id"), "violation_id": violation["violation_id"],
                                        "status": answer.status, "outcome": result.get("outcome")})
        status = next(v for v in table_items(stack, "ViolationsTable")
                      if v["violation_id"] == violation["violation_id"])["status"]
        say(f"  {violation['violation_id']} is now {status}")
    summary["receipts"] = len(stack.sms_outbox()) - before
    printed = io.StringIO()
    report.main(["--table", stack.name("PaymentsTable"), "--from", paid_at.date().isoformat()],
                dynamodb=stack.client("dynamodb"), stream=printed)
    say(f"  receipts sent: {summary['receipts']}; the reconciliation report "
        f"(python -m murur.local payments-report):")
    for line in printed.getvalue().splitlines():
        say(f"    {line}")
    totals = io.StringIO()
    report.main(["--table", stack.name("PaymentsTable"), "--from", paid_at.date().isoformat(), "--json"],
                dynamodb=stack.client("dynamodb"), stream=totals)
    summary["reconciliation"] = json.loads(totals.getvalue())["totals"]
    return summary
