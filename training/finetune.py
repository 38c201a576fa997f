"""Fine-tune the plate models on a deployer's own labelled photos, then export and calibrate.

    python -m training.finetune --labelled DIR --out training/runs/finetuned [--install]

DIR holds images and their labels in the annotated-photo format the evaluation reads: beside each
`NAME.jpg` a `NAME.txt` with one tab-separated line per plate,

    NAME.jpg <x> <y> <width> <height> <PLATE_TEXT> [<rows>]

(box in pixels, top-left corner first; text without spaces or dashes; an optional 7th column `2` marks
a two-row plate). Training starts from the checkpoints of `make train` (training/checkpoints/, or
--from a run folder) and mixes the deployer's plates with fresh synthetic data so the models do not
forget the layouts the deployer's photos lack. Keep some labelled photos out of DIR and measure
before and after with `python -m murur.alpr.evaluate --real HELD_OUT --models training/runs/finetuned`.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from murur.alpr.formats import normalise
from murur.alpr.imaging import decode_grey, letterbox, rectify_plate
from training.data import DataRecipe, build_pools, generate_pools, jitter_corners, single_threaded
from training.train import (
    CHECKPOINTS_DIR,
    Hyper,
    calibrate,
    command_line,
    export_onnx,
    install,
    keep_refiner,
    log,
    train_both,
)


def labelled_plates(folder: Path) -> list[tuple[Path, list[tuple[np.ndarray, str, bool]]]]:
    """(image path, [(corners, text, two_rows)]) for every labelled image of `folder`."""
    items = []
    for label in sorted(folder.glob("*.txt")):
        plates, image = [], None
        for line in label.read_text().splitlines():
            parts = line.split("\t")
            if len(parts) < 6:
                continue
            image = folder / parts[0]
            x, y, w, h = (float(v) for v in parts[1:5])
            corners = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]])
            two_rows = len(parts) > 6 and parts[6].strip() == "2"
            plates.append((corners, normalise(parts[5]), two_rows))
        if image is not None and image.is_file():
            items.append((image, plates))
    return items


def deployer_pools(items, recipe: DataRecipe, rng: np.random.Generator, jitters: int = 8) -> dict:
    w, h = recipe.detector_size
    frames, frame_plates, crops, texts = [], [], [], []
    for path, plates in items:
        grey = decode_grey(path.read_bytes())
        canvas, scale = letterbox(grey, w, h)
        frames.append(canvas)
        frame_plates.append([(c.astype(np.float32) * scale, two) for c, _, two in plates])
        for corners, text, two_rows in plates:
            for _ in range(jitters):
                crops.append(rectify_plate(grey, jitter_corners(rng, corners, recipe.corner_jitter), two_rows))
                texts.append(text)
    return {"frames": np.stack(frames), "frame_plates": frame_plates, "crops": np.stack(crops), "texts": texts}


def mix(synthetic: dict, own: dict, own_share: float) -> dict:
    """Repeat the deployer's samples until they make up about `own_share` of each pool."""
    def repeats(n_own: int, n_syn: int) -> int:
        return max(1, round(own_share * n_syn / max(1, (1 - own_share) * n_own)))

    rf = repeats(len(own["frames"]), len(synthetic["frames"]))
    rc = repeats(len(own["crops"]), len(synthetic["crops"]))
    return {
        "frames": np.concatenate([synthetic["frames"]] + [own["frames"]] * rf),
        "frame_plates": synthetic["frame_plates"] + own["frame_plates"] * rf,
        "crops": np.concatenate([synthetic["crops"]] + [own["crops"]] * rc),
        "texts": synthetic["texts"] + own["texts"] * rc,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labelled", type=Path, required=True, help="folder of labelled photos")
    parser.add_argument("--out", type=Path, default=Path("training/runs/finetuned"))
    parser.add_argument("--from", dest="init", type=Path, default=CHECKPOINTS_DIR, help="checkpoints to start from")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--own-share", type=float, default=0.5, help="share of the deployer's samples in training")
    parser.add_argument("--scenes", type=int, default=600, help="synthetic frames mixed in")
    parser.add_argument("--generator-crops", type=int, default=15000, help="synthetic crops mixed in")
    parser.add_argument("--calibration-frames", type=int, default=Hyper().calibration_frames)
    parser.add_argument("--quantization-frames", type=int, default=Hyper().quantization_frames,
                        help="generated frames whose plates set the int8 recogniser's activation ranges")
    parser.add_argument("--no-cache", action="store_true", help="regenerate the synthetic data even if cached")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--install", action="store_true")
    args = parser.parse_args(argv)
    command = command_line("training.finetune", argv)

    if not (args.init / "detector.pt").exists():
        raise SystemExit(f"no checkpoints in {args.init}: run `make train` first or pass --from RUN_DIR")
    single_threaded()
    items = labelled_plates(args.labelled)
    if not items:
        raise SystemExit(f"no labelled images in {args.labelled}")
    base = json.loads((args.init / "model_card.json").read_text()) if (args.init / "model_card.json").exists() else {}
    recipe = replace(DataRecipe(), scenes=args.scenes, generator_crops=args.generator_crops, seed=DataRecipe().seed + 1)
    # The base's own architecture choices (a card from before they were recorded used the first ones).
    base_input_norm = base.get("hyperparameters", {}).get("rec_input_norm", "fixed")
    hyper = replace(Hyper(), det_steps=args.steps, rec_steps=args.steps, det_lr=5e-4, rec_lr=5e-4,
                    rec_easy_crops=0, calibration_frames=args.calibration_frames, threshold_frames=args.calibration_frames,
                    rec_input_norm=base_input_norm,
                    quantization_frames=args.quantization_frames)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "recipe.json").write_text(json.dumps({
        "fine_tuned_from": base.get("version"), "labelled_folder": str(args.labelled), "labelled_images": len(items),
        "own_share": args.own_share, "data": asdict(recipe), "hyperparameters": asdict(hyper)}, indent=2) + "\n")
    log(f"fine-tuning {base.get('version')} on {len(items)} labelled images")
    own = deployer_pools(items, recipe, np.random.default_rng(hyper.seed))
    synthetic = (generate_pools if args.no_cache else build_pools)(recipe, log, args.jobs)
    pools = mix(synthetic, own, args.own_share)
    train_both(pools, hyper, args.out, args.jobs, init=args.init)
    del pools
    keep_refiner(args.init, args.out)  # the photos carry boxes, not the corners a refiner learns from
    export_onnx(args.out, hyper)
    calibrate(args.out, recipe, hyper, jobs=args.jobs)
    if args.install:
        install(args.out, command=command, note=f"fine-tuned on {len(items)} labelled images of {args.labelled}")


if __name__ == "__main__":
    main()
