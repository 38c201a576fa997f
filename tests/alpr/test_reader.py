"""The plate reader on whole images, with the shipped models."""

import dataclasses
import io
import json
import shutil

import numpy as np
import pytest
from murur.alpr import InvalidImage, ModelNotAvailable, PlateRead, PlateReader
from murur.alpr.reader import MODEL_CARD, MODELS_DIR
from PIL import Image


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


def frame_with(texts: list[str], seed: int) -> tuple[bytes, list[tuple[int, int, int, int]]]:
    """A 1080p frame with the given plates drawn front-on at a typical enforcement-camera size."""
    from murur.alpr.synth import PlateSpec, render_plate

    rng = np.random.default_rng(seed)
    canvas = Image.new("RGB", (1920, 1080), (90, 95, 100))
    boxes = []
    for i, text in enumerate(texts):
        plate = render_plate(PlateSpec.for_text(text), rng, scale=0.6).image
        x, y = 300 + 800 * i, 400 + 150 * i
        canvas.paste(Image.fromarray(plate), (x, y))
        boxes.append((x, y, x + plate.shape[1], y + plate.shape[0]))
    return jpeg(canvas), boxes


def test_default_reader_is_cached(reader):
    assert PlateReader.default() is reader
    assert 0.0 < reader.auto_issue_threshold <= 1.0
    assert reader.model_version.startswith("murur-alpr-")


@pytest.mark.parametrize("seed", [0, 3])
def test_reads_the_plates_of_generated_frames(reader, seed):
    texts = ["1234AB00", "5071KT08"]
    data, boxes = frame_with(texts, seed)
    reads = reader.read(data)
    assert all(isinstance(r, PlateRead) for r in reads)
    assert [r.confidence for r in reads] == sorted((r.confidence for r in reads), reverse=True)
    for text, (bx1, by1, bx2, by2) in zip(texts, boxes):
        matching = [r for r in reads if r.text == text]
        assert matching, f"{text} not read (got {[r.text for r in reads]})"
        read = matching[0]
        x1, y1, x2, y2 = read.box
        assert abs(x1 - bx1) + abs(x2 - bx2) < 0.1 * (bx2 - bx1)
        assert abs(y1 - by1) + abs(y2 - by2) < 0.5 * (by2 - by1)
        assert read.layout == "MR_CIVIL"
        assert len(read.char_confidences) == len(text)
        assert read.model_version == reader.model_version
        assert 0.0 <= read.confidence <= 1.0


def test_each_read_is_checked_against_second_looks(reader, monkeypatch):
    from murur.alpr import reader as reader_module
    from murur.alpr.calibration import FEATURE_NAMES
    from murur.alpr.imaging import FIRST_LOOKS

    data, _ = frame_with(["1234AB00"], 0)
    read = reader.read(data)[0]
    others = len(reader_module.LOOK_MARGINS) - 1
    assert 0.0 <= read.rectification_agreement <= 1.0
    assert (read.rectification_agreement * others) == pytest.approx(round(read.rectification_agreement * others))
    assert read.features()[FEATURE_NAMES.index("rectification_agreement")] == read.rectification_agreement

    # The recogniser reads each cut's main look in one batch, its other first looks (to FIRST_LOOKS) in a
    # second, and the other looks of the cuts whose first looks disagree in a third; `rewrite` changes
    # every look but the main cut.
    def recognise_with(rewrite):
        calls = []

        def patched(crops):
            reads = recognise(crops)
            main_looks, before = not calls, sum(calls)  # `before`: a look's number over all batches
            calls.append(len(crops))
            return reads if main_looks else [rewrite(r, before + i) for i, r in enumerate(reads)]

        return patched, calls

    recognise = reader.recognise
    looks = 1 + others

    # Second looks that each read something else leave the first look's text with no agreement ...
    def something_else(r, i):
        return dataclasses.replace(r, text=r.text + "X" * (1 + i), path_log_probability=r.path_log_probability - 50)

    patched, calls = recognise_with(something_else)
    monkeypatch.setattr(reader, "recognise", patched)
    doubted = reader.read(data)[0]
    assert doubted.text == read.text
    assert doubted.rectification_agreement == 0.0
    assert doubted.confidence < read.confidence
    assert len(calls) == 3
    assert calls[1] == (FIRST_LOOKS - 1) * calls[0] and calls[2] == (looks - FIRST_LOOKS) * calls[0]

    # ... and second looks that agree on another text outvote it.
    patched, calls = recognise_with(lambda r, i: dataclasses.replace(r, text="9999ZZ00"))
    monkeypatch.setattr(reader, "recognise", patched)
    outvoted = reader.read(data)[0]
    assert outvoted.text == "9999ZZ00"
    # The winning text's other looks agree with it; the first look does not.
    assert outvoted.rectification_agreement == pytest.approx((looks - 2) / (looks - 1))


