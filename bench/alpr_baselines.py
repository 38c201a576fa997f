"""General-purpose OCR baselines on the true plate crops of an annotated photo folder.

    python -m bench.alpr_baselines --real DIR [--json OUT.json]

Crops each annotated plate box (with an 8 % margin), then reads it with Tesseract 5
(`tesseract-ocr` from Debian; page segmentation mode 7 = one text line, alphanumeric whitelist) and
with Murur's own recogniser on the same box, and prints the exact-match rate and character error
rate of each. Tesseract is a system tool, so this script is a benchmark, never a test dependency.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
import time
from pathlib import Path

from PIL import Image

from murur.alpr.evaluate import real_frames, true_crop_reads
from murur.alpr.formats import ALPHABET, normalise
from murur.alpr.postprocess import edit_distance
from murur.alpr.reader import PlateReader

MARGIN = 0.08


def tesseract_read(crop: Image.Image) -> str:
    buffer = io.BytesIO()
    crop.save(buffer, "PNG")
    result = subprocess.run(
        ["tesseract", "stdin", "stdout", "--psm", "7", "-c", f"tessedit_char_whitelist={ALPHABET}"],
        input=buffer.getvalue(), capture_output=True, check=False, timeout=60,
    )
    return normalise(result.stdout.decode("utf-8", "replace"))


def tesseract_on_true_crops(folder: Path) -> dict:
    right = total = errors = chars = 0
    times = []
    for frame in real_frames(folder):
        image = Image.open(io.BytesIO(frame.image)).convert("RGB")
        for truth in frame.truths:
            x1, y1, x2, y2 = truth.box
            mx, my = (x2 - x1) * MARGIN, (y2 - y1) * MARGIN
            crop = image.crop((max(0, x1 - mx), max(0, y1 - my), min(image.width, x2 + mx), min(image.height, y2 + my)))
            crop = crop.resize((crop.width * 3, crop.height * 3), Image.Resampling.BICUBIC)  # Tesseract likes ~30 px letters
            started = time.perf_counter()
            text = tesseract_read(crop)
            times.append((time.perf_counter() - started) * 1000)
            total += 1
            right += text == truth.text
            errors += edit_distance(truth.text, text)
            chars += len(truth.text)
    times.sort()
    return {"crops": total, "exact_match": right / total if total else None,
            "character_error_rate": errors / chars if chars else None,
            "latency_ms_per_crop_p50": times[len(times) // 2] if times else None}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--real", type=Path, required=True)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    report = {"murur_recogniser": true_crop_reads(PlateReader.default(), real_frames(args.real))}
    if shutil.which("tesseract"):
        report["tesseract_psm7"] = tesseract_on_true_crops(args.real)
    else:
        report["tesseract_psm7"] = "not installed (apt-get install tesseract-ocr)"
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
