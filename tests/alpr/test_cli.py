"""`python -m murur.alpr IMAGE... --json`."""

import io
import json

import pytest
from PIL import Image

from murur.alpr import ModelNotAvailable, PlateReader
from murur.alpr.__main__ import main


@pytest.fixture(scope="module", autouse=True)
def shipped_models():
    try:
        PlateReader.default()
    except ModelNotAvailable as exc:
        pytest.skip(f"no shipped plate models: {exc}")


def test_json_lines_one_per_image(tmp_path, capsys):
    import numpy as np

    from murur.alpr.synth import PlateSpec, compose_scene

    scene = compose_scene(np.random.default_rng(4), [PlateSpec.for_text("4321CD05")], clean=True)
    frame = tmp_path / "frame.jpg"
    frame.write_bytes(scene.to_jpeg())
    blank = tmp_path / "blank.png"
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), "grey").save(buffer, "PNG")
    blank.write_bytes(buffer.getvalue())

    assert main([str(frame), str(blank), "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    first, second = (json.loads(line) for line in lines)
    assert first["image"] == str(frame) and second["image"] == str(blank)
    assert second["plates"] == []
    for plate in first["plates"]:
        assert isinstance(plate["text"], str) and 0.0 <= plate["confidence"] <= 1.0
        x1, y1, x2, y2 = plate["box"]
        assert 0 <= x1 < x2 <= 1920 and 0 <= y1 < y2 <= 1080


def test_undecodable_file_is_reported_and_fails(tmp_path, capsys):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    assert main([str(broken), "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["image"] == str(broken) and "error" in result and "plates" not in result
