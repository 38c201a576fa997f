"""The layout length prior on fresh generator crops: what each margin fixes and breaks.

    .venv/bin/python -m bench.alpr_length_prior [--crops 4000] [--seed 777] [--models DIR] [--json OUT]

Reads every crop with greedy CTC decoding and the class prior (`apply_layout_prior`), then applies
`apply_layout_length_prior` at each margin and counts reads it changed: fixed (wrong -> right),
broken (right -> wrong) and wrong -> wrong, separately for Mauritanian-layout texts and the others.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from murur.alpr.formats import match_layout
from murur.alpr.postprocess import apply_layout_length_prior, apply_layout_prior, ctc_greedy_decode, softmax
from murur.alpr.reader import PlateReader
from training.data import generator_crop


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--crops", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=777)
    parser.add_argument("--margins", type=float, nargs="+", default=[1, 2, 3, 4, 6, 8, 12])
    parser.add_argument("--models", type=Path, help="model directory (default: the shipped models)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    reader = PlateReader(args.models) if args.models else PlateReader.default()
    rng = np.random.default_rng(args.seed)
    crops, texts = zip(*(generator_crop(rng) for _ in range(args.crops)))
    batch = (np.stack(crops).astype(np.float32) / 255.0)[:, None]
    probs = [softmax(seq) for seq in reader._recognizer.run(None, {"crop": batch})[0]]
    before = [apply_layout_prior(ctc_greedy_decode(p), p) for p in probs]
    mauritanian = np.array([(layout := match_layout(t)) is not None and layout.specificity > 0 for t in texts])
    right_before = np.array([r.text == t for r, t in zip(before, texts)])
    report = {"model_version": reader.model_version, "crops": args.crops, "mauritanian_crops": int(mauritanian.sum()),
              "exact_before": {"mauritanian": float(right_before[mauritanian].mean()),
                               "other": float(right_before[~mauritanian].mean())},
              "margins": []}
    for margin in args.margins:
        after = [apply_layout_length_prior(r, p, margin=margin) for r, p in zip(before, probs)]
        right = np.array([r.text == t for r, t in zip(after, texts)])
        changed = np.array([a.text != b.text for a, b in zip(after, before)])
        report["margins"].append({
            "margin": margin, "exact_mauritanian": float(right[mauritanian].mean()),
            "exact_other": float(right[~mauritanian].mean()), "changed": int(changed.sum()),
            "fixed": int((changed & right).sum()), "broken": int((changed & right_before).sum()),
            "wrong_to_wrong": int((changed & ~right & ~right_before).sum())})
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
