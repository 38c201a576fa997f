import json

import pytest

from murur.alpr.evaluate import by_kind, by_plate_width, main, summarise


def plate(frame: str, width: int, correct: bool, truth: str = "1234AB00") -> dict:
    return {"frame": frame, "truth": truth, "kind": "mr_civil", "detected": True, "iou": 0.8,
            "plate_width_px": width, "read": truth if correct else "1234AB01", "confidence": 0.9,
            "features": None, "correct": correct, "text_anywhere": correct, "latency_ms": 10.0}


def test_exact_reads_are_counted_per_plate_width_bin():
    plates = [plate("a", 60, False), plate("a", 65, True), plate("b", 100, True), plate("c", 300, True),
              plate("d", 300, True)]
    assert by_plate_width(plates) == [
        {"width_px": "0-70", "plates": 2, "exact_match": 0.5},
        {"width_px": "90-120", "plates": 1, "exact_match": 1.0},
        {"width_px": ">=250", "plates": 2, "exact_match": 1.0},
    ]


def test_detection_and_exact_reads_are_counted_per_plate_kind():
    missed = {**plate("b", 90, False), "kind": "mr_two_row", "detected": False, "read": ""}
    plates = [plate("a", 60, False), plate("a", 200, True), {**plate("b", 90, True), "kind": "mr_two_row"}, missed,
              {**plate("c", 120, True), "kind": "mr_diplomatic"}, {**plate("r", 120, True), "kind": None}]
    assert by_kind(plates) == [
        {"kind": "mr_civil", "plates": 2, "detection_recall": 1.0, "exact_match": 0.5},
        {"kind": "mr_two_row", "plates": 2, "detection_recall": 0.5, "exact_match": 0.5},
        {"kind": "mr_diplomatic", "plates": 1, "detection_recall": 1.0, "exact_match": 1.0},
    ]


def test_summary_counts_plates_whole_frames_and_false_reads():
    junk = {**plate("b", 0, False), "truth": None, "kind": None, "plate_width_px": None, "read": "SALE",
            "confidence": 0.2, "latency_ms": None}
    summary = summarise([plate("a", 60, False), plate("a", 200, True), plate("b", 100, True), junk], threshold=0.95)
    assert summary["plates"] == 3 and summary["frames"] == 2
    assert summary["plate_exact_match"] == pytest.approx(2 / 3)
    assert summary["frame_exact_match"] == 0.5  # frame a has one plate wrong
    assert summary["false_reads"] == 1
    assert summary["accepted_reads"] == 0 and summary["precision_at_threshold"] is None
    assert sum(row["plates"] for row in summary["by_plate_width"]) == 3


def test_the_evaluation_cli_measures_a_labelled_folder(tmp_path):
    from murur.alpr.synth.__main__ import main as synth

    folder = tmp_path / "photos"
    synth([str(folder), "--count", "3", "--size", "960x540", "--seed", "8", "--kind", "mr_civil"])
    labels = [p.read_text().splitlines() for p in folder.glob("*.txt")]
    truths = sum(len(lines) for lines in labels)
    out = tmp_path / "report.json"
    main(["--real", str(folder), "--json", str(out)])

    data = json.loads(out.read_text())
    real = data["report"]["real"]
    assert real["frames"] == sum(1 for lines in labels if lines) >= 2  # a frame without a plate has no truth
    assert real["plates"] == truths
    assert sum(row["plates"] for row in real["by_plate_width"]) == truths
    assert real["by_kind"] == [] and real["true_crops"]["by_kind"] == []  # a labelled folder carries no kinds
    assert 0.0 <= real["plate_exact_match"] <= 1.0 and real["true_crops"]["crops"] == truths
    assert data["report"]["model_version"].startswith("murur-alpr-")
    assert all(r["plate_width_px"] > 0 for r in data["records"]["real"] if r["truth"])
