"""How close the generator's plate crops are to a folder of annotated photos, in simple image statistics.

    python -m murur.alpr.synth.realism PHOTO_DIR [--samples 600] [--kind foreign_us] [--seed 0]

PHOTO_DIR holds `NAME.jpg` + `NAME.txt` pairs (`NAME.jpg <x> <y> <width> <height> <TEXT>` per line).
Both sides are cut exactly as the reader cuts a plate (`murur.alpr.imaging.rectify_plate`, grey) and
compared by percentiles of brightness, contrast, 5-95 % range and sharpness (log10 of the Laplacian's
variance). Use it when tuning the generator to a deployment's cameras: the recogniser generalises
best when these distributions overlap.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from murur.alpr.imaging import rectify_plate
from murur.alpr.synth.plates import KINDS, random_plate
from murur.alpr.synth.scene import random_plate_view

STATISTICS = ("brightness", "contrast", "range_5_95", "log10_sharpness")


def crop_statistics(grey_crop: np.ndarray) -> tuple[float, float, float, float]:
    g = grey_crop.astype(np.float32)
    p5, p95 = np.percentile(g, [5, 95])
    sharpness = float(cv2.Laplacian(g, cv2.CV_32F).var())
    return float(g.mean()), float(g.std()), float(p95 - p5), float(np.log10(sharpness + 1.0))


def _box_corners(x: float, y: float, w: float, h: float) -> np.ndarray:
    return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float64)


def photo_statistics(folder: Path) -> np.ndarray:
    rows = []
    for label in sorted(folder.glob("*.txt")):
        for line in label.read_text().splitlines():
            parts = line.split("\t")
            if len(parts) < 6:
                continue
            image = folder / parts[0]
            if not image.is_file():
                continue
            x, y, w, h = (float(v) for v in parts[1:5])
            grey = Image.open(image).convert("L")
            rows.append(crop_statistics(rectify_plate(grey, _box_corners(x, y, w, h), two_rows=False)))
    return np.array(rows, np.float64).reshape(-1, len(STATISTICS))


def generator_statistics(samples: int, kinds: list[str] | None, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(samples):
        kind = kinds[int(rng.integers(len(kinds)))] if kinds else None
        view = random_plate_view(rng, random_plate(rng, kind))
        grey = Image.fromarray(view.image).convert("L")
        (x1, y1), (x2, y2) = view.corners.min(0), view.corners.max(0)
        # Cut by the plate's axis-aligned box, as annotated photos give it.
        crop = rectify_plate(grey, _box_corners(x1, y1, x2 - x1, y2 - y1), two_rows=len(view.rows) > 1)
        rows.append(crop_statistics(crop))
    return np.array(rows, np.float64).reshape(-1, len(STATISTICS))


def compare(photos: np.ndarray, generated: np.ndarray) -> dict:
    def summary(values: np.ndarray) -> dict:
        if len(values) == 0:
            return {}
        q = np.percentile(values, [10, 50, 90], axis=0)
        return {name: [round(float(q[i, j]), 2) for i in range(3)] for j, name in enumerate(STATISTICS)}

    return {"photos": {"count": len(photos), **summary(photos)},
            "generator": {"count": len(generated), **summary(generated)}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m murur.alpr.synth.realism", description=__doc__.splitlines()[0])
    parser.add_argument("photos", type=Path, help="folder of NAME.jpg + NAME.txt annotated photos")
    parser.add_argument("--samples", type=int, default=600, help="generated plates to compare")
    parser.add_argument("--kind", action="append", choices=KINDS, help="plate kinds to generate (repeatable)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    report = compare(photo_statistics(args.photos), generator_statistics(args.samples, args.kind, args.seed))
    if args.json:
        print(json.dumps(report))
        return
    print(f"{'percentiles 10/50/90':<22}{'photos (%d)' % report['photos']['count']:>24}"
          f"{'generator (%d)' % report['generator']['count']:>26}")
    for name in STATISTICS:
        cells = ["/".join(f"{v:g}" for v in report[side].get(name, [])) for side in ("photos", "generator")]
        print(f"{name:<22}{cells[0]:>24}{cells[1]:>26}")


if __name__ == "__main__":
    main()
