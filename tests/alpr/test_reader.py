"""The plate reader on whole images, with the shipped models."""

import io
import json
import shutil

import numpy as np
import pytest
from PIL import Image

from murur.alpr import InvalidImage, ModelNotAvailable, PlateRead, PlateReader
from murur.alpr.reader import MODEL_CARD, MODELS_DIR


@pytest.fixture(scope="module")
def reader() -> PlateReader:
    try:
        return PlateReader.default()
    except ModelNotAvailable as exc:  # a checkout without trained weights: nothing to read with
        pytest.skip(f"no shipped plate models: {exc}")


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def frame_with(texts: list[str], seed: int) -> tuple[bytes, list]:
    from murur.alpr.synth import PlateSpec, compose_scene

    scene = compose_scene(np.random.default_rng(seed), [PlateSpec.for_text(t) for t in texts], clean=True)
    return scene.to_jpeg(92), scene.annotations


def test_default_reader_is_cached(reader):
    assert PlateReader.default() is reader
    assert 0.0 < reader.auto_issue_threshold <= 1.0
    assert reader.model_version.startswith("murur-alpr-")


@pytest.mark.parametrize("seed", [3, 11])
def test_reads_the_plates_of_generated_frames(reader, seed):
    texts = ["1234AB00", "5071KT08"]
    data, annotations = frame_with(texts, seed)
    reads = reader.read(data)
    assert all(isinstance(r, PlateRead) for r in reads)
    assert [r.confidence for r in reads] == sorted((r.confidence for r in reads), reverse=True)
    for ann in annotations:
        matching = [r for r in reads if r.text == ann.text]
        assert matching, f"{ann.text} not read (got {[r.text for r in reads]})"
        x1, y1, x2, y2 = matching[0].box
        ax1, ay1, ax2, ay2 = ann.box
        assert abs(x1 - ax1) + abs(x2 - ax2) < 0.3 * (ax2 - ax1)
        assert matching[0].layout == "MR_CIVIL"
        assert len(matching[0].char_confidences) == len(ann.text)
        assert matching[0].model_version == reader.model_version


def test_blank_image_has_no_plate(reader):
    assert reader.read(jpeg(Image.new("RGB", (1920, 1080), (128, 128, 128)))) == []


def test_scene_without_plates_gives_no_confident_read(reader):
    from murur.alpr.synth import compose_scene

    for seed in (1, 2, 3):
        scene = compose_scene(np.random.default_rng(seed), [])
        reads = reader.read(scene.to_jpeg())
        assert all(r.confidence < reader.auto_issue_threshold for r in reads)


def test_truncated_jpeg_is_a_clear_error(reader):
    data, _ = frame_with(["1234AB00"], 5)
    with pytest.raises(InvalidImage):
        reader.read(data[: len(data) // 3])


def test_garbage_and_empty_bytes_are_clear_errors(reader):
    for data in (b"", b"GIF89a" + bytes(range(256)) * 4):
        with pytest.raises(InvalidImage):
            reader.read(data)


def test_huge_image_is_refused(reader):
    buffer = io.BytesIO()
    Image.new("L", (8000, 6000)).save(buffer, "PNG")
    with pytest.raises(InvalidImage):
        reader.read(buffer.getvalue())


def test_tiny_image_is_refused(reader):
    with pytest.raises(InvalidImage):
        reader.read(jpeg(Image.new("RGB", (4, 4))))


def test_missing_models_are_reported(tmp_path):
    with pytest.raises(ModelNotAvailable):
        PlateReader(tmp_path)
    if (MODELS_DIR / MODEL_CARD).exists():
        shutil.copy(MODELS_DIR / MODEL_CARD, tmp_path / MODEL_CARD)  # a card without its model files
        with pytest.raises(ModelNotAvailable):
            PlateReader(tmp_path)


def test_shipped_card_matches_the_files():
    import hashlib

    card_path = MODELS_DIR / MODEL_CARD
    if not card_path.exists():
        pytest.skip("no shipped plate models")
    card = json.loads(card_path.read_text())
    total = 0
    for part in ("detector", "recognizer"):
        data = (MODELS_DIR / card[part]["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == card[part]["sha256"]
        total += len(data)
    assert total <= 10 * 1024 * 1024
