"""What a corner refiner (training.refiner) buys: plates read exactly from the detector's corners, from
those corners refined (once and twice), and from the generator's true corners, all read the shipped way
(bench.alpr_looks.shipped_read) with the installed recogniser; and the corners' mean error.

    .venv/bin/python -m bench.alpr_refiner --refiner training/runs/refiner/refiner.pt [--frames 300] [--real DIR]

Only the plates the detector finds (IoU >= 0.5) are counted, with the detector's row call. Synthetic
frames use bench.alpr_looks's seeds, which neither training, calibration nor `make eval` use. Real
photos carry boxes, not corners: they get neither true-corner reads nor corner errors.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from bench.alpr_looks import shipped_read
from murur.alpr.evaluate import MAURITANIAN_KINDS, real_frames, synthetic_frames
from murur.alpr.imaging import decode_grey
from murur.alpr.postprocess import box_iou
from murur.alpr.reader import PlateReader
from training.refiner import CornerRefiner, corner_error, refine

WAYS = ("detector", "refined once", "refined twice", "true corners")


def score(reader: PlateReader, refiner: CornerRefiner, frames) -> dict:
    right = dict.fromkeys(WAYS, 0)
    errors: dict[str, list[tuple[float, float]]] = {way: [] for way in WAYS[:3]}
    plates = found = 0
    for frame in frames:
        grey = decode_grey(frame.image)
        detections = reader.detect(grey)
        for truth in frame.truths:
            plates += 1
            iou, detection = max(((box_iou(truth.box, d.box), d) for d in detections), key=lambda o: o[0], default=(0.0, None))
            if detection is None or iou < 0.5:
                continue
            found += 1
            two_rows = detection.two_rows_probability >= 0.5
            once = refine(refiner, grey, detection.corners)
            corners = {"detector": np.asarray(detection.corners, np.float64), "refined once": once,
                       "refined twice": refine(refiner, grey, once)}
            if truth.corners is not None:  # real photos are labelled with boxes only
                corners["true corners"] = np.asarray(truth.corners, np.float64)
            for way, at in corners.items():
                right[way] += shipped_read(reader, grey, at, two_rows) == truth.text
                if way in errors and truth.corners is not None:
                    errors[way].append(corner_error(at, truth.corners))
    return {"plates": plates, "found": found, "read_exactly": right,
            "corner_error_along_across": {way: np.mean(e, axis=0).round(4).tolist() if e else None for way, e in errors.items()}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--refiner", type=Path, required=True, help="a refiner.pt written by training.refiner")
    parser.add_argument("--frames", type=int, default=300, help="frames per synthetic set")
    parser.add_argument("--seed", type=int, default=4242)
    parser.add_argument("--real", type=Path, help="also a folder of annotated real photos (murur.alpr.evaluate)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    refiner = CornerRefiner()
    refiner.load_state_dict(torch.load(args.refiner, weights_only=True))
    refiner.eval()
    reader = PlateReader.default()
    sets = {"synthetic_mauritanian": synthetic_frames(args.seed + 2, args.frames, kinds=MAURITANIAN_KINDS),
            "synthetic_mixed": synthetic_frames(args.seed, args.frames)}
    if args.real:
        sets["real"] = real_frames(args.real)
    report = {"model_version": reader.model_version, "refiner": str(args.refiner),
              "sets": {name: score(reader, refiner, frames) for name, frames in sets.items()}}
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
