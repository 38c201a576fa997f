"""Latency of the whole chain on the local stack, per frame: camera PUT -> execution finished.

    .venv/bin/python -m bench.chain [--frames 30] [--seed 7] [--threshold 0.95]

Each frame is a generated road scene showing a registered plate; it is uploaded, delivered to
ingest_frame as EventBridge would, and followed until its execution ends (or waits for an officer).
Frames go one at a time, so the numbers are per-frame latency, not throughput. Prints p50/p95 of
the end-to-end time and of each handler's own time; for frames that end in an SMS, of the time
from the camera's PUT to the SMS recorded (Notify's state exited: SNS accepted it and the violation
says NOTIFIED), and of each step on the way, from the execution's history. `--threshold` is the
AutoIssueThreshold template parameter (default: the shipped model card's, which sends every read
to an officer; a deployment's validated threshold, e.g. 0.95, lets confident reads reach the SMS).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from murur.local import LocalStack
from murur.local.camera import scene_upload
from murur.local.demo import PlannedFrame, process
from murur.local.seed import CAMERAS, VEHICLES, seed_registry


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def steps_of(history: list[dict[str, Any]], uploaded_at: datetime) -> dict[str, float]:
    """Seconds per step of one execution: the upload until the execution started (PUT, EventBridge
    delivery, ingest_frame), then each Task state from entered to exited; and `upload_to_sms`."""
    steps: dict[str, float] = {}
    entered: dict[str, datetime] = {}
    for event in history:
        if event["type"] == "ExecutionStarted":
            steps["upload_to_execution_start"] = (event["timestamp"] - uploaded_at).total_seconds()
        elif event["type"] == "TaskStateEntered":
            entered[event["stateEnteredEventDetails"]["name"]] = event["timestamp"]
        elif event["type"] == "TaskStateExited":
            name = event["stateExitedEventDetails"]["name"]
            if name in entered:
                steps[name] = (event["timestamp"] - entered[name]).total_seconds()
            if name == "Notify":
                steps["upload_to_sms"] = (event["timestamp"] - uploaded_at).total_seconds()
    return steps


def run(frames: int, seed: int, size: tuple[int, int], threshold: str | None = None) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    cameras = [camera for camera in CAMERAS if camera.status == "ACTIVE"]
    start = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    uploads = [
        scene_upload(cameras[n % len(cameras)].camera_id, f"BENCH{n:05d}", start + timedelta(minutes=n),
                     [VEHICLES[n % len(VEHICLES)].plate], seed=int(rng.integers(1 << 31)), size=size)
        for n in range(frames + 1)
    ]
    latencies: list[float] = []
    statuses: dict[str, int] = defaultdict(int)
    by_status: dict[str, list[float]] = defaultdict(list)
    step_seconds: dict[str, list[float]] = defaultdict(list)
    warm_from = 0
    parameters = {"AutoIssueThreshold": threshold} if threshold else {}
    with LocalStack(parameters, log_level="CRITICAL") as stack:
        seed_registry(stack)
        for number, upload in enumerate(uploads):
            uploaded_at = datetime.now(UTC)
            outcome = process(stack, PlannedFrame(upload, "bench"), max_poll_delay=0.002)
            if number == 0:
                # The first frame also loads the plate reader's models: a cold start, left out.
                warm_from = len(stack.functions.invocations)
                continue
            latencies.append(outcome.seconds)
            statuses[outcome.status] += 1
            by_status[outcome.status].append(outcome.seconds)
            if outcome.execution:
                for step, seconds in steps_of(stack.history(outcome.execution["executionArn"]), uploaded_at).items():
                    step_seconds[step].append(seconds)
        handler_seconds: dict[str, list[float]] = defaultdict(list)
        for invocation in stack.functions.invocations[warm_from:]:
            handler_seconds[invocation.function].append(invocation.seconds)
    return {
        "frames": frames,
        "frame_size": f"{size[0]}x{size[1]}",
        "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}",
        "chain_p50_ms": round(1000 * statistics.median(latencies), 1),
        "chain_p95_ms": round(1000 * percentile(latencies, 0.95), 1),
        "frame_statuses": dict(statuses),
        # A frame that becomes a violation runs every state; one that waits for an officer stops early.
        "p50_p95_ms_by_outcome": {
            status: [round(1000 * statistics.median(s), 1), round(1000 * percentile(s, 0.95), 1)]
            for status, s in sorted(by_status.items())
        },
        "handlers_p50_ms": {name: round(1000 * statistics.median(s), 1) for name, s in sorted(handler_seconds.items())},
        "handlers_p95_ms": {name: round(1000 * percentile(s, 0.95), 1) for name, s in sorted(handler_seconds.items())},
        "auto_issue_threshold": threshold or "the model card's",
        # Upload -> SMS recorded, and each step on the way (from the executions' histories): [count, p50, p95].
        "steps_count_p50_p95_ms": {
            step: [len(s), round(1000 * statistics.median(s), 1), round(1000 * percentile(s, 0.95), 1)]
            for step, s in sorted(step_seconds.items())
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--threshold", help="AutoIssueThreshold (default: the shipped model card's)")
    args = parser.parse_args()
    print(json.dumps(run(args.frames, args.seed, (args.width, args.height), args.threshold), indent=2))


if __name__ == "__main__":
    main()
