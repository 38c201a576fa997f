"""How many looks at each plate, with which margins, and how they settle the text.

    .venv/bin/python -m bench.alpr_looks [--frames 300] [--real DIR] [--models DIR] [--json OUT]

For every true plate that the detector finds (IoU >= 0.5), the plate is cut with each margin of every
candidate set (`LOOK_SETS`), all crops are read once, and each set's looks are settled by
`postprocess.settle_looks`, as the reader settles the looks of `imaging.CHECK_MARGINS` ("1 look" is the
first cut alone). "shipped" is what the reader does: its looks in the batches of `imaging.LOOK_BATCHES`,
each only when the looks so far want more (`postprocess.wants_more_looks`: a main look that read some
text, first looks that disagree; `reader.read_in_batches`); `second_round` is the share of plates that
needed the last batch. The row count is the detector's own call (the reader also reads unsure plates
both ways). Synthetic frames use seeds that neither training, calibration nor `make eval` use.

`shipped_on_true_corners` (synthetic sets) reads every plate, found or not, the shipped way but cut at
the generator's true corners with the kind's row count: against "shipped", how much a perfect detector
would buy with the same recogniser.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from murur.alpr.evaluate import MAURITANIAN_KINDS, TWO_ROW_KINDS, real_frames, synthetic_frames
from murur.alpr.imaging import (
    CROP_HEIGHT,
    CROP_WIDTH,
    FIRST_LOOKS,
    LOOK_MARGINS,
    decode_grey,
    rectify_plate,
)
from murur.alpr.postprocess import box_iou, settle_looks
from murur.alpr.reader import PlateReader, read_in_batches

FIRST = LOOK_MARGINS[0]
LOOK_SETS: dict[str, tuple[tuple[float, float], ...]] = {
    "shipped": LOOK_MARGINS,  # read in batches, see shipped_looks
    "1 look": (FIRST,),
    "3 looks (before)": (FIRST, (0.08, 0.16), (0.01, 0.05)),
    "5 looks, near margins": (FIRST, (0.08, 0.16), (0.01, 0.05), (0.06, 0.13), (0.025, 0.075)),
    "5 looks, taller and flatter": (FIRST, (0.08, 0.16), (0.01, 0.05), (0.04, 0.2), (0.04, 0.0)),
    "7 looks": (FIRST, (0.08, 0.16), (0.01, 0.05), (0.06, 0.13), (0.025, 0.075), (0.04, 0.2), (0.04, 0.0)),
}


def score_sets(reader: PlateReader, frames) -> dict:
    margins = sorted({m for looks in LOOK_SETS.values() for m in looks})
    right = dict.fromkeys(LOOK_SETS, 0)
    plates = found = second_round = right_on_true_corners = with_true_corners = 0
    for frame in frames:
        grey = decode_grey(frame.image)
        detections = reader.detect(grey)
        for truth in frame.truths:
            plates += 1
            if truth.corners is not None:  # found or not, cut where the plate is, rows as the kind has them
                with_true_corners += 1
                right_on_true_corners += shipped_read(reader, grey, truth.corners, truth.kind in TWO_ROW_KINDS) == truth.text
            overlaps = [(box_iou(truth.box, d.box), d) for d in detections]
            iou, detection = max(overlaps, key=lambda o: o[0], default=(0.0, None))
            if detection is None or iou < 0.5:
                continue
            found += 1
            two_rows = detection.two_rows_probability >= 0.5
            crops = np.stack([rectify_plate(grey, detection.corners, two_rows, m) for m in margins])
            reads = dict(zip(margins, reader.recognise(crops)))
            shipped = shipped_looks(lambda batch: [reads[m] for m in batch])
            second_round += len(shipped) > FIRST_LOOKS
            for name, looks in LOOK_SETS.items():
                settled = settle_looks(shipped if name == "shipped" else [reads[m] for m in looks])[0]
                right[name] += settled.text == truth.text
    return {"plates": plates, "detected": found, "second_round": second_round / max(found, 1),
            "exact": {name: n / max(plates, 1) for name, n in right.items()},
            "shipped_on_true_corners": right_on_true_corners / with_true_corners if with_true_corners else None}


def shipped_looks(read_batch) -> list:
    """A cut's looks as the reader reads them: `read_batch(margins)` reads one batch of LOOK_MARGINS."""
    return read_in_batches(1, lambda _, margins: [read_batch(margins)])[0]


def shipped_read(reader: PlateReader, grey, corners, two_rows: bool) -> str:
    """The text the reader settles on for a plate cut at `corners`."""
    corners = np.asarray(corners, np.float64)
    reads = shipped_looks(lambda batch: reader.recognise(np.stack([rectify_plate(grey, corners, two_rows, m) for m in batch])))
    return settle_looks(reads)[0].text


def recogniser_ms_per_crop(reader: PlateReader, repeats: int = 50) -> float:
    crops = np.zeros((6, CROP_HEIGHT, CROP_WIDTH), np.uint8)
    reader.recognise(crops)
    started = time.perf_counter()
    for _ in range(repeats):
        reader.recognise(crops)
    return (time.perf_counter() - started) * 1000 / (repeats * len(crops))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=300, help="frames per synthetic set")
    parser.add_argument("--seed", type=int, default=4242)
    parser.add_argument("--real", type=Path, help="folder of annotated real photos (see murur.alpr.evaluate)")
    parser.add_argument("--models", type=Path, help="model directory (default: the shipped models)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    reader = PlateReader(args.models) if args.models else PlateReader.default()
    sets = {"synthetic_mixed": synthetic_frames(args.seed, args.frames),
            "synthetic_mauritanian": synthetic_frames(args.seed + 2, args.frames, kinds=MAURITANIAN_KINDS)}
    if args.real:
        sets["real"] = real_frames(args.real)
    report = {"model_version": reader.model_version, "look_sets": {k: list(v) for k, v in LOOK_SETS.items()},
              "recogniser_ms_per_crop": recogniser_ms_per_crop(reader),
              "sets": {name: score_sets(reader, frames) for name, frames in sets.items()}}
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
