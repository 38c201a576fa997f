"""Throughput of the local citizens' API: requests per second through the template's HTTP API.

    .venv/bin/python -m bench.api [--violations 200] [--requests 300]

A local stack with the demo registry and `--violations` violations spread over the demo owners;
then, one request at a time, each of:
  GET /violations?limit=20               a page of the caller's violations (owner-index query)
  GET /violations/{violation_id}         one violation (GetItem, presigned evidence URL)
with a fresh-looking caller each time (tokens minted in advance), through the whole local path:
the gateway's JWT check (RS256 signature, issuer, audience, expiry), the API Gateway v2 event, the
handler (Powertools resolver with pydantic validation) and moto's DynamoDB. Prints requests/s and
p50/p95 of the whole request and of the handler alone. The first request of each kind is left out.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import UTC, datetime, timedelta

from murur.lifecycle import ViolationStatus
from murur.local import LocalStack
from murur.local.identity import citizen_token
from murur.local.seed import VEHICLES, seed_registry
from murur.violations import Violation, ViolationsRepository
from murur.workflow import ViolationType


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def issue(stack: LocalStack, count: int) -> dict[str, list[str]]:
    """`count` violations over the demo owners; {owner NNI: their violation ids}."""
    violations = ViolationsRepository(stack.client("dynamodb"), stack.name("ViolationsTable"))
    owned: dict[str, list[str]] = {}
    now = datetime.now(UTC).replace(microsecond=0)
    for number in range(count):
        owner = VEHICLES[number % len(VEHICLES)]
        reference = f"MR26-{number:010d}"
        at = now - timedelta(hours=number)
        violations.put_new(Violation(
            violation_id=reference, status=ViolationStatus.ISSUED, violation_type=ViolationType.RED_LIGHT,
            plate=owner.plate, owner_nni=owner.owner_nni, amount_mru=5000, issued_at=at,
            deadline_at=at + timedelta(days=30), captured_at=at, camera_id="NKC-TVZ-01", frame_id=reference,
            frame_bucket="frames", frame_key=f"frames/{reference}.jpg", frame_sha256="0" * 64,
            evidence_bucket=stack.name("EvidenceBucket"), evidence_frame_key="evidence/f.jpg",
            evidence_frame_sha256="1" * 64, evidence_annotated_key="evidence/a.jpg",
            evidence_annotated_sha256="2" * 64, model_version="bench", read_source="model", execution_arn="arn"),
            actor="bench")
        owned.setdefault(owner.owner_nni, []).append(reference)
    return owned


def measure(stack: LocalStack, label: str, requests: list[tuple[str, str]]) -> dict:
    """Send (path, token) requests one at a time; the first is a warm-up."""
    totals, handler = [], []
    stack.http("GET", requests[0][0], token=requests[0][1])
    started = time.perf_counter()
    for path, token in requests[1:]:
        calls = len(stack.functions.invocations)
        begun = time.perf_counter()
        response = stack.http("GET", path, token=token)
        totals.append(time.perf_counter() - begun)
        assert response.status == 200, response.body
        handler += [call.seconds for call in stack.functions.invocations[calls:]]
    elapsed = time.perf_counter() - started
    return {"route": label, "requests": len(totals), "requests_per_second": round(len(totals) / elapsed, 1),
            "p50_ms": round(percentile(totals, 0.5) * 1000, 1), "p95_ms": round(percentile(totals, 0.95) * 1000, 1),
            "handler_p50_ms": round(percentile(handler, 0.5) * 1000, 1),
            "handler_p95_ms": round(percentile(handler, 0.95) * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--violations", type=int, default=200)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    with LocalStack(log_level="CRITICAL") as stack:
        seed_registry(stack)
        owned = issue(stack, args.violations)
        owners = list(owned)
        tokens = [citizen_token(owners[n % len(owners)]) for n in range(args.requests + 1)]
        lists = [("/violations?limit=20", token) for token in tokens]
        details = []
        for number, token in enumerate(tokens):
            nni = owners[number % len(owners)]
            details.append((f"/violations/{owned[nni][number % len(owned[nni])]}", token))
        results = [measure(stack, "GET /violations?limit=20", lists),
                   measure(stack, "GET /violations/{violation_id}", details)]
        # The same page straight from the repository: how much of the list is moto's query.
        repository = ViolationsRepository(stack.client("dynamodb"), stack.name("ViolationsTable"))
        query = []
        for number in range(args.requests):
            begun = time.perf_counter()
            repository.owned_by(owners[number % len(owners)], limit=20)
            query.append(time.perf_counter() - begun)
    print(f"owner-index page of 20 straight from the repository (moto): p50 {percentile(query, 0.5) * 1000:.1f} ms, "
          f"p95 {percentile(query, 0.95) * 1000:.1f} ms")
    print(f"{platform.python_implementation()} {platform.python_version()} on {platform.machine()}, "
          f"{args.violations} violations, {args.requests} requests per route, one at a time")
    print(f"{'route':<34} {'req/s':>7} {'p50':>8} {'p95':>8} {'handler p50':>12} {'p95':>8}")
    for r in results:
        print(f"{r['route']:<34} {r['requests_per_second']:>7} {r['p50_ms']:>6}ms {r['p95_ms']:>6}ms "
              f"{r['handler_p50_ms']:>10}ms {r['handler_p95_ms']:>6}ms")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()
