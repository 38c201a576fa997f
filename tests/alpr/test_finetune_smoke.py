"""`python -m training.finetune` on a small labelled folder, end to end, into a temporary directory."""

import json
import shutil

import numpy as np
import pytest

pytest.importorskip("torch")


def test_finetune_on_a_labelled_folder(tmp_path, monkeypatch):
    from murur.alpr.reader import PlateReader
    from murur.alpr.synth import compose_scene

    from training import finetune
    from training.train import Hyper, sha256_of

    if not (finetune.CHECKPOINTS_DIR / "detector.pt").exists():
        pytest.skip("no shipped checkpoints to fine-tune")
    labelled = tmp_path / "labelled"
    labelled.mkdir()
    rng = np.random.default_rng(5)
    written = 0
    while written < 2:
        scene = compose_scene(rng, size=(640, 360))
        if not scene.annotations:
            continue
        name = f"photo{written}.jpg"
        (labelled / name).write_bytes(scene.to_jpeg())
        lines = []
        for ann in scene.annotations:
            x1, y1, x2, y2 = ann.box
            rows = "2" if ann.kind.endswith("two_row") else "1"
            lines.append(f"{name}\t{x1}\t{y1}\t{x2 - x1}\t{y2 - y1}\t{ann.text}\t{rows}")
        (labelled / f"photo{written}.txt").write_text("\n".join(lines) + "\n")
        written += 1
    assert len(finetune.labelled_plates(labelled)) == 2

    # A base trained with the other recogniser input norm than today's default: fine-tuning keeps the base's.
    base = tmp_path / "base"
    base.mkdir()
    for name in ("detector.pt", "recognizer.pt"):
        shutil.copy2(finetune.CHECKPOINTS_DIR / name, base / name)
    import torch

    from training.refiner import CornerRefiner

    torch.save(CornerRefiner().state_dict(), base / "refiner.pt")  # deployers' photos carry boxes: it is kept as is
    card = json.loads((finetune.CHECKPOINTS_DIR / "model_card.json").read_text())
    other_norm = "fixed" if Hyper().rec_input_norm == "per_crop" else "per_crop"
    card["hyperparameters"]["rec_input_norm"] = other_norm
    (base / "model_card.json").write_text(json.dumps(card))

    installed = []
    monkeypatch.setattr(finetune, "install", lambda *a, **k: installed.append(a))
    out = tmp_path / "run"
    finetune.main(["--labelled", str(labelled), "--out", str(out), "--steps", "2", "--scenes", "3", "--from", str(base),
                   "--generator-crops", "8", "--calibration-frames", "2", "--quantization-frames", "4", "--no-cache",
                   "--jobs", "1"])
    recipe = json.loads((out / "recipe.json").read_text())
    assert recipe["labelled_images"] == 2
    assert recipe["hyperparameters"]["rec_input_norm"] == other_norm
    assert recipe["hyperparameters"]["quantization_frames"] == 4
    assert PlateReader(out).model_version.startswith("murur-alpr-")
    assert sha256_of(out / "refiner.pt") == sha256_of(base / "refiner.pt")
    refiner = json.loads((out / "model_card.json").read_text())["refiner"]
    assert refiner["file"] == "refiner.onnx"
    # The card says how the kept refiner was trained (the base's record), not the fine-tuning's settings.
    assert {k: refiner.get(k) for k in ("steps", "trained_in")} == {
        "steps": card["refiner"]["steps"], "trained_in": card["refiner"].get("trained_in", card["version"])}
    assert installed == []
