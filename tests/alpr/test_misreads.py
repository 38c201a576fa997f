import csv
import io
import json

from PIL import Image

from murur.alpr.evaluate import Frame, Truth, main
from murur.alpr.misreads import CAPTION_HEIGHT, COLUMNS, INDEX_NAME, TILE_WIDTH, write_misread_sheets


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
