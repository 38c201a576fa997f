"""Analytics figures: the aggregation's cost per 1 000 violations, the report's time on 100 000.

    .venv/bin/python -m bench.analytics [--violations 1000] [--history 100000] [--no-stack]

1. Aggregation. `--violations` violations (as issue_violation writes them) go through the real
   AggregateViolationsFunction handler as DynamoDB stream events in batches of 100 (the template's
   BatchSize). Its AnalyticsTable client records the TransactWriteItems requests instead of sending
   them, so the time is the function's own work (parsing, validation, building the writes), and the
   writes are counted from what it actually sent: items, and write request units (a transactional
   write costs 2 units per item per KB). moto is not used here: its TransactWriteItems deep-copies
   the whole table for every item, which measures moto, not the function.
2. Report. `--history` offences generated over 365 days at the demo cameras are written as an
   export (gzip JSON Lines by day), then the report is timed from that export; and, unless
   --no-stack, loaded as counters into a local stack and the report timed from its AnalyticsTable.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from murur.analytics.aggregates import AnalyticsRepository, Dimension, tally
from murur.analytics.export import CAMERAS_KEY, camera_record, json_lines_gzip, offence_lines, partition_key
from murur.analytics.report import from_export, from_stack, write_report
from murur.analytics.synthetic import generate_offences
from murur.cameras import Camera
from murur.dynamo import to_item
from murur.lifecycle import ViolationStatus
from murur.local.analytics_demo import DEMO_BASE_RATES
from murur.local.seed import CAMERAS, SECTION_CAMERAS
from murur.violations import Violation

REPOSITORY = Path(__file__).resolve().parents[1]
REGISTER = [Camera.model_validate(asdict(camera)) for camera in CAMERAS + SECTION_CAMERAS]


class RecordingDynamoDB:
    """Stands in for the DynamoDB client: keeps what would have been written."""

    def __init__(self) -> None:
        self.transactions: list[list[dict[str, Any]]] = []

    def transact_write_items(self, TransactItems: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803 - boto3's name
        self.transactions.append(TransactItems)
        return {}


def _violation_image(number: int, camera: Camera, captured_at: datetime) -> dict[str, Any]:
    violation_id = f"MR{captured_at:%y}-B{number:09d}"
    record = Violation(
        violation_id=violation_id, status=ViolationStatus.ISSUED, violation_type="SPEEDING", plate="4821AB00",
        owner_nni="2468013579", amount_mru=4000, issued_at=captured_at + timedelta(seconds=40),
        deadline_at=captured_at + timedelta(days=30), captured_at=captured_at, camera_id=camera.camera_id,
        place=camera.place, region_code=camera.region_code, measured_speed_kmh=87.0, speed_limit_kmh=60.0, lane=2,
        frame_id=f"{camera.camera_id}-F{number:06d}", frame_bucket="frames",
        frame_key=f"frames/{camera.camera_id}/{captured_at:%Y/%m/%d}/F{number:06d}.jpg", frame_sha256="0" * 64,
        evidence_bucket="evidence", evidence_frame_key=f"evidence/{violation_id}/frame.jpg",
        evidence_frame_sha256="1" * 64, evidence_annotated_key=f"evidence/{violation_id}/annotated.jpg",
        evidence_annotated_sha256="2" * 64, model_version="bench", read_source="model", read_confidence=0.97,
        execution_arn=f"arn:aws:states:us-east-1:123456789012:execution:murur-frame-pipeline-dev:{number}")
    return to_item(record.model_dump(mode="json"))


def _stream_batches(count: int, batch_size: int = 100) -> list[dict[str, Any]]:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    records = []
    for number in range(count):
        camera = REGISTER[number % 3]
        image = _violation_image(number, camera, start + timedelta(minutes=7 * number))
        records.append({
            "eventID": f"{number:032x}", "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/violations/stream/2026-11-01T00:00:00.000",
            "dynamodb": {"ApproximateCreationDateTime": 1795000000.0, "Keys": {"violation_id": image["violation_id"]},
                         "NewImage": image, "SequenceNumber": str(10**20 + number),
                         "SizeBytes": len(json.dumps(image)), "StreamViewType": "NEW_AND_OLD_IMAGES"},
        })
    return [{"Records": records[at:at + batch_size]} for at in range(0, count, batch_size)]


def _item_kb(item: dict[str, Any]) -> int:
    """Write units are per started KB of the item; the JSON form slightly overstates DynamoDB's size."""
    return max(1, -(-len(json.dumps(item).encode()) // 1024))


def bench_aggregation(count: int) -> dict[str, Any]:
    # What Lambda's environment and the template give the function; no metrics or traces sent from here.
    for name, value in {"AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_SERVICE_NAME": "aggregate_violations",
                        "POWERTOOLS_METRICS_NAMESPACE": "Murur", "POWERTOOLS_METRICS_DISABLED": "true",
                        "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "WARNING"}.items():
        os.environ.setdefault(name, value)
    spec = importlib.util.spec_from_file_location("bench_aggregate", REPOSITORY / "functions/aggregate_violations/app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    recorder = RecordingDynamoDB()
    module.analytics = lambda: AnalyticsRepository(recorder, "analytics")
    batches = _stream_batches(count)

    class Context:
        function_name, memory_limit_in_mb, aws_request_id = "bench", 256, "bench"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"

    module.handler(batches[0], Context())  # warm: imports and first-call costs are not per violation
    recorder.transactions.clear()
    started = time.perf_counter()
    for batch in batches:
        assert module.handler(batch, Context()) == {"batchItemFailures": []}
    seconds = time.perf_counter() - started
    items = [item for transaction in recorder.transactions for item in transaction]
    units = sum(2 * _item_kb(next(iter(item.values()))) for item in items)
    return {
        "violations": count, "batches": len(batches), "handler_seconds": round(seconds, 3),
        "ms_per_1000": round(seconds / count * 1000 * 1000, 1),
        "transactions": len(recorder.transactions), "items_written": len(items),
        "items_per_violation": round(len(items) / count, 2),
        "write_request_units": units, "write_request_units_per_1000": round(units / count * 1000),
    }


def _history(count: int, end: date) -> list[Any]:
    start = end - timedelta(days=364)
    active = [camera for camera in REGISTER if camera.status == "ACTIVE"]
    per_day = sum(DEMO_BASE_RATES.get(camera.camera_id, 0) for camera in active)
    scale = count / (365 * per_day * (5 + 2 * 0.7) / 7)
    rates = {camera_id: rate * scale for camera_id, rate in DEMO_BASE_RATES.items()}
    return list(generate_offences(active, start, end, base_per_day=rates, seed=7))


def bench_report(count: int, with_stack: bool) -> dict[str, Any]:
    end = date(2026, 11, 28)
    offences = _history(count, end)
    result: dict[str, Any] = {"offences": len(offences), "days": 365, "cameras": len(REGISTER)}
    with tempfile.TemporaryDirectory() as folder:
        export = Path(folder) / "export"
        by_day: dict[date, list[Any]] = {}
        for offence in offences:
            by_day.setdefault(offence.day, []).append(offence.row())
        started = time.perf_counter()
        for day, rows in by_day.items():
            (export / partition_key(day)).parent.mkdir(parents=True, exist_ok=True)
            (export / partition_key(day)).write_bytes(offence_lines(rows))
        (export / CAMERAS_KEY).parent.mkdir(parents=True)
        (export / CAMERAS_KEY).write_bytes(json_lines_gzip(camera_record(camera) for camera in REGISTER))
        result["export_write_seconds"] = round(time.perf_counter() - started, 2)
        result["export_megabytes"] = round(sum(p.stat().st_size for p in export.rglob("*.gz")) / 1e6, 2)
        started = time.perf_counter()
        write_report(from_export(export), Path(folder) / "report-export")
        result["report_from_export_seconds"] = round(time.perf_counter() - started, 2)
        if with_stack:
            from murur.local import LocalStack
            from murur.local.seed import seed_registry

            with LocalStack(log_level="CRITICAL") as stack:
                seed_registry(stack)
                started = time.perf_counter()
                counters = AnalyticsRepository(stack.client("dynamodb"), stack.name("AnalyticsTable")).backfill(
                    tally(offences))
                result["counters"] = counters
                result["counters_load_seconds"] = round(time.perf_counter() - started, 1)
                started = time.perf_counter()
                data = from_stack(stack.client("dynamodb"), stack.name("AnalyticsTable"), stack.name("CamerasTable"),
                                  end=end, days=365)
                write_report(data, Path(folder) / "report-stack")
                result["report_from_counters_seconds"] = round(time.perf_counter() - started, 2)
                # The counters hold every offence: the report answered from them, not from the rows.
                assert sum(data.aggregates.totals(Dimension.NETWORK).values()) == len(offences)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--violations", type=int, default=1000)
    parser.add_argument("--history", type=int, default=100_000)
    parser.add_argument("--no-stack", action="store_true", help="skip the report from a local stack's counters")
    arguments = parser.parse_args()
    figures = {
        "machine": f"{platform.processor() or platform.machine()}, Python {platform.python_version()}",
        "aggregation": bench_aggregation(arguments.violations),
        "report": bench_report(arguments.history, not arguments.no_stack),
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
