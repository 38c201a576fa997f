"""`make train` end to end in miniature: data, both models, ONNX export, calibration, a loadable card."""

import json

import pytest

pytest.importorskip("torch")


def test_tiny_training_exports_loadable_models(tmp_path, monkeypatch):
    from murur.alpr.reader import MODELS_DIR, PlateReader
    from training import train

    shipped = {p.name: p.stat().st_mtime_ns for p in MODELS_DIR.glob("*")} if MODELS_DIR.exists() else {}
    installed = []
    monkeypatch.setattr(train, "install", lambda *a, **k: installed.append(a))  # never touch shipped models

    out = tmp_path / "run"
    train.main(["--out", str(out), "--tiny", "--jobs", "1"])

    card = json.loads((out / "model_card.json").read_text())
    assert card["opset"] == train.OPSET
    assert card["data_recipe"]["scenes"] == train.TINY_DATA["scenes"]
    assert (out / "recipe.json").exists()
    reader = PlateReader(out)
    assert reader.model_version == card["version"]
    from murur.alpr.synth import compose_scene
    import numpy as np

    reads = reader.read(compose_scene(np.random.default_rng(0), size=(640, 360)).to_jpeg())
    assert isinstance(reads, list)
    assert installed == []
    assert shipped == ({p.name: p.stat().st_mtime_ns for p in MODELS_DIR.glob("*")} if MODELS_DIR.exists() else {})