def recogniser_batches(reader, monkeypatch, rewrite=None) -> list[int]:
    """The sizes of the recogniser batches the reader runs from now on; `rewrite(reads, batch_number)`
    may change each batch's reads."""
    calls: list[int] = []
    recognise = reader.recognise

    def counted(crops):
        reads = recognise(crops)
        calls.append(len(crops))
        return rewrite(reads, len(calls) - 1) if rewrite else reads

    monkeypatch.setattr(reader, "recognise", counted)
    return calls


def test_first_looks_that_agree_settle_the_plate(reader, monkeypatch):
    from murur.alpr.imaging import FIRST_LOOKS

    data, _ = frame_with(["1234AB00"], 0)
    calls = recogniser_batches(reader, monkeypatch)
    read = reader.read(data)[0]
    assert read.text == "1234AB00"
    assert read.rectification_agreement == 1.0
    assert calls == [1, FIRST_LOOKS - 1]  # one plate, one row count: its main look, its other first looks


def test_a_cut_whose_main_look_reads_nothing_is_not_looked_at_again(reader, monkeypatch):
    data, _ = frame_with(["1234AB00"], 0)
    calls = recogniser_batches(reader, monkeypatch, lambda reads, _: [dataclasses.replace(r, text="") for r in reads])
    assert reader.read(data) == []
    assert calls == [1]  # the other looks of a detection that reads as no plate are never cut or read


