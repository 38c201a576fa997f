"""The typefaces plates are drawn with (files in `fonts/`, licences and sources in `fonts/FONTS.md`).

Besides the font files, OpenCV's built-in Hershey vector fonts give stroke-drawn characters (the look of
stamped / stencilled plates) without any file.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_DIR = Path(__file__).parent / "fonts"


@dataclass(frozen=True)
class Face:
    """A typeface the generator can draw plate characters with.

    `weight` is its relative frequency; `plate_like` marks faces close to real plate typefaces (condensed
    road-sign / DIN styles), which the US- and Euro-style plates prefer.
    """

    name: str
    file: str | None  # None for a Hershey vector font
    weight: float
    plate_like: bool
    hershey: int | None = None
    # Some faces draw glyphs outside the plate alphabet poorly (e.g. a slashed zero); they stay rare.


_ALL_FACES: tuple[Face, ...] = (
    Face("RoadgeekB", "RG2014B.ttf", 3.0, True),
    Face("RoadgeekC", "RG2014C.ttf", 3.0, True),
    Face("RoadgeekD", "RG2014D.ttf", 2.0, True),
    Face("OpenDIN", "OSP-DIN.ttf", 3.0, True),
    Face("BebasNeueBold", "BebasNeue-Bold.otf", 2.0, True),
    Face("BebasNeue", "BebasNeue-Regular.otf", 1.5, True),
    Face("RoutedGothicNarrow", "routed-gothic-narrow.ttf", 1.5, True),
    Face("RobotoCondensedBold", "RobotoCondensed-Bold.ttf", 2.0, True),
    Face("RobotoCondensed", "RobotoCondensed-Regular.ttf", 1.0, False),
    Face("DejaVuSansCondensedBold", "DejaVuSansCondensed-Bold.ttf", 2.0, False),
    Face("NationalParkHeavy", "NationalPark-Heavy.otf", 1.0, False),
    Face("FiraSansMedium", "FiraSans-Medium.woff2", 1.0, False),
    Face("B612Bold", "B612-Bold.otf", 0.7, False),
    Face("B612MonoBold", "B612Mono-Bold.otf", 0.7, False),
    Face("SourceCodeProSemibold", "SourceCodePro-Semibold.woff2", 0.5, False),
    Face("Allerta", "allerta_medium.otf", 0.3, False),
    Face("HersheySimplex", None, 1.0, True, hershey=cv2.FONT_HERSHEY_SIMPLEX),
    Face("HersheyDuplex", None, 0.7, True, hershey=cv2.FONT_HERSHEY_DUPLEX),
    Face("HersheyComplex", None, 0.3, False, hershey=cv2.FONT_HERSHEY_COMPLEX),
)
# An installation that left some font files out (packaging rules) still draws with the others.
FACES: tuple[Face, ...] = tuple(f for f in _ALL_FACES if f.file is None or (FONT_DIR / f.file).is_file())
FACES_BY_NAME = {face.name: face for face in FACES}
# Has Arabic glyphs (the "ج ا م" of the Mauritanian band).
ARABIC_FACE = "DejaVuSansCondensedBold"
SMALL_PRINT_FACES = tuple(
    name
    for name in ("RobotoCondensedBold", "DejaVuSansCondensedBold", "FiraSansMedium", "OpenDIN", "RobotoCondensed",
                 "BebasNeueBold")
    if name in FACES_BY_NAME
)


def pick_face(rng: np.random.Generator, plate_like: bool = False) -> Face:
    faces = [f for f in FACES if f.plate_like] if plate_like else list(FACES)
    weights = np.array([f.weight for f in faces])
    return faces[int(rng.choice(len(faces), p=weights / weights.sum()))]


@lru_cache(maxsize=512)
def truetype(file: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / file), size)


def text_mask(face: Face, text: str, height: int, stroke: float = 0.0) -> np.ndarray:
    """Coverage mask (float32 0..1) of `text` cropped tightly to its ink, about `height` px tall.

    `stroke` thickens (>0) or thins nothing: a fraction of the height added as outline, which is how
    heavier plate weights are imitated with one file.
    """
    height = max(int(height), 6)
    if face.hershey is not None:
        scale = cv2.getFontScaleFromHeight(face.hershey, height, 1)
        thickness = max(1, int(round(height * (0.09 + stroke))))
        (w, h), base = cv2.getTextSize(text, face.hershey, scale, thickness)
        pad = thickness + 2
        canvas = np.zeros((h + base + 2 * pad, w + 2 * pad), np.uint8)
        cv2.putText(canvas, text, (pad, pad + h), face.hershey, scale, 255, thickness, cv2.LINE_AA)
    else:
        font = truetype(face.file, height)
        stroke_px = int(round(height * stroke))
        left, top, right, bottom = font.getbbox(text, stroke_width=stroke_px)
        canvas_img = Image.new("L", (right - left + 2, bottom - top + 2), 0)
        ImageDraw.Draw(canvas_img).text(
            (1 - left, 1 - top), text, font=font, fill=255, stroke_width=stroke_px, stroke_fill=255
        )
        canvas = np.asarray(canvas_img)
    ys, xs = np.nonzero(canvas > 20)
    if len(xs) == 0:
        return np.zeros((height, 1), np.float32)
    crop = canvas[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    return crop.astype(np.float32) / 255.0


GLYPH_REFERENCE_HEIGHT = 96


@lru_cache(maxsize=2048)
def fixed_text_mask(face_name: str, text: str) -> np.ndarray:
    """`text_mask` at the reference height, cached: for the recurring words (state names, "RIM")."""
    return text_mask(FACES_BY_NAME[face_name], text, GLYPH_REFERENCE_HEIGHT // 2)


@lru_cache(maxsize=8192)
def _reference_glyph(face_name: str, ch: str, stroke_step: int) -> np.ndarray:
    """Glyph at the reference height; a negative stroke thins it (erosion), a positive one thickens."""
    face = FACES_BY_NAME[face_name]
    if stroke_step >= 0 or face.hershey is not None:
        mask = text_mask(face, ch, GLYPH_REFERENCE_HEIGHT, max(stroke_step, -3) / 100.0)
    else:
        mask = text_mask(face, ch, GLYPH_REFERENCE_HEIGHT)
        radius = max(1, int(round(-stroke_step / 100.0 * GLYPH_REFERENCE_HEIGHT)))
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        mask = cv2.erode(mask, kernel)
    return (mask * 255 + 0.5).astype(np.uint8)  # cached as bytes: a quarter of the memory of floats


def glyph_mask(face: Face, ch: str, height: int, stroke: float = 0.0, squeeze: float = 1.0) -> np.ndarray:
    """Tight ink mask of one character scaled to `height` px (all plate characters share a height).

    Rendered once per face/character at a reference size and cached, so drawing a plate costs resizes.
    `squeeze` scales the width (condensed or extended lettering); `stroke` (a fraction of the height)
    makes the lettering heavier (> 0) or lighter (< 0).
    """
    ref = _reference_glyph(face.name, ch, int(round(stroke * 100)))
    height = max(int(round(height)), 1)
    width = max(int(round(ref.shape[1] * height / ref.shape[0] * squeeze)), 1)
    interp = cv2.INTER_AREA if height < ref.shape[0] else cv2.INTER_LINEAR
    return cv2.resize(ref, (width, height), interpolation=interp).astype(np.float32) * (1.0 / 255.0)


# Letters some faces draw like a digit, and how alike two glyphs must be (intersection over union of their
# ink, centred, at the reference height) to count as the same. The pairs drawn alike measure 0.96-1.0
# (O and 0 in seven road-sign faces, I and 1 in one); the closest pairs told apart by a width or a
# straight side measure 0.91 (O and 0 in NationalParkHeavy) and 0.90 (D and 0 in OpenDIN).
_DIGIT_LOOKALIKES = (("O", "0"), ("I", "1"), ("D", "0"), ("Q", "0"), ("B", "8"), ("S", "5"), ("Z", "2"), ("G", "6"))
SAME_GLYPH_MIN_IOU = 0.93


def glyph_iou(face: Face, a: str, b: str) -> float:
    """How alike `a` and `b` are drawn in `face`: the overlap of their ink, centred, at the reference height."""
    first, second = (_reference_glyph(face.name, ch, 0).astype(np.float32) for ch in (a, b))
    height = max(first.shape[0], second.shape[0])
    if first.shape[0] != second.shape[0]:  # all characters share a height: compare them at the same one
        first, second = (cv2.resize(g, (max(1, round(g.shape[1] * height / g.shape[0])), height)) for g in (first, second))
    width = max(first.shape[1], second.shape[1])

    def centred(glyph: np.ndarray) -> np.ndarray:
        left = (width - glyph.shape[1]) // 2
        return np.pad(glyph, ((0, 0), (left, width - glyph.shape[1] - left)))

    first, second = centred(first), centred(second)
    union = np.maximum(first, second).sum()
    return float(np.minimum(first, second).sum() / union) if union else 0.0


@lru_cache(maxsize=64)
def digit_twins(face_name: str) -> dict[str, str]:
    """The letters `face_name` draws like a digit (O like 0 in most road-sign faces), each with its digit.
    Nobody can tell them apart from the pixels, so a plate's label names the digit (murur.alpr.synth.plates)."""
    face = FACES_BY_NAME[face_name]
    return {letter: digit for letter, digit in _DIGIT_LOOKALIKES if glyph_iou(face, letter, digit) >= SAME_GLYPH_MIN_IOU}


