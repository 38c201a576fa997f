"""Latency of the wallet payment webhook on the local stack, per delivery.

    .venv/bin/python -m bench.webhook [--deliveries 100]

Signed deliveries go through the template's HTTP API (the local gateway) to the real handler, one at
a time, in four kinds: a payment applied to a NOTIFIED violation (idempotency record, conditional
PAID, payment record, portal event, receipt claim, SMS), the same delivery again (answered from the
idempotency record), a payment for an unknown reference (recorded, nothing applied), and a forged
signature (refused before anything is read). Prints p50/p95 of the whole request and of the
handler's own time. The first delivery, which loads the handler, is left out.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from murur.lifecycle import ViolationStatus
from murur.local import LocalStack
from murur.local.seed import VEHICLES, seed_registry
from murur.local.wallets import provider_payload, signed_delivery, webhook_path
from murur.payments.notice import Provider
from murur.violations import Violation, ViolationsRepository
from murur.workflow import ViolationType

PROVIDERS = list(Provider)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def notified_violation(stack: LocalStack, number: int) -> str:
    reference = f"MR26-BENCH{number:05d}"
    owner = VEHICLES[number % 5]  # the first five have a phone: each applied payment sends a receipt
    at = datetime.now(UTC) - timedelta(days=1)
    violations = ViolationsRepository(stack.client("dynamodb"), stack.name("ViolationsTable"))
    violations.put_new(Violation(
        violation_id=reference, status=ViolationStatus.ISSUED, violation_type=ViolationType.RED_LIGHT,
        plate=owner.plate, owner_nni=owner.owner_nni, amount_mru=5000, issued_at=at,
        deadline_at=at + timedelta(days=30), captured_at=at, camera_id="NKC-TVZ-01", frame_id=reference,
        frame_bucket="frames", frame_key=f"frames/{reference}.jpg", frame_sha256="0" * 64, evidence_bucket="e",
        evidence_frame_key="f", evidence_frame_sha256="1" * 64, evidence_annotated_key="a",
        evidence_annotated_sha256="2" * 64, model_version="bench", read_source="model", execution_arn="arn"),
        actor="bench")
    violations.transition(reference, ViolationStatus.NOTIFIED, actor="bench", at=at)
    return reference


def delivery(number: int, reference: str, *, forged: bool = False) -> tuple[str, dict[str, str], bytes]:
    provider = PROVIDERS[number % len(PROVIDERS)]
    payload = provider_payload(provider, transaction_id=f"BENCH-{number}", reference=reference, amount_mru=5000,
                               paid_at=datetime.now(UTC).replace(microsecond=0), phone_local="44998877")
    headers, body = signed_delivery(provider, payload, secret="forged-secret-" * 3 if forged else None)
    return webhook_path(provider), headers, body


def measure(stack: LocalStack, requests: list[tuple[str, dict[str, str], bytes]], expected: int,
            check: Callable[[dict], bool]) -> dict[str, float]:
    total, inside = [], []
    for path, headers, body in requests:
        started = time.perf_counter()
        answer = stack.http("POST", path, headers=headers, body=body)
        total.append(time.perf_counter() - started)
        inside.append(stack.functions.invocations[-1].seconds)
        if answer.status != expected or not check(answer.json()):
            raise AssertionError(f"unexpected answer {answer.status} {answer.body}")
    return {"deliveries": len(requests),
            "p50_ms": round(percentile(total, 0.5) * 1000, 1), "p95_ms": round(percentile(total, 0.95) * 1000, 1),
            "handler_p50_ms": round(percentile(inside, 0.5) * 1000, 1),
            "handler_p95_ms": round(percentile(inside, 0.95) * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=100, help="per kind")
    args = parser.parse_args()
    n = args.deliveries
    with LocalStack(log_level="CRITICAL") as stack:
        seed_registry(stack)
        references = [notified_violation(stack, number) for number in range(n + 1)]
        first = delivery(-1, references[-1])
        stack.http("POST", first[0], headers=first[1], body=first[2])  # warm-up: loads the handler
        applied = [delivery(number, references[number]) for number in range(n)]
        results = {
            "applied": measure(stack, applied, 200, lambda a: a["outcome"] == "APPLIED"),
            "duplicate": measure(stack, applied, 200, lambda a: a["outcome"] == "APPLIED"),
            "unknown reference": measure(stack, [delivery(n + number, f"MR26-NONE{number:06d}") for number in range(n)],
                                         200, lambda a: a["outcome"] == "UNKNOWN_REFERENCE"),
            "forged signature": measure(stack, [delivery(2 * n + number, references[0], forged=True)
                                                for number in range(n)],
                                        401, lambda a: a["code"] == "SIGNATURE_INVALID"),
        }
        receipts = sum(1 for sms in stack.sms_outbox() if sms["phone_number"] == "+22244998877")
    print(json.dumps({"python": platform.python_version(), "receipts_sent": receipts, "results": results}, indent=2))
    print("\n| delivery | n | p50 | p95 | handler p50 | handler p95 |\n|---|---|---|---|---|---|")
    for kind, r in results.items():
        print(f"| {kind} | {r['deliveries']} | {r['p50_ms']} ms | {r['p95_ms']} ms | {r['handler_p50_ms']} ms | "
              f"{r['handler_p95_ms']} ms |")


if __name__ == "__main__":
    main()
