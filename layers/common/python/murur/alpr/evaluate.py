"""Measure the plate reader on held-out synthetic frames and on a folder of annotated real photos.

    python -m murur.alpr.evaluate --synthetic 300 [--real DIR] [--json OUT.json] [--models DIR]
        [--misreads DIR] [--audit FILE.tsv ...]

A real folder holds `NAME.jpg` + `NAME.txt`, the text being one tab-separated line
`NAME.jpg <x> <y> <width> <height> <PLATE_TEXT>` per plate (box in pixels, text normalised).
Reported: detection recall (IoU >= 0.5), exact-match reads of whole photos, character error rate,
precision and coverage at the auto-issue threshold, a reliability table, latency per frame on one
thread, exact reads by the plate's width in pixels and by plate kind (synthetic sets), and the
recogniser alone on the true plate crops. `--misreads DIR` also writes contact sheets of every plate
read wrong or missed, for a person to judge which of them were legible (murur.alpr.misreads);
`--audit` takes such sheets' filled index back and adds `judged`: the whole-frame and per-plate
figures with the plates judged illegible counted neither way (a misread plate not yet judged counts
as legible, so the figure only rises as far as a person's verdicts allow).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from murur.alpr.calibration import reliability_table
from murur.alpr.formats import normalise
from murur.alpr.imaging import InvalidImage, decode_grey, rectify_plate
from murur.alpr.misreads import ILLEGIBLE, VERDICTS, PlateKey, VerdictError, plate_key, read_verdicts, write_misread_sheets
from murur.alpr.postprocess import box_iou, edit_distance
from murur.alpr.reader import PlateReader

SYNTHETIC_SEED = 12345  # differs from the training and calibration seeds
TWO_ROW_KINDS = ("mr_two_row", "foreign_two_row")
MAURITANIAN_KINDS = ("mr_civil", "mr_government", "mr_diplomatic", "mr_two_row")
# Edges of the plate-width bins (pixels of the annotated box): how far a camera may be zoomed out.
PLATE_WIDTH_EDGES = (70, 90, 120, 160, 250)
# Where a generated plate's measured legibility (murur.alpr.synth.legibility) counts as legible. Chosen
# against a person's verdicts on the held-out misreads: below it fall 11 of the 19 plates judged
# illegible, 1 of the 17 judged legible, and 3 of the 384 plates read right (docs/BENCHMARKS.md).
LEGIBLE_MIN = 25.0
# Edges of the legibility bins: how much the camera left of the characters.
LEGIBILITY_EDGES = (15, LEGIBLE_MIN, 50, 100)


@dataclass(frozen=True)
class Truth:
    text: str
    box: tuple[int, int, int, int]
    kind: str | None = None
    corners: np.ndarray | None = None
    legibility: float | None = None  # synthetic plates only (murur.alpr.synth.legibility)


@dataclass(frozen=True)
class Frame:
    name: str
    image: bytes
    truths: list[Truth]


def synthetic_frames(seed: int, count: int, size: tuple[int, int] = (1920, 1080), kinds: tuple[str, ...] | None = None) -> Iterator[Frame]:
    """Held-out camera frames from the generator, JPEG-encoded as a camera would send them."""
    from murur.alpr.synth import compose_scene, random_plate

    rng = np.random.default_rng([seed, 3])
    for i in range(count):
        plates = None
        if kinds:
            plates = [random_plate(rng, kinds[int(rng.integers(len(kinds)))]) for _ in range(int(rng.integers(1, 3)))]
        scene = compose_scene(rng, plates, size=size)
        truths = [Truth(a.text, tuple(a.box), a.kind, a.corners, a.legibility) for a in scene.annotations]
        yield Frame(f"synthetic-{seed}-{i:05d}", scene.to_jpeg(int(rng.integers(70, 96))), truths)


def real_frames(folder: Path) -> Iterator[Frame]:
    for label in sorted(folder.glob("*.txt")):
        truths, image_name = [], None
        for line in label.read_text().splitlines():
            parts = line.split("\t") if "\t" in line else line.split()
            if len(parts) < 6:
                continue
            image_name = parts[0]
            x, y, w, h = (int(float(v)) for v in parts[1:5])
            truths.append(Truth(normalise(parts[5]), (x, y, x + w, y + h)))
        if image_name and (folder / image_name).is_file():
            yield Frame(image_name, (folder / image_name).read_bytes(), truths)


def evaluate_frames(reader: PlateReader, frames: Iterable[Frame]) -> list[dict]:
    """One record per true plate (read or missed) and one per read matching no true plate."""
    records = []
    for frame in frames:
        started = time.perf_counter()
        try:
            reads = reader.read(frame.image)
        except InvalidImage:
            reads = []
        elapsed_ms = (time.perf_counter() - started) * 1000
        used = set()
        for t_index, truth in enumerate(frame.truths):
            best, best_iou = None, 0.0
            for r_index, read in enumerate(reads):
                iou = box_iou(truth.box, read.box)
                if iou > best_iou and r_index not in used:
                    best, best_iou = r_index, iou
            matched = best is not None and best_iou >= 0.5
            read = reads[best] if matched else None
            if matched:
                used.add(best)
            records.append({
                "frame": frame.name, "truth": truth.text, "kind": truth.kind, "detected": matched, "iou": best_iou,
                "plate_width_px": truth.box[2] - truth.box[0], "legibility": truth.legibility,
                "read": read.text if read else "", "confidence": read.confidence if read else 0.0,
                "features": read.features().tolist() if read else None,
                "correct": bool(read is not None and read.text == truth.text),
                "text_anywhere": any(r.text == truth.text for r in reads),
                "latency_ms": elapsed_ms if t_index == 0 else None,
            })
        for r_index, read in enumerate(reads):
            if r_index not in used:
                records.append({
                    "frame": frame.name, "truth": None, "kind": None, "detected": False, "iou": 0.0,
                    "read": read.text, "confidence": read.confidence, "features": read.features().tolist(),
                    "correct": False, "text_anywhere": False,
                    "latency_ms": elapsed_ms if not frame.truths and r_index == 0 else None,
                })
        if not frame.truths and not reads:
            records.append({"frame": frame.name, "truth": None, "kind": None, "detected": False, "iou": 0.0, "read": "",
                            "confidence": 0.0, "features": None, "correct": False, "text_anywhere": False,
                            "latency_ms": elapsed_ms})
    return records


def summarise(records: list[dict], threshold: float) -> dict:
    plates = [r for r in records if r["truth"] is not None]
    reads = [r for r in records if r["read"]]
    accepted = [r for r in reads if r["confidence"] >= threshold]
    latencies = np.array([r["latency_ms"] for r in records if r["latency_ms"] is not None])
    frames = {r["frame"] for r in records}
    errors = sum(edit_distance(r["truth"], r["read"]) for r in plates)
    confidences = np.array([r["confidence"] for r in reads])
    correct = np.array([r["correct"] for r in reads], bool)
    return {
        "frames": len(frames),
        "plates": len(plates),
        "detection_recall": _ratio(sum(r["detected"] for r in plates), len(plates)),
        "plate_exact_match": _ratio(sum(r["correct"] for r in plates), len(plates)),
        "frame_exact_match": frame_exact_match(plates),
        "text_found_anywhere": _ratio(sum(r["text_anywhere"] for r in plates), len(plates)),
        "character_error_rate": _ratio(errors, sum(len(r["truth"]) for r in plates)),
        "false_reads": sum(1 for r in reads if r["truth"] is None),
        "auto_issue_threshold": threshold,
        "accepted_reads": len(accepted),
        "precision_at_threshold": _ratio(sum(r["correct"] for r in accepted), len(accepted)),
        "coverage_at_threshold": _ratio(sum(r["correct"] for r in accepted), len(plates)),
        "latency_ms_p50": float(np.percentile(latencies, 50)) if len(latencies) else None,
        "latency_ms_p95": float(np.percentile(latencies, 95)) if len(latencies) else None,
        "reliability": reliability_table(confidences, correct) if len(reads) else [],
        "by_plate_width": by_plate_width(plates),
        "by_kind": by_kind(plates),
        **measured_legibility_figures(plates, threshold),
    }


def judged_figures(records: list[dict], verdicts: dict[PlateKey, str]) -> dict:
    """Exact reads of whole frames and of plates, leaving out the plates a person judged illegible (and
    the frames left with no plate); `misread_unjudged` says how many misread plates still await a verdict.
    Where the plates' legibility was measured, `verdicts_by_legibility` sets the verdicts beside it."""
    plates = [(r, verdicts.get(plate_key(r))) for r in records if r["truth"] is not None]
    kept = [r for r, verdict in plates if verdict != ILLEGIBLE]
    figures = {
        "plates_judged": sum(verdict is not None for _, verdict in plates),
        "plates_judged_illegible": len(plates) - len(kept),
        "misread_unjudged": sum(not r["correct"] and verdict is None for r, verdict in plates),
        **kept_figures(kept),
    }
    measured = [(r, verdict) for r, verdict in plates if r.get("legibility") is not None]
    if measured:
        figures["verdicts_by_legibility"] = {
            side: {**{verdict: sum(v == verdict for r, v in inside if not r["correct"]) for verdict in VERDICTS},
                   "unjudged_misread": sum(v is None and not r["correct"] for r, v in inside),
                   "read_right": sum(r["correct"] for r, _ in inside)}
            for side, inside in (("below_legible_min", [(r, v) for r, v in measured if r["legibility"] < LEGIBLE_MIN]),
                                 ("legible", [(r, v) for r, v in measured if r["legibility"] >= LEGIBLE_MIN]))}
    return figures


