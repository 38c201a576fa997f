import cv2
import numpy as np
import pytest

from murur.alpr.evaluate import LEGIBLE_MIN, judged_figures, measured_legibility_figures, summarise
from murur.alpr.synth import PlateSpec, compose_scene, render_plate
from murur.alpr.synth import scene as scene_module
from murur.alpr.synth.legibility import SNR_CAP, plate_legibility


def plate_in_frame(width: int = 200, text: str = "1234AB00"):
    """A front-on plate pasted at (20, 10) on a grey frame: the frame as float 0..1 and the corners."""
    plate = render_plate(PlateSpec.for_text(text), np.random.default_rng(3), scale=width / 520, plain=True)
    h, w = plate.image.shape[:2]
    frame = np.full((h + 20, w + 40, 3), 0.4, np.float32)
    frame[10:10 + h, 20:20 + w] = plate.image / 255.0
    corners = np.float32([[20, 10], [20 + w, 10], [20 + w, 10 + h], [20, 10 + h]])
    return frame, corners, h


def noisy(frame: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    return frame + np.random.default_rng(seed).normal(0, sigma, frame.shape).astype(np.float32)


def test_an_untouched_plate_scores_the_cap_times_its_height():
    frame, corners, height = plate_in_frame()
    assert plate_legibility(frame, frame, corners) == pytest.approx(SNR_CAP * height, rel=0.02)
    assert plate_legibility(frame, frame, corners, rows=2) == pytest.approx(SNR_CAP * height / 2, rel=0.02)


def test_exposure_and_contrast_changes_are_not_losses_but_noise_and_blur_are():
    frame, corners, _ = plate_in_frame()
    untouched = plate_legibility(frame, frame, corners)
    assert plate_legibility(frame, frame * 0.4 + 0.3, corners) == pytest.approx(untouched, rel=0.02)
    scores = [plate_legibility(frame, noisy(frame, sigma), corners) for sigma in (0.01, 0.03, 0.1, 0.3)]
    assert scores == sorted(scores, reverse=True) and scores[0] < untouched
    small, small_corners, _ = plate_in_frame(width=70)
    assert plate_legibility(small, noisy(small, 0.3), small_corners) < LEGIBLE_MIN < plate_legibility(small, noisy(small, 0.01), small_corners)
    blurred = [plate_legibility(frame, cv2.GaussianBlur(frame, (0, 0), sigma), corners) for sigma in (0.7, 1.5, 3.0)]
    assert blurred == sorted(blurred, reverse=True) and blurred[0] < untouched


def test_the_same_noise_costs_a_small_plate_more_than_a_large_one():
    large, large_corners, _ = plate_in_frame(width=300)
    small, small_corners, _ = plate_in_frame(width=60)
    assert plate_legibility(small, noisy(small, 0.05), small_corners) < plate_legibility(large, noisy(large, 0.05), large_corners)


def test_a_camera_frame_in_uint8_is_compared_like_floats():
    frame, corners, _ = plate_in_frame()
    as_bytes = (np.clip(noisy(frame, 0.05), 0, 1) * 255 + 0.5).astype(np.uint8)
    as_floats = np.clip(noisy(frame, 0.05), 0, 1)
    assert plate_legibility(frame, as_bytes, corners) == pytest.approx(plate_legibility(frame, as_floats, corners), rel=0.05)


def test_a_sliver_or_a_blank_plate_scores_zero():
    frame, _, _ = plate_in_frame()
    assert plate_legibility(frame, frame, np.float32([[20, 10], [22, 10], [22, 11], [20, 11]])) == 0.0
    blank = np.full((60, 200), 0.7, np.float32)
    assert plate_legibility(blank, noisy(blank, 0.02), np.float32([[10, 10], [190, 10], [190, 50], [10, 50]])) == 0.0


def test_scenes_carry_each_plates_legibility_and_measuring_draws_nothing(monkeypatch):
    specs = [PlateSpec.for_text("1234AB00"), PlateSpec.for_text("5678CD12")]
    clean = compose_scene(np.random.default_rng(21), specs, size=(1280, 720), clean=True)
    assert clean.annotations and all(a.legibility > LEGIBLE_MIN for a in clean.annotations)

    measured_rng = np.random.default_rng(22)
    measured = [compose_scene(measured_rng, size=(960, 540)) for _ in range(6)]
    monkeypatch.setattr(scene_module, "plate_legibility", lambda *args, **kwargs: -1.0)
    unmeasured_rng = np.random.default_rng(22)
    unmeasured = [compose_scene(unmeasured_rng, size=(960, 540)) for _ in range(6)]
    assert all(np.array_equal(a.image, b.image) for a, b in zip(measured, unmeasured))
    assert measured_rng.bit_generator.state == unmeasured_rng.bit_generator.state
    legibilities = [a.legibility for scene in measured for a in scene.annotations]
    assert legibilities and all(0 <= value for value in legibilities)
    assert len(set(legibilities)) == len(legibilities)  # measured per plate, not one figure per scene


def plate(frame: str, legibility: float | None, correct: bool, truth: str = "1234AB00", width: int = 100) -> dict:
    return {"frame": frame, "truth": truth, "kind": "mr_civil", "detected": True, "iou": 0.8, "plate_width_px": width,
            "legibility": legibility, "read": truth if correct else "1234AB01", "confidence": 0.5, "features": None,
            "correct": correct, "text_anywhere": correct, "latency_ms": 10.0}


def test_reads_are_binned_by_legibility_and_the_illegible_plates_counted_neither_way():
    plates = [plate("a", 10.0, False), plate("a", 300.0, True, "5555EE00"),  # a: only its illegible plate misread
              plate("b", 40.0, False), plate("c", 120.0, True), plate("d", 20.0, True)]  # d: illegible, read anyway
    plates[0]["confidence"] = 0.95  # an illegible plate misread with confidence: it would be issued
    figures = measured_legibility_figures(plates, threshold=0.9)
    assert figures["by_legibility"] == [
        {"legibility": "0-15", "plates": 1, "exact_match": 0.0},
        {"legibility": "15-25", "plates": 1, "exact_match": 1.0},
        {"legibility": "25-50", "plates": 1, "exact_match": 0.0},
        {"legibility": ">=100", "plates": 2, "exact_match": 1.0},
    ]
    assert figures["legible"] == {"legible_min": LEGIBLE_MIN, "plates_below": 2, "frames": 3,
                                  "frame_exact_match": pytest.approx(2 / 3), "plate_exact_match": pytest.approx(2 / 3)}
    assert figures["below_legible_min_issued"] == {"reads": 1, "wrong": 1}
    assert summarise(plates, threshold=0.9)["legible"] == figures["legible"]
    assert measured_legibility_figures(plates, threshold=0.99)["below_legible_min_issued"] == {"reads": 0, "wrong": 0}


def test_real_photos_have_no_measured_legibility_figures():
    plates = [plate("a", None, True), plate("b", None, False)]
    assert measured_legibility_figures(plates, threshold=0.9) == {}
    assert "by_legibility" not in summarise(plates, threshold=0.9)


def test_the_verdicts_are_set_beside_the_measured_legibility():
    plates = [plate("a", 10.0, False, width=60), plate("b", 12.0, False, width=61), plate("c", 80.0, False, width=90),
              plate("d", 90.0, False, width=95), plate("e", 200.0, True), plate("f", 20.0, True)]
    verdicts = {("a", "1234AB00", 60): "n", ("c", "1234AB00", 90): "y", ("d", "1234AB00", 95): "?"}
    assert judged_figures(plates, verdicts)["verdicts_by_legibility"] == {
        "below_legible_min": {"y": 0, "n": 1, "?": 0, "unjudged_misread": 1, "read_right": 1},
        "legible": {"y": 1, "n": 0, "?": 1, "unjudged_misread": 0, "read_right": 1},
    }
