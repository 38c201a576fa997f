"""Latency of the whole chain on the local stack, per frame: camera PUT -> execution finished.

    .venv/bin/python -m bench.chain [--frames 30] [--seed 7]

Each frame is a generated road scene showing a registered plate; it is uploaded, delivered to
ingest_frame as EventBridge would, and followed until its execution ends (or waits for an officer).
Frames go one at a time, so the numbers are per-frame latency, not throughput. Prints p50/p95 of
the end-to-end time and of each handler's own time.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import numpy as np

from murur.local import LocalStack
from murur.local.camera import scene_upload
from murur.local.demo import PlannedFrame, process
from murur.local.seed import CAMERAS, VEHICLES, seed_registry


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def run(frames: int, seed: int, size: tuple[int, int]) -> dict[str, object]:
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
    warm_from = 0
    with LocalStack(log_level="CRITICAL") as stack:
        seed_registry(stack)
        for number, upload in enumerate(uploads):
            outcome = process(stack, PlannedFrame(upload, "bench"), max_poll_delay=0.002)
            if number == 0:
                # The first frame also loads the plate reader's models: a cold start, left out.
                warm_from = len(stack.functions.invocations)
                continue
            latencies.append(outcome.seconds)
            statuses[outcome.status] += 1
            by_status[outcome.status].append(outcome.seconds)
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
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    args = parser.parse_args()
    print(json.dumps(run(args.frames, args.seed, (args.width, args.height)), indent=2))


if __name__ == "__main__":
    main()