def measured_legibility_figures(plates: list[dict], threshold: float) -> dict:
    """For plates whose legibility the generator measured: exact reads per legibility bin, the
    whole-frame and per-plate figures without the plates under LEGIBLE_MIN, and how many reads of those
    plates would have been issued at `threshold` (and how many of them wrong). Nothing for real photos."""
    measured = [r for r in plates if r.get("legibility") is not None]
    if not measured:
        return {}
    legible = [r for r in measured if r["legibility"] >= LEGIBLE_MIN]
    issued_below = [r for r in measured if r["legibility"] < LEGIBLE_MIN and r["read"] and r["confidence"] >= threshold]
    return {
        "by_legibility": exact_reads_by_bin(measured, "legibility", LEGIBILITY_EDGES, "legibility"),
        "legible": {"legible_min": LEGIBLE_MIN, "plates_below": len(measured) - len(legible), **kept_figures(legible)},
        "below_legible_min_issued": {"reads": len(issued_below), "wrong": sum(not r["correct"] for r in issued_below)},
    }


def kept_figures(kept: list[dict]) -> dict:
    """Whole-frame and per-plate exact reads over the plates kept (frames left with none drop out)."""
    return {"frames": len({r["frame"] for r in kept}), "frame_exact_match": frame_exact_match(kept),
            "plate_exact_match": _ratio(sum(r["correct"] for r in kept), len(kept))}


