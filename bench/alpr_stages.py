"""Where the plate reader's time goes: milliseconds per frame in each stage of `PlateReader.read`.

    .venv/bin/python -m bench.alpr_stages [--frames 150] [--seed 12345] [--real DIR] [--models DIR] [--json OUT]

The stages are timed by wrapping the functions and onnxruntime sessions that `murur.alpr.reader` calls,
so what is timed is the shipped code path itself, not a copy of it: JPEG decoding, the detector's
letterbox, its network and the decoding of its output, the refiner's neighbourhoods and network, the
recogniser's crops (rectification), its network, the softmax, and CTC decoding with the layout
priors. `other` is the rest of `read` (looks, votes, calibration, building the results). One thread,
frames one at a time, the first frame left out (sessions warm up). Shared vCPUs change speed from one
run to the next by 10-15 %: compare two versions by the stages' shares, or run them alternately.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

import murur.alpr.reader as reader_module
from murur.alpr.evaluate import SYNTHETIC_SEED, real_frames, synthetic_frames
from murur.alpr.reader import PlateReader

# (name in the report, module attribute of murur.alpr.reader that read() calls)
MODULE_STAGES = (
    ("decode_jpeg", "decode_grey"),
    ("detector_letterbox", "letterbox"),
    ("detector_decode", "decode_detector"),
    ("refiner_crops", "refiner_neighbourhood"),
    ("recogniser_crops", "rectify_plate"),
    ("softmax", "softmax"),
    ("ctc_and_layouts", "decode_plate_text"),
)
SESSION_STAGES = (("detector_network", "_detector"), ("refiner_network", "_refiner"), ("recogniser_network", "_recognizer"))


class _Timed:
    """A callable's stand-in that adds the time of each call to `totals[name]`."""

    def __init__(self, function, name: str, totals: dict[str, float]):
        self.function, self.name, self.totals = function, name, totals

    def __call__(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return self.function(*args, **kwargs)
        finally:
            self.totals[self.name] += time.perf_counter() - start


class _TimedSession:
    """An onnxruntime session's stand-in whose `run` is timed (the reader calls nothing else on it)."""

    def __init__(self, session, name: str, totals: dict[str, float]):
        self.run = _Timed(session.run, name, totals)


def stage_times(reader: PlateReader, images: list[bytes]) -> dict:
    """ms per frame in each stage over `images` (the first one only warms up), and the frames' latency."""
    totals: dict[str, float] = defaultdict(float)
    saved_functions = {attr: getattr(reader_module, attr) for _, attr in MODULE_STAGES}
    saved_sessions = {attr: getattr(reader, attr) for _, attr in SESSION_STAGES}
    try:
        for name, attr in MODULE_STAGES:
            setattr(reader_module, attr, _Timed(saved_functions[attr], name, totals))
        for name, attr in SESSION_STAGES:
            if saved_sessions[attr] is not None:
                setattr(reader, attr, _TimedSession(saved_sessions[attr], name, totals))
        reader.read(images[0])
        totals.clear()
        latencies = []
        for image in images[1:]:
            start = time.perf_counter()
            reader.read(image)
            latencies.append(time.perf_counter() - start)
    finally:
        for attr, function in saved_functions.items():
            setattr(reader_module, attr, function)
        for attr, session in saved_sessions.items():
            setattr(reader, attr, session)
    frames = len(latencies)
    whole = float(np.sum(latencies))
    stages = {name: round(totals[name] / frames * 1000, 2) for name, _ in MODULE_STAGES + SESSION_STAGES}
    stages["other"] = round((whole - sum(totals.values())) / frames * 1000, 2)
    return {
        "frames": frames,
        "ms_per_frame_mean": round(whole / frames * 1000, 2),
        "ms_per_frame_p50": round(float(np.percentile(latencies, 50)) * 1000, 2),
        "ms_per_frame_p95": round(float(np.percentile(latencies, 95)) * 1000, 2),
        "stages_ms_per_frame": dict(sorted(stages.items(), key=lambda item: -item[1])),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=150, help="synthetic 1080p frames (make eval's mixed set)")
    parser.add_argument("--seed", type=int, default=SYNTHETIC_SEED)
    parser.add_argument("--real", type=Path, help="also a folder of annotated real photos")
    parser.add_argument("--models", type=Path, help="model directory (default: the shipped models)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    reader = PlateReader(args.models) if args.models else PlateReader.default()
    report: dict = {"model_version": reader.model_version}
    if args.frames:
        report["synthetic_mixed"] = stage_times(reader, [f.image for f in synthetic_frames(args.seed, args.frames + 1)])
    if args.real:
        report["real"] = stage_times(reader, [f.image for f in real_frames(args.real)])
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
