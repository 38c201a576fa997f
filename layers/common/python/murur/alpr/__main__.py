"""Read the number plates in image files.

    python -m murur.alpr IMAGE... [--json]

With --json, one JSON object per image and line:
{"image": ..., "plates": [{"text", "confidence", "box": [x1, y1, x2, y2], ...}, ...]}
(an image that cannot be decoded gets "error" instead of "plates", and the exit status is 1).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from murur.alpr.imaging import InvalidImage
from murur.alpr.reader import ModelNotAvailable, PlateReader


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m murur.alpr", description="Read number plates in images.")
    parser.add_argument("images", nargs="+", type=Path)
    parser.add_argument("--json", action="store_true", help="one JSON object per image and line")
    parser.add_argument("--models", type=Path, help="model directory (default: the shipped models)")
    args = parser.parse_args(argv)
    try:
        reader = PlateReader(args.models) if args.models else PlateReader.default()
    except ModelNotAvailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    status = 0
    for path in args.images:
        result: dict = {"image": str(path)}
        try:
            plates = reader.read(path.read_bytes())
            result["plates"] = [p.to_json() for p in plates]
        except (InvalidImage, OSError) as exc:
            result["error"] = str(exc)
            status = 1
        if args.json:
            print(json.dumps(result), flush=True)
        elif "error" in result:
            print(f"{path}: error: {result['error']}")
        elif not result["plates"]:
            print(f"{path}: no plate")
        else:
            threshold = reader.auto_issue_threshold
            for p in plates:
                sure = "auto-issue" if p.confidence >= threshold else "needs review"
                print(f"{path}: {p.text}  confidence {p.confidence:.3f} ({sure})  box {list(p.box)}")
    return status


if __name__ == "__main__":
    sys.exit(main())
