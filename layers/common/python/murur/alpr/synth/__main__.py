"""Write synthetic frames to a folder, labelled like a folder of annotated real photos.

    python -m murur.alpr.synth OUT_DIR [--count 20] [--size 1920x1080] [--seed 0] [--kind mr_civil ...]

Each `NAME.jpg` gets a `NAME.txt` with one tab-separated line per plate,
`NAME.jpg <x> <y> <width> <height> <TEXT>` (empty when the frame shows no plate), so the evaluation
reads generated and real folders alike; `labels.jsonl` adds the corners, kind and rows of every plate.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from murur.alpr.synth import KINDS, compose_scene, random_plate


def _size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    return int(width), int(height)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m murur.alpr.synth", description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to write NAME.jpg + NAME.txt pairs into")
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--size", type=_size, default=(1920, 1080), help="WIDTHxHEIGHT (default 1920x1080)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kind", action="append", choices=KINDS, help="plate kinds to draw (repeatable)")
    parser.add_argument("--max-plates", type=int, default=3)
    parser.add_argument("--quality", type=int, default=90, help="JPEG quality")
    args = parser.parse_args(argv)

    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    with (args.out / "labels.jsonl").open("w") as index:
        for i in range(args.count):
            plates = None
            if args.kind:
                count = int(rng.integers(0, args.max_plates + 1))
                plates = [random_plate(rng, args.kind[int(rng.integers(len(args.kind)))]) for _ in range(count)]
            scene = compose_scene(rng, plates, size=args.size, max_plates=args.max_plates)
            name = f"synth-{args.seed}-{i:05d}.jpg"
            (args.out / name).write_bytes(scene.to_jpeg(args.quality))
            lines = [
                f"{name}\t{a.box[0]}\t{a.box[1]}\t{a.box[2] - a.box[0]}\t{a.box[3] - a.box[1]}\t{a.text}"
                for a in scene.annotations
            ]
            (args.out / name.replace(".jpg", ".txt")).write_text("".join(line + "\n" for line in lines))
            record = {
                "image": name,
                "plates": [
                    {"text": a.text, "kind": a.kind, "rows": list(a.rows), "box": list(a.box),
                     "corners": np.asarray(a.corners).round(2).tolist()}
                    for a in scene.annotations
                ],
            }
            index.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
