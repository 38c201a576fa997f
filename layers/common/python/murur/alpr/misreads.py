"""Contact sheets of the plates a reader got wrong, for a person to judge what the camera gave it.

Figures say how many plates were misread; only a look at them says whether a person could have read
them (a 60-pixel plate in sensor noise) or the reader failed a clear one. `write_misread_sheets` cuts
each misread or missed plate out of its frame with some surroundings, enlarges it without smoothing
(the pixels the reader had), captions it with the truth, the read, the plate's width and the
confidence, and lists every tile in `misreads.tsv` (tiles are numbered left, right, left, ... down
the sheet), whose `legible` column is left for the person's verdict: y (a person reads it), n (nobody
could: too small, blurred or noisy), ? (in between). `read_verdicts` loads a filled index back, so
that the evaluation can leave the plates judged illegible out of its whole-frame figure
(`--audit`); docs/alpr-audit/ keeps the verdicts given on the held-out sets.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw, ImageFont

if TYPE_CHECKING:
    from murur.alpr.evaluate import Frame

TILE_WIDTH = 320
CAPTION_HEIGHT = 18
COLUMNS = 2
TILES_PER_SHEET = 12
INDEX_NAME = "misreads.tsv"
INDEX_FIELDS = ("sheet", "tile", "frame", "kind", "truth", "read", "plate_width_px", "confidence", "legible")
VERDICTS = ("y", "n", "?")
ILLEGIBLE = "n"

PlateKey = tuple[str, str, int]  # frame, true text, plate width in pixels: one plate, even if a frame repeats a text


class VerdictError(ValueError):
    """A filled index that cannot be read as verdicts."""


def misread_tile(frame_image: Image.Image, box: tuple[int, int, int, int], caption: str) -> Image.Image:
    """The plate with a quarter of its width and half its height around it, TILE_WIDTH wide, captioned."""
    x1, y1, x2, y2 = box
    w, h = max(1, x2 - x1), max(1, y2 - y1)
    region = frame_image.crop((x1 - w // 4, y1 - h // 2, x2 + w // 4, y2 + h // 2))
    height = max(1, round(TILE_WIDTH * region.height / region.width))
    tile = Image.new("RGB", (TILE_WIDTH, height + CAPTION_HEIGHT), "white")
    tile.paste(region.resize((TILE_WIDTH, height), Image.Resampling.NEAREST), (0, CAPTION_HEIGHT))
    ImageDraw.Draw(tile).text((3, 3), caption, fill="black", font=ImageFont.load_default())
    return tile


def contact_sheet(tiles: list[Image.Image]) -> Image.Image:
    """Tiles placed in the columns in turn (tile 1 left, tile 2 right, ...), each under the last of its column."""
    heights = [0] * COLUMNS
    places = []
    for index, tile in enumerate(tiles):
        column = index % COLUMNS
        places.append((column * (TILE_WIDTH + 4), heights[column]))
        heights[column] += tile.height + 4
    sheet = Image.new("RGB", (COLUMNS * (TILE_WIDTH + 4), max(heights)), "grey")
    for tile, place in zip(tiles, places):
        sheet.paste(tile, place)
    return sheet


def write_misread_sheets(set_name: str, frames: Iterable[Frame], records: list[dict], out_dir: Path) -> list[Path]:
    """Sheets `<set_name>-misreads-NN.png` of every true plate in `records` not read exactly (missed ones
    included), in frame order, and their rows appended to out_dir/misreads.tsv. Returns the sheets."""
    out_dir.mkdir(parents=True, exist_ok=True)
    wrong: dict[str, list[dict]] = {}
    for record in records:
        if record["truth"] and not record["correct"]:
            wrong.setdefault(record["frame"], []).append(record)
    tiles: list[tuple[Image.Image, dict]] = []
    for frame in frames:
        if frame.name not in wrong:
            continue
        image = Image.open(io.BytesIO(frame.image)).convert("RGB")
        unused = list(frame.truths)
        for record in wrong[frame.name]:
            # A frame may carry the same text twice; each record takes the next truth of its text.
            truth = next((t for t in unused if t.text == record["truth"]), None)
            if truth is None:
                continue
            unused.remove(truth)
            read = record["read"] or "(not found)"
            caption = f"{record['truth']} -> {read}  {record['plate_width_px']} px  {record['confidence']:.2f}"
            tiles.append((misread_tile(image, truth.box, caption), record))
    index_path = out_dir / INDEX_NAME
    new_index = not index_path.exists()
    sheets = []
    with index_path.open("a", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t")
        if new_index:
            writer.writerow(INDEX_FIELDS)
        for start in range(0, len(tiles), TILES_PER_SHEET):
            group = tiles[start:start + TILES_PER_SHEET]
            path = out_dir / f"{set_name}-misreads-{start // TILES_PER_SHEET + 1:02d}.png"
            contact_sheet([tile for tile, _ in group]).save(path)
            sheets.append(path)
            for number, (_, record) in enumerate(group, start=1):
                writer.writerow((path.name, number, record["frame"], record["kind"] or "", record["truth"],
                                 record["read"], record["plate_width_px"], f"{record['confidence']:.4f}", ""))
    return sheets


def plate_key(record: dict) -> PlateKey:
    return record["frame"], record["truth"], int(record["plate_width_px"])


def read_verdicts(paths: Iterable[Path]) -> dict[PlateKey, str]:
    """The verdicts of filled misreads.tsv files by plate; rows whose `legible` is still empty are left out.
    A plate judged twice must be judged the same."""
    verdicts: dict[PlateKey, str] = {}
    for path in paths:
        with path.open(newline="") as handle:
            rows = csv.DictReader(handle, delimiter="\t")
            missing = set(INDEX_FIELDS) - set(rows.fieldnames or ())
            if missing:
                raise VerdictError(f"{path}: not a misreads index, it lacks the columns {sorted(missing)}")
            for line, row in enumerate(rows, start=2):
                verdict = row["legible"].strip().lower()
                if not verdict:
                    continue
                if verdict not in VERDICTS:
                    raise VerdictError(f"{path}:{line}: legible is {row['legible']!r}, not one of {' / '.join(VERDICTS)}")
                try:
                    key = plate_key(row)
                except ValueError:
                    raise VerdictError(f"{path}:{line}: plate_width_px is not a whole number") from None
                if verdicts.get(key, verdict) != verdict:
                    raise VerdictError(f"{path}:{line}: {key[1]} in {key[0]} was judged both {verdicts[key]} and {verdict}")
                verdicts[key] = verdict
    return verdicts