def test_a_cut_that_reads_nothing_does_not_hide_the_other_row_count(reader, monkeypatch):
    data, _ = frame_with(["1234AB00"], 0)
    # Both row counts are read; the two-row cut (second in the batch of main looks) reads nothing and
    # would be the surer of the two, so a reader that ranked it would report no plate.
    monkeypatch.setattr(reader, "_row_options", lambda probability: [False, True])

    def two_rows_blank(reads, batch):
        return [dataclasses.replace(r, text="") if batch == 0 and i == 1 else r for i, r in enumerate(reads)]

    calls = recogniser_batches(reader, monkeypatch, two_rows_blank)
    monkeypatch.setattr(reader, "confidence", lambda read, score, agreement: 0.99 if not read.text else 0.5)
    (plate,) = reader.read(data)
    assert plate.text == "1234AB00" and not plate.two_rows and plate.confidence == 0.5
    assert calls[0] == 2


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
    for part in ("detector", "recognizer", "refiner"):
        if part == "refiner" and part not in card:  # optional: a reader without one reads the detector's corners
            continue
        data = (MODELS_DIR / card[part]["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == card[part]["sha256"]
        total += len(data)
    assert total <= 10 * 1024 * 1024
    import onnxruntime as ort

    # The frame size the card promises is the one the detector graph takes.
    (image,) = ort.InferenceSession(str(MODELS_DIR / card["detector"]["file"])).get_inputs()
    assert image.shape[2:] == [card["detector"]["input_height"], card["detector"]["input_width"]]


def counted_detect_at(reader, monkeypatch, blind_at_full_input: bool = False) -> list[float]:
    """The shrink of every detector pass the reader makes (none found at full input if `blind_at_full_input`)."""
    calls = []
    detect_at = reader.detect_at

    def counted(grey, shrink):
        calls.append(shrink)
        return [] if blind_at_full_input and shrink == 1.0 else detect_at(grey, shrink)

    monkeypatch.setattr(reader, "detect_at", counted)
    return calls


def test_a_frame_without_a_sure_plate_is_searched_again_at_the_training_scale(reader, monkeypatch):
    from murur.alpr.reader import _SURE_DETECTION

    card = reader.card
    assert reader.second_scale == pytest.approx(card["data_recipe"]["detector_size"][0] / card["detector"]["input_width"])
    assert reader.second_scale < 1.0
    calls = counted_detect_at(reader, monkeypatch)
    assert reader.read(jpeg(Image.new("RGB", (1920, 1080), (128, 128, 128)))) == []
    assert calls == [1.0, reader.second_scale]

    calls.clear()
    data, _ = frame_with(["1234AB00"], 0)
    (read,) = reader.read(data)
    assert read.text == "1234AB00" and read.detector_score >= _SURE_DETECTION
    assert calls == [1.0]  # a sure plate costs one detector pass


def test_plates_found_only_at_the_training_scale_are_read_where_they_are(reader, monkeypatch):
    from murur.alpr.postprocess import box_iou

    data, boxes = frame_with(["1234AB00", "5071KT08"], 3)
    calls = counted_detect_at(reader, monkeypatch, blind_at_full_input=True)
    reads = reader.read(data)
    assert calls == [1.0, reader.second_scale]
    for text, box in zip(["1234AB00", "5071KT08"], boxes):
        (read,) = [r for r in reads if box_iou(r.box, box) >= 0.5]
        assert read.text == text


def test_a_card_without_its_training_size_searches_once(tmp_path, monkeypatch):
    if not (MODELS_DIR / MODEL_CARD).exists():
        pytest.skip("no shipped plate models")
    for model in MODELS_DIR.glob("*.onnx"):
        shutil.copy(model, tmp_path / model.name)
    card = json.loads((MODELS_DIR / MODEL_CARD).read_text())
    del card["data_recipe"]
    (tmp_path / MODEL_CARD).write_text(json.dumps(card))
    reader = PlateReader(tmp_path)
    assert reader.second_scale == 1.0
    calls = counted_detect_at(reader, monkeypatch)
    assert reader.read(jpeg(Image.new("RGB", (1920, 1080), (128, 128, 128)))) == []
    assert calls == [1.0]


def constant_refiner(path, unit_corners) -> None:
    """An ONNX refiner that places every plate's corners at `unit_corners` of its neighbourhood."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    const = numpy_helper.from_array(np.asarray(unit_corners, np.float32).reshape(1, 4, 2), "place")
    shape = numpy_helper.from_array(np.array([-1, 1, 1], np.int64), "shape")
    zero = numpy_helper.from_array(np.zeros((), np.float32), "zero")
    graph = helper.make_graph(
        [helper.make_node("ReduceMean", ["crop"], ["mean"], axes=[1, 2, 3], keepdims=1),
         helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
         helper.make_node("Reshape", ["nothing", "shape"], ["per_plate"]),
         helper.make_node("Add", ["per_plate", "place"], ["corners"])],
        "constant_refiner",
        [helper.make_tensor_value_info("crop", TensorProto.FLOAT, ["batch", 1, 48, 160])],
        [helper.make_tensor_value_info("corners", TensorProto.FLOAT, ["batch", 4, 2])],
        initializer=[const, shape, zero])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def models_with_refiner(tmp_path, unit_corners):
    for name in ("detector.onnx", "recognizer.onnx", MODEL_CARD):
        shutil.copy(MODELS_DIR / name, tmp_path / name)
    constant_refiner(tmp_path / "refiner.onnx", unit_corners)
    card = json.loads((tmp_path / MODEL_CARD).read_text())
    card["refiner"] = {"file": "refiner.onnx"}
    (tmp_path / MODEL_CARD).write_text(json.dumps(card))
    return tmp_path


PLACED = [[0.2, 0.3], [0.8, 0.3], [0.8, 0.7], [0.2, 0.7]]


def test_a_refiner_in_the_card_moves_the_detected_corners_before_the_plate_is_read(tmp_path):
    from murur.alpr.imaging import apply_homography, decode_grey, refiner_neighbourhood

    refined_reader = PlateReader(models_with_refiner(tmp_path, PLACED))
    image, _ = frame_with(["1234AB00"], seed=3)
    grey = decode_grey(image)
    detections = refined_reader.detect(grey)
    assert detections
    refined = refined_reader.refine(grey, detections)
    for before, after in zip(detections, refined):
        _, to_frame = refiner_neighbourhood(grey, before.corners)
        assert after.corners == pytest.approx(apply_homography(to_frame, PLACED), abs=1e-3)
        assert not np.allclose(after.corners, before.corners, atol=1.0)
        assert after.score == before.score
    reads = refined_reader.read(image)
    assert reads
    assert np.array(reads[0].corners) == pytest.approx(refined[0].corners, abs=1e-3)
    assert reads[0].box == detections[0].box  # the box is where the detector found the plate

    # A card without a refiner reads from the detector's corners.
    card = json.loads((tmp_path / MODEL_CARD).read_text())
    del card["refiner"]
    (tmp_path / MODEL_CARD).write_text(json.dumps(card))
    unrefined_reader = PlateReader(tmp_path)
    assert unrefined_reader.refine(grey, detections) == detections
    assert np.array(unrefined_reader.read(image)[0].corners) == pytest.approx(detections[0].corners, abs=1e-3)


def test_refined_corners_outside_what_the_refiner_saw_are_not_used(tmp_path):
    from murur.alpr.imaging import decode_grey

    outside = [[-0.3, 0.3], [0.8, 0.3], [0.8, 0.7], [0.2, 0.7]]
    refined_reader = PlateReader(models_with_refiner(tmp_path, outside))
    grey = decode_grey(frame_with(["1234AB00"], seed=3)[0])
    detections = refined_reader.detect(grey)
    assert detections
    assert [d.corners.tolist() for d in refined_reader.refine(grey, detections)] == [d.corners.tolist() for d in detections]


def test_a_card_naming_a_missing_refiner_is_refused(tmp_path):
    models = models_with_refiner(tmp_path, PLACED)
    (models / "refiner.onnx").unlink()
    with pytest.raises(ModelNotAvailable):
        PlateReader(models)
