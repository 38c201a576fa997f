"""The reader's most confident mistakes, and whether the plate's size tells them apart.

    .venv/bin/python -m bench.alpr_confident_mistakes [--frames 3000] [--seed 4242] [--top 2000]
                                                      [--models DIR] [--json OUT]

Reads generated frames (a seed that neither training, calibration nor `make eval` uses), ranks every
read by confidence and reports: the rank of the first wrong read, the wrong reads among the `--top`
most confident ones (text, truth, kind, plate width), and, per plate-width bin, how many of the top
reads fall there and how many of those are wrong; and the reads at or above the models' auto-issue
threshold, how many are wrong, and whether the rule holds on these frames. The 99.9 % auto-issue rule needs about 1 000 top
reads with no mistake; a calibration input helps only if it pushes these mistakes down the ranking.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from murur.alpr.calibration import rule_holds
from murur.alpr.evaluate import evaluate_frames, plate_width_bin, synthetic_frames
from murur.alpr.reader import PlateReader


def width_bin(width_px: int | None) -> str:
    return "no plate" if width_px is None else plate_width_bin(width_px)


def confident_mistakes(records: list[dict], top: int, threshold: float = 1.0, target_precision: float = 0.999) -> dict:
    reads = sorted((r for r in records if r["features"] is not None), key=lambda r: -r["confidence"])
    accepted = [r for r in reads if r["confidence"] >= threshold]
    accepted_wrong = sum(not r["correct"] for r in accepted)
    head = reads[:top]
    bins: dict[str, dict[str, int]] = {}
    for r in head:
        entry = bins.setdefault(width_bin(r.get("plate_width_px")), {"reads": 0, "wrong": 0})
        entry["reads"] += 1
        entry["wrong"] += not r["correct"]
    mistakes = [
        {"rank": rank, "confidence": round(r["confidence"], 4), "read": r["read"], "truth": r["truth"],
         "kind": r["kind"], "plate_width_px": r.get("plate_width_px")}
        for rank, r in enumerate(head) if not r["correct"]
    ]
    return {
        "reads": len(reads),
        "right": sum(r["correct"] for r in reads),
        "first_wrong_rank": next((rank for rank, r in enumerate(reads) if not r["correct"]), None),
        "top": len(head),
        "wrong_in_top": len(mistakes),
        "top_by_plate_width": bins,
        "mistakes": mistakes,
        # These frames are a third draw beside the calibration's two: the models' threshold must hold here too.
        "at_threshold": {"threshold": threshold, "accepted": len(accepted), "wrong": accepted_wrong,
                         "rule_met": bool(rule_holds(accepted_wrong, len(accepted), target_precision))},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=4242)
    parser.add_argument("--top", type=int, default=2000)
    parser.add_argument("--models", type=Path, help="model directory (default: the shipped models)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    reader = PlateReader(args.models) if args.models else PlateReader.default()
    records = evaluate_frames(reader, synthetic_frames(args.seed, args.frames))
    report = {"model_version": reader.model_version, "frames": args.frames, "seed": args.seed,
              **confident_mistakes(records, args.top, reader.auto_issue_threshold,
                                   float(reader.card.get("target_precision", 0.999)))}
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