def frame_exact_match(plates: list[dict]) -> float | None:
    """The share of the frames holding any of `plates` whose plates among them were all read exactly."""
    frames = {r["frame"] for r in plates}
    return _ratio(len(frames - {r["frame"] for r in plates if not r["correct"]}), len(frames))


def plate_width_bin(width_px: int) -> str:
    """The PLATE_WIDTH_EDGES bin a plate's width falls in: "0-70", ..., ">=250"."""
    return bin_label(width_px, PLATE_WIDTH_EDGES)


def bin_label(value: float, edges: tuple[float, ...]) -> str:
    """The bin of `edges` that `value` falls in: "0-<first edge>", ..., ">=<last edge>"."""
    low = 0
    for high in edges:
        if value < high:
            return f"{low:g}-{high:g}"
        low = high
    return f">={low:g}"


def by_plate_width(plates: list[dict]) -> list[dict]:
    """Exact reads per bin of the true plates' width in pixels (bins without a plate left out)."""
    return exact_reads_by_bin(plates, "plate_width_px", PLATE_WIDTH_EDGES, "width_px")


def exact_reads_by_bin(plates: list[dict], field: str, edges: tuple[float, ...], label: str) -> list[dict]:
    """Exact reads per bin of `edges` that the plates' `field` falls in, in order (empty bins left out)."""
    bins: dict[str, list[dict]] = {}
    for plate in sorted(plates, key=lambda r: r[field]):
        bins.setdefault(bin_label(plate[field], edges), []).append(plate)
    return [{label: name, "plates": len(inside), "exact_match": _ratio(sum(r["correct"] for r in inside), len(inside))}
            for name, inside in bins.items()]


def by_kind(plates: list[dict]) -> list[dict]:
    """Detection recall and exact reads per plate kind, most plates first (real photos carry no kind)."""
    return [{"kind": kind, "plates": len(inside),
             "detection_recall": _ratio(sum(r["detected"] for r in inside), len(inside)),
             "exact_match": _ratio(sum(r["correct"] for r in inside), len(inside))}
            for kind, inside in _grouped_by_kind(plates)]


def _grouped_by_kind(items: list[dict]) -> list[tuple[str, list[dict]]]:
    """The items that have a kind, grouped by it, the largest group first."""
    groups: dict[str, list[dict]] = {}
    for item in items:
        if item["kind"]:
            groups.setdefault(item["kind"], []).append(item)
    return sorted(groups.items(), key=lambda group: (-len(group[1]), group[0]))


def _ratio(num: float, den: float) -> float | None:
    return float(num) / den if den else None


