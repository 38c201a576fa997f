import numpy as np
import pytest
from PIL import Image

torch = pytest.importorskip("torch")

from murur.alpr.imaging import REFINER_HEIGHT, REFINER_WIDTH, apply_homography, refiner_neighbourhood  # noqa: E402
from training.refiner import (  # noqa: E402
    JITTER_ACROSS,
    JITTER_ALONG,
    _inner_corners,
    as_tensor,
    corner_error,
    export_onnx,
    jitter,
    make_samples,
    refine,
    to_unit_square,
    train,
)

PLATE = np.array([[100.0, 50.0], [220.0, 58.0], [218.0, 84.0], [98.0, 76.0]])


def test_the_neighbourhood_holds_the_input_corners_at_its_inner_rectangle_and_maps_back():
    grey = Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 320), dtype=np.uint8))
    crop, to_frame = refiner_neighbourhood(grey, PLATE)
    assert crop.shape == (REFINER_HEIGHT, REFINER_WIDTH) and crop.dtype == np.uint8
    assert to_unit_square(PLATE, to_frame) == pytest.approx(_inner_corners(), abs=1e-4)
    assert apply_homography(to_frame, to_unit_square(PLATE, to_frame)) == pytest.approx(PLATE, abs=1e-3)


def test_corner_error_is_measured_along_and_across_the_plate():
    assert corner_error(PLATE, PLATE) == pytest.approx((0.0, 0.0), abs=1e-9)
    along = (PLATE[1] - PLATE[0] + PLATE[2] - PLATE[3]) / 2
    across = (PLATE[3] - PLATE[0] + PLATE[2] - PLATE[1]) / 2
    assert corner_error(PLATE + 0.1 * along, PLATE) == pytest.approx((0.1, 0.0), abs=1e-6)
    assert corner_error(PLATE - 0.2 * across, PLATE) == pytest.approx((0.0, 0.2), abs=1e-6)


def test_training_corners_are_misplaced_about_as_far_as_the_detector_misplaces_them():
    rng = np.random.default_rng(1)
    errors = np.array([corner_error(jitter(rng, PLATE), PLATE) for _ in range(3000)])
    along, across = errors.mean(axis=0)
    # Mean absolute error of a normal is 0.8 sigma; the shared shift and the far tenth widen it a little.
    assert 0.6 * JITTER_ALONG < along < 1.2 * JITTER_ALONG
    assert 0.6 * JITTER_ACROSS < across < 1.2 * JITTER_ACROSS


def test_a_tiny_refiner_trains_and_moves_corners_within_its_neighbourhood():
    inputs, targets = make_samples(np.random.default_rng(2), 24)
    assert inputs.shape == (24, REFINER_HEIGHT, REFINER_WIDTH) and targets.shape == (24, 4, 2)
    assert np.all((targets > -0.2) & (targets < 1.2))  # the true plate lies in the neighbourhood, about
    model = train(inputs, targets, steps=4, batch=8, log_every=0)
    grey = Image.fromarray(np.full((200, 320), 128, np.uint8))
    refined = refine(model, grey, PLATE)
    assert refined.shape == (4, 2) and np.all(np.isfinite(refined))
    # The network predicts an offset from the input corners, at most a fraction of the neighbourhood.
    assert np.abs(refined - PLATE).max() < 0.5 * (PLATE[1, 0] - PLATE[0, 0])


def test_the_exported_refiner_gives_the_torch_models_corners(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    inputs, targets = make_samples(np.random.default_rng(3), 16)
    model = train(inputs, targets, steps=3, batch=8, log_every=0)
    export_onnx(model, tmp_path / "refiner.onnx")
    session = ort.InferenceSession(str(tmp_path / "refiner.onnx"), providers=["CPUExecutionProvider"])
    (onnx_corners,) = session.run(None, {"crop": (inputs[:5, None].astype(np.float32) / 255.0)})
    with torch.no_grad():
        torch_corners = model(as_tensor(inputs[:5])).numpy()
    assert onnx_corners.shape == (5, 4, 2)
    assert onnx_corners == pytest.approx(torch_corners, abs=1e-4)
