import csv
import io
import json
from pathlib import Path

import pytest
from PIL import Image

from murur.alpr.evaluate import Frame, Truth, judged_figures, main
from murur.alpr.misreads import (
    CAPTION_HEIGHT, COLUMNS, INDEX_FIELDS, INDEX_NAME, TILE_WIDTH, VERDICTS, VerdictError, read_verdicts, write_misread_sheets,
)


def frame_with_plates() -> Frame:
    image = Image.new("RGB", (400, 200), "grey")
    image.paste(Image.new("RGB", (100, 20), "white"), (20, 30))
    image.paste(Image.new("RGB", (60, 14), "yellow"), (250, 150))
    image.paste(Image.new("RGB", (80, 18), "green"), (200, 40))
    encoded = io.BytesIO()
    image.save(encoded, "JPEG")
    truths = [Truth("1234AB00", (20, 30, 120, 50), "mr_civil"), Truth("5678CD01", (250, 150, 310, 164), "mr_government"),
              Truth("12CD3456", (200, 40, 280, 58), "mr_diplomatic")]
    return Frame("frame-1", encoded.getvalue(), truths)


def record(truth: str, read: str, width: int, kind: str) -> dict:
    return {"frame": "frame-1", "truth": truth, "kind": kind, "read": read, "correct": read == truth,
            "plate_width_px": width, "confidence": 0.42}