@lru_cache(maxsize=8192)
def _line_glyph(face_name: str, ch: str) -> np.ndarray:
    """One character on the face's full line height (ascender to descender), tight horizontally."""
    face = FACES_BY_NAME[face_name]
    size = GLYPH_REFERENCE_HEIGHT // 2
    if face.hershey is not None:
        scale = cv2.getFontScaleFromHeight(face.hershey, size, 1)
        thickness = max(1, size // 12)
        (w, h), base = cv2.getTextSize(ch, face.hershey, scale, thickness)
        canvas = np.zeros((h + base + 2 * thickness, w + 2 * thickness), np.uint8)
        cv2.putText(canvas, ch, (thickness, h + thickness), face.hershey, scale, 255, thickness, cv2.LINE_AA)
    else:
        font = truetype(face.file, size)
        ascent, descent = font.getmetrics()
        advance = max(1, int(round(font.getlength(ch))))
        img = Image.new("L", (advance + 2, ascent + descent), 0)
        ImageDraw.Draw(img).text((1, 0), ch, font=font, fill=255)
        canvas = np.asarray(img)
    return canvas.astype(np.float32) / 255.0


def line_mask(face: Face, text: str, height: int, tracking: float = 0.0) -> np.ndarray:
    """Coverage mask of a line of any text (mixed case, punctuation), `height` px from ascender to
    descender, assembled from cached glyphs (much faster than rasterising every random string)."""
    glyphs = [_line_glyph(face.name, ch) for ch in text]
    if not glyphs:
        return np.zeros((max(height, 1), 1), np.float32)
    ref_h = max(g.shape[0] for g in glyphs)
    gap = int(round(tracking * ref_h))
    width = sum(g.shape[1] for g in glyphs) + gap * (len(glyphs) - 1)
    line = np.zeros((ref_h, max(width, 1)), np.float32)
    x = 0
    for g in glyphs:
        w = min(g.shape[1], line.shape[1] - x)
        if w > 0:
            np.maximum(line[: g.shape[0], x : x + w], g[:, :w], out=line[: g.shape[0], x : x + w])
        x += g.shape[1] + gap
    height = max(int(height), 1)
    new_w = max(1, int(round(line.shape[1] * height / ref_h)))
    interp = cv2.INTER_AREA if height < ref_h else cv2.INTER_LINEAR
    return cv2.resize(line, (new_w, height), interpolation=interp)