def true_crop_reads(reader: PlateReader, frames: Iterable[Frame]) -> dict:
    """The recogniser alone on the true plate regions (rows decided by the kind when known, else best of both)."""
    right = total = errors = chars = 0
    times = []
    outcomes = []
    for frame in frames:
        try:
            grey = decode_grey(frame.image)
        except InvalidImage:
            continue
        for truth in frame.truths:
            if truth.corners is not None:
                corners = np.asarray(truth.corners, np.float64)
            else:
                x1, y1, x2, y2 = truth.box
                corners = np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], np.float64)
            options = [truth.kind in TWO_ROW_KINDS] if truth.kind else [False, True]
            crops = np.stack([rectify_plate(grey, corners, two) for two in options])
            started = time.perf_counter()
            reads = reader.recognise(crops)
            times.append((time.perf_counter() - started) * 1000 / len(crops))
            # Rows decided by the recogniser alone: a full detector score and agreement leave only its own say.
            best = max(reads, key=lambda r: reader.confidence(r, 1.0, 1.0))
            total += 1
            right += best.text == truth.text
            outcomes.append({"kind": truth.kind, "correct": best.text == truth.text})
            errors += edit_distance(truth.text, best.text)
            chars += len(truth.text)
    return {"crops": total, "exact_match": _ratio(right, total), "character_error_rate": _ratio(errors, chars),
            "latency_ms_per_crop_p50": float(np.percentile(times, 50)) if times else None,
            "by_kind": [{"kind": kind, "crops": len(inside),
                         "exact_match": _ratio(sum(c["correct"] for c in inside), len(inside))}
                        for kind, inside in _grouped_by_kind(outcomes)]}


def cold_start_seconds(models: Path | None = None, runs: int = 3) -> float:
    """Median time for a fresh interpreter to import the reader and create its sessions."""
    import subprocess

    load = f"PlateReader({str(models)!r})" if models else "PlateReader.default()"
    code = ("import time; t = time.perf_counter(); from murur.alpr import PlateReader; "
            f"{load}; print(time.perf_counter() - t)")
    times = sorted(float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
                   for _ in range(runs))
    return times[len(times) // 2]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--synthetic", type=int, default=0, help="number of held-out synthetic 1080p frames")
    parser.add_argument("--mauritanian", type=int, default=None,
                        help="frames with only Mauritanian plates (default: same as --synthetic)")
    parser.add_argument("--real", type=Path, help="folder of annotated real photos")
    parser.add_argument("--models", type=Path, help="model directory (default: the shipped models)")
    parser.add_argument("--seed", type=int, default=SYNTHETIC_SEED)
    parser.add_argument("--json", type=Path, help="also write the figures and per-plate records here")
    parser.add_argument("--misreads", type=Path, help="also write contact sheets of the plates not read exactly here")
    parser.add_argument("--audit", type=Path, action="append", default=[],
                        help="a filled misreads.tsv (repeatable): also report the figures without the plates judged illegible")
    args = parser.parse_args(argv)
    try:
        verdicts = read_verdicts(args.audit)
    except (OSError, VerdictError) as error:
        parser.error(str(error))
    verdicts_used: set[PlateKey] = set()

    reader = PlateReader(args.models) if args.models else PlateReader.default()
    threshold = reader.auto_issue_threshold
    report: dict = {"model_version": reader.model_version, "auto_issue_threshold": threshold,
                    "weights_bytes": sum(reader.card[part]["bytes"] for part in ("detector", "refiner", "recognizer")
                                         if part in reader.card),
                    "cold_start_s": cold_start_seconds(args.models)}
    print(json.dumps(report), flush=True)
    sets: list[tuple[str, callable]] = []
    if args.synthetic:
        sets.append(("synthetic_mixed", lambda: synthetic_frames(args.seed, args.synthetic)))
        n_mr = args.synthetic if args.mauritanian is None else args.mauritanian
        if n_mr:
            sets.append(("synthetic_mauritanian", lambda: synthetic_frames(args.seed + 1, n_mr, kinds=MAURITANIAN_KINDS)))
    if args.real:
        sets.append(("real", lambda: real_frames(args.real)))
    records_out = {}
    for name, frames in sets:
        records = evaluate_frames(reader, frames())
        summary = summarise(records, threshold)
        summary["true_crops"] = true_crop_reads(reader, frames())
        if args.audit:
            summary["judged"] = judged_figures(records, verdicts)
            verdicts_used |= {plate_key(r) for r in records if r["truth"] is not None} & verdicts.keys()
        report[name] = summary
        records_out[name] = records
        if args.misreads:
            write_misread_sheets(name, frames(), records, args.misreads)
        print(json.dumps({name: summary}, indent=2), flush=True)
    if len(verdicts_used) < len(verdicts):
        print(f"{len(verdicts) - len(verdicts_used)} of {len(verdicts)} verdicts matched no plate of these sets "
              "(another seed, frame count or generator?)", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps({"report": report, "records": records_out}, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