def test_sheets_show_the_misread_and_missed_plates_and_list_them_for_a_verdict(tmp_path):
    records = [record("1234AB00", "1234AB00", 100, "mr_civil"), record("5678CD01", "5878CD01", 60, "mr_government"),
               record("12CD3456", "", 80, "mr_diplomatic"),
               {**record("", "SALE", 0, None), "truth": None}]  # a read matching no plate is not a misread plate

    sheets = write_misread_sheets("synthetic", [frame_with_plates()], records, tmp_path)

    assert [s.name for s in sheets] == ["synthetic-misreads-01.png"]
    with (tmp_path / INDEX_NAME).open() as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert [(r["truth"], r["read"], r["tile"], r["legible"]) for r in rows] == [
        ("5678CD01", "5878CD01", "1", ""), ("12CD3456", "", "2", "")]
    sheet = Image.open(sheets[0]).convert("RGB")
    assert sheet.width == COLUMNS * (TILE_WIDTH + 4)
    # Tile 1 (left) is the yellow plate, 60 x 14 px with 15 x 7 px around it, enlarged to TILE_WIDTH x 100:
    # its middle, below the caption, is yellow.
    r, g, b = sheet.getpixel((TILE_WIDTH // 2, CAPTION_HEIGHT + 50))
    assert r > 200 and g > 200 and b < 80


def test_a_second_set_adds_its_sheets_and_rows_to_the_same_index(tmp_path):
    records = [record("5678CD01", "5878CD01", 60, "mr_government")]
    write_misread_sheets("one", [frame_with_plates()], records, tmp_path)
    write_misread_sheets("two", [frame_with_plates()], records, tmp_path)

    with (tmp_path / INDEX_NAME).open() as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert [r["sheet"] for r in rows] == ["one-misreads-01.png", "two-misreads-01.png"]
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["one-misreads-01.png", "two-misreads-01.png"]


def test_the_evaluation_cli_writes_a_sheet_row_for_every_plate_not_read_exactly(tmp_path):
    from murur.alpr.synth.__main__ import main as synth

    folder = tmp_path / "photos"
    synth([str(folder), "--count", "3", "--size", "960x540", "--seed", "8", "--kind", "mr_civil"])
    sheets, report = tmp_path / "sheets", tmp_path / "report.json"
    main(["--real", str(folder), "--json", str(report), "--misreads", str(sheets)])

    plates = [r for r in json.loads(report.read_text())["records"]["real"] if r["truth"]]
    with (sheets / INDEX_NAME).open() as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert sorted(r["truth"] for r in rows) == sorted(p["truth"] for p in plates if not p["correct"])
    assert len(list(sheets.glob("real-misreads-*.png"))) == (len(rows) + 11) // 12


def write_index(path, rows: list[dict]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, INDEX_FIELDS, delimiter="\t")
        writer.writeheader()
        for row in rows:
            writer.writerow({field: row.get(field, "") for field in INDEX_FIELDS})


def verdict_row(frame: str, truth: str, width: int, legible: str) -> dict:
    return {"sheet": "s-misreads-01.png", "tile": 1, "frame": frame, "truth": truth, "read": "", "plate_width_px": width,
            "confidence": "0.1", "legible": legible}


def test_verdicts_are_read_by_plate_and_unjudged_rows_are_left_out(tmp_path):
    one, two = tmp_path / "one.tsv", tmp_path / "two.tsv"
    write_index(one, [verdict_row("f1", "1234AB00", 60, "n"), verdict_row("f1", "1234AB00", 200, "Y"),
                      verdict_row("f2", "5678CD01", 80, "")])
    write_index(two, [verdict_row("f3", "12CD3456", 70, "?"), verdict_row("f1", "1234AB00", 60, "n")])

    assert read_verdicts([one, two]) == {("f1", "1234AB00", 60): "n", ("f1", "1234AB00", 200): "y",
                                         ("f3", "12CD3456", 70): "?"}


@pytest.mark.parametrize("rows, message", [
    ([verdict_row("f1", "1234AB00", 60, "maybe")], "not one of y / n / ?"),
    ([verdict_row("f1", "1234AB00", 60, "n"), verdict_row("f1", "1234AB00", 60, "y")], "judged both n and y"),
    ([verdict_row("f1", "1234AB00", "wide", "n")], "not a whole number"),
])
def test_a_verdict_that_cannot_be_trusted_is_refused_with_its_line(tmp_path, rows, message):
    index = tmp_path / "index.tsv"
    write_index(index, rows)

    with pytest.raises(VerdictError, match=message) as refused:
        read_verdicts([index])
    assert f"{index}:" in str(refused.value)


def test_a_file_that_is_not_an_index_is_refused(tmp_path):
    other = tmp_path / "other.tsv"
    other.write_text("frame\ttruth\nf1\t1234AB00\n")

    with pytest.raises(VerdictError, match="lacks the columns"):
        read_verdicts([other])


def test_judged_figures_count_illegible_plates_neither_way_and_unjudged_misreads_as_legible():
    def plate(frame, truth, width, correct):
        return {"frame": frame, "truth": truth, "plate_width_px": width, "correct": correct}

    records = [
        plate("f1", "1111AA00", 60, False), plate("f1", "2222BB00", 200, True),  # f1: its misread plate is illegible
        plate("f2", "3333CC00", 50, False),  # f2: its only plate is illegible, the frame leaves the count
        plate("f3", "4444DD00", 90, False),  # f3: misread, judged legible
        plate("f4", "5555EE00", 80, False), plate("f4", "6666FF00", 150, True),  # f4: misread, not judged yet
        plate("f5", "7777GG00", 140, True),
        {"frame": "f5", "truth": None, "plate_width_px": 0, "correct": False},  # a read matching no plate
    ]
    verdicts = {("f1", "1111AA00", 60): "n", ("f2", "3333CC00", 50): "n", ("f3", "4444DD00", 90): "y",
                ("f5", "7777GG00", 140): "?"}

    assert judged_figures(records, verdicts) == {
        "plates_judged": 4, "plates_judged_illegible": 2, "misread_unjudged": 1,
        "frames": 4, "frame_exact_match": 2 / 4, "plate_exact_match": 3 / 5}


def test_the_evaluation_cli_reports_the_judged_figures_from_a_filled_index(tmp_path):
    from murur.alpr.synth.__main__ import main as synth

    folder = tmp_path / "photos"
    synth([str(folder), "--count", "4", "--size", "960x540", "--seed", "8", "--kind", "mr_civil"])
    sheets, first, second = tmp_path / "sheets", tmp_path / "first.json", tmp_path / "second.json"
    main(["--real", str(folder), "--json", str(first), "--misreads", str(sheets)])
    plates = [r for r in json.loads(first.read_text())["records"]["real"] if r["truth"]]
    # Judge every plate illegible, read right or not: then no frame is left to count.
    write_index(tmp_path / "all.tsv", [verdict_row(p["frame"], p["truth"], p["plate_width_px"], "n") for p in plates])

    main(["--real", str(folder), "--json", str(second), "--audit", str(tmp_path / "all.tsv")])

    judged = json.loads(second.read_text())["report"]["real"]["judged"]
    assert judged == {"plates_judged": len(plates), "plates_judged_illegible": len(plates), "misread_unjudged": 0,
                      "frames": 0, "frame_exact_match": None, "plate_exact_match": None}


def test_the_evaluation_cli_refuses_a_broken_audit_before_reading_a_frame(tmp_path, capsys):
    broken = tmp_path / "broken.tsv"
    write_index(broken, [verdict_row("f1", "1234AB00", 60, "perhaps")])

    with pytest.raises(SystemExit) as stopped:
        main(["--synthetic", "1", "--audit", str(broken)])
    assert stopped.value.code == 2
    assert "not one of y / n / ?" in capsys.readouterr().err


def test_the_kept_verdicts_are_whole_readable_and_only_of_generated_frames():
    audit = Path(__file__).resolve().parents[2] / "docs" / "alpr-audit"
    files = sorted(audit.glob("*.tsv"))
    assert files, "make eval passes docs/alpr-audit/*.tsv to --audit"
    verdicts = read_verdicts(files)
    rows = []
    for path in files:
        with path.open(newline="") as handle:
            rows += csv.DictReader(handle, delimiter="\t")
    assert len(verdicts) == len(rows)  # every row judged, no plate twice
    assert {row["legible"] for row in rows} <= set(VERDICTS)
    # Real photos and their sheets stay out of the repository; so do verdicts on them.
    assert all(frame.startswith("synthetic-") for frame, _, _ in verdicts)
