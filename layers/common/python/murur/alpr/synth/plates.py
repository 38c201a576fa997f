"""Plate specifications and their rendering into front-on plate images."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import cv2
import numpy as np

from murur.alpr.formats import ALPHABET, DIGITS, LETTERS, MR_CIVIL, REGIONS, is_plate_text, match_layout, normalise
from murur.alpr.synth import fonts
from murur.alpr.synth.fonts import FACES_BY_NAME, Face

KINDS = (
    "mr_civil",
    "mr_government",
    "mr_diplomatic",
    "mr_two_row",
    "foreign_one_row",
    "foreign_two_row",
    "foreign_us",
)
# Default mix of `random_plate(rng)`; callers pass `kind` to choose their own.
KIND_WEIGHTS = {
    "mr_civil": 0.28,
    "mr_government": 0.05,
    "mr_diplomatic": 0.05,
    "mr_two_row": 0.06,
    "foreign_one_row": 0.16,
    "foreign_two_row": 0.05,
    "foreign_us": 0.35,
}
# Physical plate sizes (width, height) in millimetres.
PLATE_MM = {
    "mr_civil": (520, 110),
    "mr_government": (520, 110),
    "mr_diplomatic": (520, 110),
    "mr_two_row": (280, 200),
    "foreign_one_row": (520, 110),
    "foreign_two_row": (300, 200),
    "foreign_us": (305, 152),
}

_CAR_PAINT = np.array(
    [[0.9, 0.9, 0.9], [0.1, 0.1, 0.1], [0.5, 0.5, 0.52], [0.7, 0.7, 0.72], [0.55, 0.05, 0.05],
     [0.05, 0.15, 0.45], [0.2, 0.3, 0.2], [0.85, 0.8, 0.7], [0.3, 0.2, 0.15], [0.95, 0.95, 0.98]],
    np.float32,
)


@dataclass(frozen=True)
class PlateSpec:
    """What a plate says and what kind of plate it is; the look is drawn at random by `render_plate`.

    `rows` are the printed rows (groups separated by spaces); their characters, read top to bottom,
    are exactly `text`. `face` pins a typeface by name (see `fonts.FACES`).
    """

    text: str
    kind: str = "foreign_one_row"
    rows: tuple[str, ...] = ()
    face: str | None = None

    def __post_init__(self) -> None:
        text = normalise(self.text)
        if not is_plate_text(text):
            raise ValueError(f"plate text must be 1+ characters of {ALPHABET}")
        if self.kind not in KINDS:
            raise ValueError(f"unknown plate kind {self.kind!r}; expected one of {KINDS}")
        if self.face is not None and self.face not in FACES_BY_NAME:
            raise ValueError(f"unknown face {self.face!r}")
        object.__setattr__(self, "text", text)
        rows = self.rows or _default_rows(text, self.kind)
        if normalise("".join(rows)) != text:
            raise ValueError("rows do not spell the plate text")
        object.__setattr__(self, "rows", tuple(rows))

    @classmethod
    def for_text(cls, text: str, kind: str | None = None) -> PlateSpec:
        """A spec for a given text; the kind follows the text's layout unless given."""
        text = normalise(text)
        if kind is None:
            layout = match_layout(text)
            if layout is not None and layout.id == "MR_CIVIL":
                kind = "mr_civil"
            elif layout is not None and layout.id in ("MR_DIPLOMATIC", "MR_UN"):
                kind = "mr_diplomatic"
            else:
                kind = "foreign_one_row"
        return cls(text=text, kind=kind)

    @property
    def layout(self) -> str | None:
        layout = match_layout(self.text)
        return layout.id if layout else None

    @property
    def size_mm(self) -> tuple[int, int]:
        return PLATE_MM[self.kind]


def _default_rows(text: str, kind: str) -> tuple[str, ...]:
    layout = match_layout(text)
    if kind == "mr_two_row" and layout is MR_CIVIL:
        return (text[:4], f"{text[4:6]} {text[6:]}")
    if kind in ("mr_two_row", "foreign_two_row"):
        cut = len(text) // 2 if len(text) < 6 else min(3, len(text) - 3)
        return (text[:cut], text[cut:])
    if layout is not None and layout.length is not None:
        return (layout.display(text),)
    if kind in ("foreign_one_row", "foreign_us") and len(text) >= 5 and not text.isalpha():
        cut = (len(text) + 1) // 2 if len(text) % 2 else len(text) // 2
        return (f"{text[:cut]} {text[cut:]}",)
    return (text,)


def _choice(rng: np.random.Generator, seq):
    return seq[int(rng.integers(len(seq)))]


def _chars(rng: np.random.Generator, alphabet: str, n: int) -> str:
    return "".join(alphabet[i] for i in rng.integers(0, len(alphabet), n))


def _region(rng: np.random.Generator) -> str:
    codes = sorted(REGIONS)
    weights = np.array([6.0 if c == "00" else 2.0 if c == "08" else 1.0 for c in codes])
    return codes[int(rng.choice(len(codes), p=weights / weights.sum()))]


def random_mr_civil_text(rng: np.random.Generator) -> str:
    return _chars(rng, DIGITS, 4) + _chars(rng, LETTERS, 2) + _region(rng)


# Character patterns seen on foreign plates: D digit, L letter, A either.
_FOREIGN_PATTERNS = (
    "DLLLDDD", "LLLDDDD", "LLLDDD", "DDDLLL", "LLDDDLL", "LLDDLLL", "DLLDDD", "LLLDLL", "LDDLLL",
    "DDDDLL", "LLDDDD", "DLLLDD", "LLLLDD", "DDLLDD", "AAAAA", "AAAAAA", "AAAAAAA", "AAAAAAAA",
    "AAAA", "DDDDDDD", "DDDDDD", "LLDLDL", "LDLDLD", "DLDLLL", "DDDLLLD",
)


# US states issue no letter O on standard plates (it would read as 0): on a US-style plate a round
# glyph is a zero, and the recogniser should learn that rather than guess between the two.
US_LETTERS = LETTERS.replace("O", "")


def random_foreign_text(rng: np.random.Generator, min_len: int = 4, max_len: int = 8, letters: str = LETTERS) -> str:
    patterns = [p for p in _FOREIGN_PATTERNS if min_len <= len(p) <= max_len]
    pattern = _choice(rng, patterns)
    pools = {"D": DIGITS, "L": letters, "A": DIGITS + letters}
    return "".join(_choice(rng, pools[c]) for c in pattern)


def random_plate(rng: np.random.Generator, kind: str | None = None,
                 kind_weights: Mapping[str, float] | None = None) -> PlateSpec:
    """A random plate of `kind` (or of a kind drawn from `kind_weights`, KIND_WEIGHTS by default)."""
    if kind is None:
        kind_weights = KIND_WEIGHTS if kind_weights is None else kind_weights
        kinds = list(kind_weights)
        weights = np.array([kind_weights[k] for k in kinds])
        kind = kinds[int(rng.choice(len(kinds), p=weights / weights.sum()))]
    if kind in ("mr_civil", "mr_government", "mr_two_row"):
        text = random_mr_civil_text(rng)
    elif kind == "mr_diplomatic":
        middle = "ONU" if rng.random() < 0.15 else "CD"
        text = _chars(rng, DIGITS, 2) + middle + _chars(rng, DIGITS, 4)
    elif kind == "foreign_two_row":
        text = random_foreign_text(rng, 4, 8)
    elif kind == "foreign_us":
        lengths = (5, 7) if rng.random() < 0.9 else (4, 8)
        text = random_foreign_text(rng, *lengths, letters=US_LETTERS)
    elif kind == "foreign_one_row":
        text = random_foreign_text(rng, 4, 8)
    else:
        raise ValueError(f"unknown plate kind {kind!r}")
    return PlateSpec(text=text, kind=kind)


@dataclass
class RenderedPlate:
    """A front-on plate picture; `alpha` is 255 on the plate and 0 outside its rounded corners."""

    image: np.ndarray  # uint8 H x W x 3, RGB
    text: str
    kind: str
    rows: tuple[str, ...]
    alpha: np.ndarray = field(repr=False, default=None)  # uint8 H x W
    face: str = ""

    @property
    def size(self) -> tuple[int, int]:
        return self.image.shape[1], self.image.shape[0]


# ----------------------------------------------------------------------------- drawing helpers


def _colour(rng: np.random.Generator, base, jitter: float = 0.05) -> np.ndarray:
    """`base` shifted in brightness by about `jitter` and in hue by a third of that."""
    shift = rng.normal(0, jitter) + rng.normal(0, jitter / 3, 3)
    return np.clip(np.asarray(base, np.float32) + shift.astype(np.float32), 0, 1)


def _blend(canvas: np.ndarray, mask: np.ndarray, colour, x: int, y: int, opacity: float = 1.0) -> None:
    """Paint `colour` through `mask` (float 0..1) at (x, y), clipped to the canvas."""
    h, w = mask.shape
    H, W = canvas.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, W), min(y + h, H)
    if x1 <= x0 or y1 <= y0:
        return
    m = mask[y0 - y : y1 - y, x0 - x : x1 - x, None] * opacity
    region = canvas[y0:y1, x0:x1]
    region *= 1.0 - m
    region += m * np.asarray(colour, np.float32)


def _gradient(h: int, w: int, top, bottom) -> np.ndarray:
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    return np.broadcast_to(np.asarray(top, np.float32) * (1 - t) + np.asarray(bottom, np.float32) * t, (h, w, 3)).copy()


def _layout_row(
    glyphs: list[np.ndarray | None], gap: float, group_gap: float
) -> tuple[list[int], int]:
    """x offsets of each glyph (None = group break) and the row's total width."""
    xs, x = [], 0.0
    for g in glyphs:
        if g is None:
            xs.append(int(x))
            x += group_gap - gap
            continue
        xs.append(int(round(x)))
        x += g.shape[1] + gap
    return xs, int(round(x - gap))


def _draw_row(
    canvas: np.ndarray,
    row: str,
    box: tuple[int, int, int, int],
    face: Face,
    colour,
    rng: np.random.Generator,
    stroke: float,
    squeeze: float,
    gap_ratio: float,
    group_gap_ratio: float,
    emboss: float,
    separator: str | None = None,
    separator_colour=None,
) -> None:
    """Draw one printed row centred in `box` = (x, y, w, h); characters are `h` tall."""
    bx, by, bw, bh = box
    char_h = bh
    for _attempt in range(4):
        glyphs: list[np.ndarray | None] = [
            None if ch == " " else fonts.glyph_mask(face, ch, char_h, stroke, squeeze) for ch in row
        ]
        gap, group_gap = gap_ratio * char_h, group_gap_ratio * char_h
        xs, total = _layout_row(glyphs, gap, group_gap)
        if total <= bw:
            break
        # Too wide: condense the lettering as plate makers do, then lower it if that is not enough.
        factor = bw / total * 0.98
        if squeeze > 0.62:
            squeeze = max(0.62, squeeze * factor)
        else:
            char_h = max(4, int(char_h * factor))
    x0 = bx + (bw - total) // 2 + int(rng.integers(-max(1, (bw - total) // 8), max(1, (bw - total) // 8) + 1))
    x0 = int(np.clip(x0, bx, max(bx, bx + bw - total)))
    y0 = by + (bh - char_h) // 2
    off = max(1, int(round(char_h * 0.04)))
    for g, gx in zip(glyphs, xs):
        if g is None:
            if separator:
                _draw_separator(canvas, separator, x0 + gx + int((group_gap - gap) / 2) - int(gap / 2), y0, char_h,
                                separator_colour if separator_colour is not None else colour, rng)
            continue
        if emboss > 0:
            _blend(canvas, g, (0.0, 0.0, 0.0), x0 + gx + off, y0 + off, emboss)
            _blend(canvas, g, (1.0, 1.0, 1.0), x0 + gx - off, y0 - off, emboss * 0.7)
        _blend(canvas, g, colour, x0 + gx, y0)


def _star(cx: float, cy: float, r: float) -> np.ndarray:
    angles = np.pi / 2 + np.arange(10) * np.pi / 5
    radii = np.where(np.arange(10) % 2 == 0, r, r * 0.42)
    return np.stack([cx + radii * np.cos(angles), cy - radii * np.sin(angles)], axis=1).astype(np.int32)


def _heart(cx: float, cy: float, r: float) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, 24)
    x = 16 * np.sin(t) ** 3
    y = 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
    return np.stack([cx + x * r / 17, cy - y * r / 17], axis=1).astype(np.int32)


def _draw_separator(canvas, kind: str, cx: int, y0: int, char_h: int, colour, rng) -> None:
    """What US and European plates print between character groups (never part of the text)."""
    cy = y0 + char_h // 2
    ink = tuple(float(c) for c in colour)
    if kind == "dash":
        w, h = max(2, char_h // 4), max(1, char_h // 10)
        cv2.rectangle(canvas, (cx - w // 2, cy - h // 2), (cx + w // 2, cy + h // 2), ink, -1)
    elif kind == "dot":
        cv2.circle(canvas, (cx, cy), max(1, char_h // 12), ink, -1, cv2.LINE_AA)
    elif kind == "star":
        cv2.fillPoly(canvas, [_star(cx, cy, char_h * rng.uniform(0.15, 0.25))], ink, cv2.LINE_AA)
    elif kind == "heart":
        col = tuple(float(c) for c in _colour(rng, (0.8, 0.1, 0.15), 0.08))
        cv2.fillPoly(canvas, [_heart(cx, cy, char_h * rng.uniform(0.15, 0.25))], col, cv2.LINE_AA)
    elif kind == "emblem":
        # A picture at character height between the groups: a state outline, a logo, a sticker.
        w, h = max(2, int(char_h * rng.uniform(0.2, 0.45))), max(3, int(char_h * rng.uniform(0.45, 0.9)))
        col = tuple(float(c) for c in rng.random(3))
        y = cy - h // 2
        r = rng.random()
        if r < 0.4:
            cv2.rectangle(canvas, (cx - w // 2, y), (cx + w // 2, y + h), col, -1)
            if w > 4:  # a sticker's printing
                cv2.rectangle(canvas, (cx - w // 4, y + h // 4), (cx + w // 4, y + h // 2), (0.1, 0.1, 0.1), -1)
        elif r < 0.7:
            pts = np.float32([[cx + rng.uniform(-0.5, 0.5) * w, y + rng.uniform(0, 1) * h] for _ in range(7)])
            hull = cv2.convexHull(pts).astype(np.int32)
            cv2.fillPoly(canvas, [hull], col, cv2.LINE_AA)
        else:
            cv2.ellipse(canvas, (cx, cy), (max(1, w // 2), max(1, h // 2)), 0, 0, 360, col, -1, cv2.LINE_AA)


def _small_text(canvas, text: str, box, colour, rng, face_name: str | None = None, italic: bool = False,
                fixed: bool = True) -> None:
    """Small print (state name, slogan, dealer name) fitted into `box`.

    `fixed` texts come from a small vocabulary and are rasterised once (cached); others are assembled
    from cached glyphs.
    """
    bx, by, bw, bh = box
    if bh < 3 or bw < 6 or not text:
        return
    face = FACES_BY_NAME[face_name or _choice(rng, fonts.SMALL_PRINT_FACES)]
    mask = fonts.fixed_text_mask(face.name, text) if fixed else fonts.line_mask(face, text, max(bh, 6))
    scale = min(bh / mask.shape[0], bw / mask.shape[1])
    w, h = max(1, int(mask.shape[1] * scale)), max(1, int(mask.shape[0] * scale))
    mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_AREA)
    if italic:
        shear = np.float32([[1, -0.25, 0.25 * h], [0, 1, 0]])
        mask = cv2.warpAffine(mask, shear, (w + int(0.25 * h) + 1, h))
    _blend(canvas, mask, colour, bx + (bw - mask.shape[1]) // 2, by + (bh - h) // 2)


_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_STATE_WORDS = (
    "CALIFORNIA", "TEXAS", "ARIZONA", "FLORIDA", "NEVADA", "OREGON", "OHIO", "MISSOURI", "INDIANA",
    "ALASKA", "GEORGIA", "ILLINOIS", "KANSAS", "MONTANA", "UTAH", "IOWA", "MAINE", "IDAHO", "VERMONT",
    "NEW YORK", "NEW JERSEY", "COLORADO", "WYOMING", "Michigan", "Virginia", "Nebraska", "Dakota",
    "Carolina", "Tennessee", "Kentucky", "Oklahoma", "Louisiana", "Alabama", "Washington", "Minnesota",
)
_SLOGAN_WORDS = (
    "THE", "GREAT", "STATE", "LAND", "OF", "LINCOLN", "SUNSHINE", "GRAND", "CANYON", "LAKES", "SHOW",
    "ME", "EMPIRE", "GARDEN", "FRONTIER", "LAST", "DEALER", "SALES", "MOTORS", "AUTO", "GROUP", "FORD",
    "TOYOTA", "HONDA", "explore", "visit", "drive", "safe", "www", "com", "PEACH", "HEART", "FIRST",
    "SOONER", "BIG", "SKY", "COUNTRY", "OCEAN", "VOLUNTEER", "PRIDE", "NATURE", "WILD", "WONDERFUL",
)


def _slogan(rng, max_words: int = 3) -> str:
    return " ".join(_choice(rng, _SLOGAN_WORDS) for _ in range(int(rng.integers(1, max_words + 1))))


def _mauritania_outline(cx: float, cy: float, size: float) -> np.ndarray:
    """A rough outline of the country (unit square coordinates, top-left origin)."""
    pts = np.array(
        [[0.55, 0.0], [0.72, 0.0], [0.72, 0.16], [1.0, 0.16], [0.92, 0.72], [0.95, 0.95], [0.55, 0.95],
         [0.45, 1.0], [0.3, 0.9], [0.1, 0.92], [0.05, 0.8], [0.12, 0.55], [0.05, 0.35], [0.35, 0.3],
         [0.42, 0.12], [0.55, 0.1]],
        np.float32,
    )
    return ((pts - 0.5) * size + np.array([cx, cy], np.float32)).astype(np.int32)


def _mr_band(canvas: np.ndarray, x: int, w: int, h: int, rng) -> None:
    """The blue band at the right of newer Mauritanian plates: outline, "RIM", "ج ا م"."""
    blue = _colour(rng, (0.0, 0.25, 0.6), 0.04)
    canvas[:, x : x + w] = blue
    white = (0.97, 0.97, 0.97)
    size = min(w * 0.8, h * 0.36)
    outline = _mauritania_outline(x + w / 2, h * 0.46, size)
    if rng.random() < 0.5:
        cv2.fillPoly(canvas, [outline], (0.1, 0.55, 0.25), cv2.LINE_AA)
        cv2.polylines(canvas, [outline], True, white, max(1, int(h * 0.01)), cv2.LINE_AA)
    else:
        cv2.polylines(canvas, [outline], True, white, max(1, int(h * 0.02)), cv2.LINE_AA)
    _small_text(canvas, "ج ا م", (x + w // 10, int(h * 0.06), w - w // 5, int(h * 0.2)), white, rng,
                face_name=fonts.ARABIC_FACE)
    _small_text(canvas, "RIM", (x + w // 10, int(h * 0.72), w - w // 5, int(h * 0.2)), white, rng,
                face_name=_choice(rng, ("DejaVuSansCondensedBold", "RobotoCondensedBold", "OpenDIN")))


def _screws(canvas: np.ndarray, positions, radius: int, rng) -> None:
    metal = _colour(rng, (0.65, 0.65, 0.62), 0.08)
    for (sx, sy) in positions:
        cv2.circle(canvas, (int(sx), int(sy)), radius, tuple(float(c) for c in metal), -1, cv2.LINE_AA)
        cv2.circle(canvas, (int(sx), int(sy)), radius, (0.25, 0.25, 0.25), max(1, radius // 4), cv2.LINE_AA)
        if radius >= 3:
            cv2.line(canvas, (int(sx - radius * 0.6), int(sy)), (int(sx + radius * 0.6), int(sy)),
                     (0.2, 0.2, 0.2), max(1, radius // 4))


def _wear(canvas: np.ndarray, rng, amount: float) -> None:
    """Dirt, fading and scratches."""
    h, w = canvas.shape[:2]
    if amount <= 0:
        return
    cells = int(rng.integers(3, 9))  # blotches a few per plate height, whatever the resolution
    small = rng.random((cells, max(2, cells * w // h))).astype(np.float32)
    dirt = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    # Grime gathers towards the edges of the plate.
    edge = np.minimum(np.linspace(0, 2, h)[:, None], np.linspace(2, 0, h)[:, None]).astype(np.float32)
    dirt = dirt * (1.2 - 0.5 * edge)
    dirt = np.clip((dirt - (1 - amount)) / max(amount, 1e-3), 0, 1)[..., None] * 0.4 * amount
    grime = np.asarray(_colour(rng, (0.35, 0.3, 0.22), 0.05))
    canvas *= 1 - dirt
    canvas += dirt * grime
    for _ in range(int(rng.integers(0, 4 * amount + 1))):
        p = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        q = (p[0] + int(rng.integers(-w // 4, w // 4 + 1)), p[1] + int(rng.integers(-h // 4, h // 4 + 1)))
        cv2.line(canvas, p, q, tuple(float(c) for c in _colour(rng, (0.8, 0.8, 0.8), 0.1)), 1, cv2.LINE_AA)


def _faint_graphics(canvas: np.ndarray, bg, rng) -> None:
    """Large low-contrast artwork behind the characters (sun, waves, a silhouette, a logo)."""
    h, w = canvas.shape[:2]
    for _ in range(int(rng.integers(1, 4))):
        tint = np.clip(np.asarray(bg) + rng.uniform(-0.25, 0.1) + rng.normal(0, 0.08, 3), 0, 1)
        colour = tuple(float(c) for c in tint)
        r = rng.random()
        if r < 0.35:
            cv2.circle(canvas, (int(rng.uniform(0, w)), int(rng.uniform(0, h))), int(h * rng.uniform(0.15, 0.6)),
                       colour, -1, cv2.LINE_AA)
        elif r < 0.7:
            xs = np.linspace(0, w, 24)
            y = h * rng.uniform(0.3, 0.9) + h * 0.06 * np.sin(xs / w * np.pi * rng.uniform(2, 6) + rng.uniform(0, 6))
            cv2.polylines(canvas, [np.stack([xs, y], 1).astype(np.int32)], False, colour,
                          max(1, int(h * rng.uniform(0.02, 0.08))), cv2.LINE_AA)
        else:
            pts = np.stack([rng.uniform(0, 1, 7) * w, rng.uniform(0.2, 1, 7) * h], 1).astype(np.float32)
            cv2.fillPoly(canvas, [cv2.convexHull(pts).astype(np.int32)], colour, cv2.LINE_AA)


def _rounded_alpha(h: int, w: int, radius: int) -> np.ndarray:
    alpha = np.full((h, w), 255, np.uint8)
    if radius <= 1:
        return alpha
    alpha[:radius, :radius] = 0
    alpha[:radius, w - radius :] = 0
    alpha[h - radius :, :radius] = 0
    alpha[h - radius :, w - radius :] = 0
    for cx, cy in ((radius, radius), (w - radius - 1, radius), (radius, h - radius - 1), (w - radius - 1, h - radius - 1)):
        cv2.circle(alpha, (cx, cy), radius, 255, -1, cv2.LINE_AA)
    return alpha


# ----------------------------------------------------------------------------- colour schemes


def _scheme(spec: PlateSpec, rng) -> dict:
    """Background, character and border colours (floats 0..1) for one plate."""
    k = spec.kind
    if k in ("mr_civil", "mr_two_row"):
        bg = _colour(rng, (0.96, 0.96, 0.95), 0.03)
        ink = _colour(rng, _choice(rng, [(0.05, 0.15, 0.5), (0.1, 0.25, 0.65), (0.02, 0.08, 0.3), (0.05, 0.05, 0.08)]), 0.04)
        return {"bg": bg, "ink": ink, "border": ink}
    if k == "mr_government":
        bg = _colour(rng, (0.98, 0.8, 0.05), 0.05)
        ink = _colour(rng, (0.04, 0.04, 0.04), 0.02)
        return {"bg": bg, "ink": ink, "border": ink}
    if k == "mr_diplomatic":
        bg = _colour(rng, (0.05, 0.45, 0.22), 0.05)
        ink = _colour(rng, (0.03, 0.03, 0.03), 0.02) if rng.random() < 0.8 else _colour(rng, (0.95, 0.95, 0.95), 0.03)
        return {"bg": bg, "ink": ink, "border": ink}
    if k == "foreign_us":
        ink = _choice(rng, [(0.05, 0.1, 0.35), (0.03, 0.03, 0.05), (0.1, 0.1, 0.45), (0.5, 0.05, 0.08),
                            (0.05, 0.3, 0.12), (0.2, 0.2, 0.25)])
        if rng.random() < 0.12:  # dark plates with light characters
            bg = _colour(rng, _choice(rng, [(0.05, 0.1, 0.3), (0.06, 0.06, 0.06), (0.1, 0.25, 0.15)]), 0.03)
            ink = _colour(rng, (0.95, 0.95, 0.9), 0.04)
        else:
            bg = _colour(rng, _choice(rng, [(0.97, 0.97, 0.97), (0.93, 0.95, 0.98), (0.98, 0.95, 0.85),
                                            (0.9, 0.93, 0.9), (0.99, 0.92, 0.7)]), 0.03)
        return {"bg": bg, "ink": _colour(rng, ink, 0.03), "border": _colour(rng, ink, 0.05)}
    # generic foreign
    if rng.random() < 0.3:
        bg = _colour(rng, _choice(rng, [(0.05, 0.05, 0.05), (0.05, 0.1, 0.4), (0.1, 0.35, 0.15), (0.5, 0.05, 0.05)]), 0.03)
        ink = _colour(rng, _choice(rng, [(0.95, 0.95, 0.95), (0.85, 0.85, 0.8), (0.95, 0.85, 0.2)]), 0.03)
    else:
        bg = _colour(rng, _choice(rng, [(0.96, 0.96, 0.96), (0.98, 0.85, 0.1), (0.9, 0.9, 0.85), (0.85, 0.9, 1.0)]), 0.03)
        ink = _colour(rng, _choice(rng, [(0.03, 0.03, 0.03), (0.05, 0.1, 0.4), (0.5, 0.05, 0.05)]), 0.03)
    return {"bg": bg, "ink": ink, "border": ink}


# ----------------------------------------------------------------------------- rendering


def render_plate(
    spec: PlateSpec, rng: np.random.Generator, scale: float | None = None, *, plain: bool = False
) -> RenderedPlate:
    """Draw `spec` front-on at `scale` pixels per millimetre (random around 0.5 when None).

    `plain=True` draws only the background, the characters and the border (no band, separators, small
    print, stickers, screws, embossing, dirt or texture): for tests and illustrations.
    """
    if scale is None:
        scale = float(rng.uniform(0.3, 0.8))
    w_mm, h_mm = spec.size_mm
    if spec.kind in ("foreign_one_row",) and rng.random() < 0.3:
        w_mm, h_mm = _choice(rng, [(305, 152), (340, 110), (400, 110), (460, 120)])
    W, H = max(int(round(w_mm * scale)), 24), max(int(round(h_mm * scale)), 8)
    scheme = _scheme(spec, rng)
    face = FACES_BY_NAME[spec.face] if spec.face else fonts.pick_face(
        rng, plate_like=spec.kind == "foreign_us" and rng.random() < 0.8)

    canvas = np.empty((H, W, 3), np.float32)
    canvas[:] = scheme["bg"]
    if spec.kind == "foreign_us" and not plain and rng.random() < 0.6:
        top = np.clip(scheme["bg"] + rng.normal(0, 0.12, 3), 0, 1)
        canvas = _gradient(H, W, top, scheme["bg"]) if rng.random() < 0.5 else _gradient(H, W, scheme["bg"], top)
        if rng.random() < 0.3:  # a scenic picture across the bottom (mountains, waves, sun)
            pts = [(0, H)] + [(int(x), int(H * rng.uniform(0.55, 0.9))) for x in np.linspace(0, W, 6)] + [(W, H)]
            cv2.fillPoly(canvas, [np.array(pts, np.int32)], tuple(float(c) for c in _colour(rng, scheme["bg"] * 0.85, 0.1)), cv2.LINE_AA)
    if spec.kind == "foreign_us" and not plain and rng.random() < 0.35:
        _faint_graphics(canvas, scheme["bg"], rng)

    # Content box, leaving room for the Mauritanian band and the border.
    border = max(1, int(round(min(W, H) * rng.uniform(0.015, 0.04))))
    content_x0, content_x1 = border * 2, W - border * 2
    is_mr = spec.kind.startswith("mr_")
    if spec.kind in ("mr_civil", "mr_government") and not plain and rng.random() < 0.65:
        band_w = int(W * rng.uniform(0.1, 0.13))
        _mr_band(canvas, W - band_w - border, band_w, H, rng)
        content_x1 = W - band_w - border * 2

    emboss = float(rng.uniform(0.1, 0.3)) if rng.random() < 0.4 and not plain else 0.0
    if face.hershey is None:
        stroke = float(rng.choice([-0.02, -0.01, -0.01, 0.0, 0.0, 0.0, 0.015, 0.03, 0.045]))
    else:
        stroke = float(rng.uniform(-0.03, 0.04))
    squeeze = float(rng.uniform(0.8, 1.1))
    gap_ratio = float(rng.uniform(0.04, 0.18))
    group_gap_ratio = float(rng.uniform(0.25, 0.6))
    separator = None
    if plain:
        pass
    elif spec.kind == "foreign_us" and rng.random() < 0.5:
        separator = _choice(rng, ["dash", "dash", "dot", "star", "heart", "emblem", "emblem", "emblem"])
        group_gap_ratio = max(group_gap_ratio, 0.45)
    elif spec.kind == "foreign_one_row" and rng.random() < 0.25:
        separator = "dash"

    rows = spec.rows
    content_w = content_x1 - content_x0
    if spec.kind == "foreign_us":
        band_top, band_bottom = rng.uniform(0.16, 0.26), rng.uniform(0.12, 0.22)
        text_h = H * min(rng.uniform(0.44, 0.6), 0.98 - band_top - band_bottom)
        top_space = H * band_top
        y_text = int(top_space + (H * (1 - band_top - band_bottom) - text_h) / 2)
        if not plain and rng.random() < 0.06:
            # Small stacked letters at the left (a county or class code): printed, not part of the text.
            stack_w = int(W * 0.09)
            small_h = int(text_h * 0.42)
            for i, ch in enumerate(_chars(rng, LETTERS, 2)):
                mask = fonts.glyph_mask(face, ch, small_h, stroke, squeeze)
                _blend(canvas, mask, scheme["ink"], content_x0 + (stack_w - mask.shape[1]) // 2,
                       y_text + i * (int(text_h) - small_h))
            content_x0 += stack_w + int(W * 0.02)
            content_w = content_x1 - content_x0
        _draw_row(canvas, rows[0], (content_x0, y_text, content_w, int(text_h)), face, scheme["ink"], rng,
                  stroke, squeeze, gap_ratio, group_gap_ratio, emboss, separator)
        state_colour = _colour(rng, _choice(rng, [(0.7, 0.05, 0.1), (0.05, 0.15, 0.5), scheme["ink"]]), 0.05)
        if not plain and rng.random() < 0.9:
            state_w = W * rng.uniform(0.3, 0.6)
            _small_text(canvas, _choice(rng, _STATE_WORDS),
                        (int((W - state_w) / 2), int(H * 0.04), int(state_w), int(top_space * rng.uniform(0.45, 0.8))),
                        state_colour, rng, italic=rng.random() < 0.4)
        if not plain and rng.random() < 0.8:
            _small_text(canvas, _slogan(rng), (int(W * 0.2), int(H * (1 - band_bottom) + H * 0.02), int(W * 0.6),
                                                int(H * band_bottom * 0.65)), scheme["ink"], rng, fixed=False)
        for corner in range(0 if plain else int(rng.integers(0, 3))):  # registration stickers in the top corners
            sw, sh = int(W * rng.uniform(0.1, 0.15)), int(H * rng.uniform(0.13, 0.2))
            sx = int(W * 0.04) if corner == 0 else W - sw - int(W * 0.04)
            sticker = _colour(rng, rng.random(3), 0.02)
            cv2.rectangle(canvas, (sx, int(H * 0.05)), (sx + sw, int(H * 0.05) + sh), tuple(float(c) for c in sticker), -1)
            if rng.random() < 0.7:  # month or year printed on it
                label = _choice(rng, _MONTHS) if rng.random() < 0.5 else f"{int(rng.integers(0, 100)):02d}"
                _small_text(canvas, label, (sx, int(H * 0.05), sw, sh), (0.05, 0.05, 0.05) if sticker.mean() > 0.5
                            else (0.95, 0.95, 0.95), rng, face_name="RobotoCondensedBold" if "RobotoCondensedBold" in FACES_BY_NAME else None)
    elif len(rows) == 1:
        text_h = (H - 4 * border) * rng.uniform(0.62, 0.8)
        y = int((H - text_h) / 2 + rng.normal(0, H * 0.02))
        _draw_row(canvas, rows[0], (content_x0, y, content_w, int(text_h)), face, scheme["ink"], rng,
                  stroke, squeeze, gap_ratio, group_gap_ratio, emboss, separator)
    else:
        inner = H - 4 * border
        row_gap = inner * rng.uniform(0.06, 0.12)
        heights = [inner * 0.4, inner * 0.4]
        if rng.random() < 0.3:  # top row smaller, as on many motorcycle plates
            heights = [inner * 0.35, inner * 0.45]
        y = 2 * border + (inner - sum(heights) - row_gap) / 2
        for row, rh in zip(rows, heights):
            _draw_row(canvas, row, (content_x0, int(y), content_w, int(rh)), face, scheme["ink"], rng,
                      stroke, squeeze, gap_ratio, group_gap_ratio * 0.6, emboss)
            y += rh + row_gap

    radius = int(min(W, H) * rng.uniform(0.02, 0.1))
    if rng.random() < 0.85:
        inset = border // 2
        _rounded_rect(canvas, (inset, inset, W - 1 - inset, H - 1 - inset), radius, scheme["border"], border)
    if is_mr and not plain and rng.random() < 0.3:
        _small_text(canvas, "MR", (content_x0, int(H * 0.05), int(W * 0.06), int(H * 0.18)), scheme["ink"], rng)
    if not plain and rng.random() < 0.5:
        r = max(1, int(H * rng.uniform(0.025, 0.045)))
        if spec.kind == "foreign_us" or len(rows) > 1:
            pos = [(W * 0.17, H * 0.12), (W * 0.83, H * 0.12)]
            if rng.random() < 0.5:
                pos += [(W * 0.17, H * 0.88), (W * 0.83, H * 0.88)]
        else:
            pos = [(W * 0.04, H * 0.5), (W * 0.96, H * 0.5)] if rng.random() < 0.5 else [(W * 0.3, H * 0.1), (W * 0.7, H * 0.1)]
        _screws(canvas, pos, r, rng)
    if not plain and rng.random() < 0.5:
        _wear(canvas, rng, float(rng.uniform(0.05, 0.4)))
    if not plain:  # retro-reflective sheeting: a faint texture
        canvas += rng.normal(0, 0.012, (H, W, 1)).astype(np.float32)

    image = (np.clip(canvas, 0, 1) * 255).astype(np.uint8)
    text, rows = drawn_label(spec, face)
    return RenderedPlate(image=image, text=text, kind=spec.kind, rows=rows,
                         alpha=_rounded_alpha(H, W, radius), face=face.name)


def drawn_label(spec: PlateSpec, face: Face) -> tuple[str, tuple[str, ...]]:
    """The text and rows of `spec` as `face` draws them: on a foreign plate a letter the face draws exactly
    like a digit (O like 0) is labelled as the digit, since no reader can tell which was meant. Mauritanian
    layouts fix which positions hold letters, so their labels keep the letter."""
    twins = {} if spec.kind.startswith("mr_") else fonts.digit_twins(face.name)
    if not twins:
        return spec.text, spec.rows
    table = str.maketrans(twins)
    return spec.text.translate(table), tuple(row.translate(table) for row in spec.rows)


def _rounded_rect(canvas, box, radius: int, colour, thickness: int) -> None:
    x0, y0, x1, y1 = box
    col = tuple(float(c) for c in colour)
    r = max(0, min(radius, (x1 - x0) // 2, (y1 - y0) // 2))
    cv2.line(canvas, (x0 + r, y0), (x1 - r, y0), col, thickness, cv2.LINE_AA)
    cv2.line(canvas, (x0 + r, y1), (x1 - r, y1), col, thickness, cv2.LINE_AA)
    cv2.line(canvas, (x0, y0 + r), (x0, y1 - r), col, thickness, cv2.LINE_AA)
    cv2.line(canvas, (x1, y0 + r), (x1, y1 - r), col, thickness, cv2.LINE_AA)
    if r > 0:
        for (cx, cy), ang in (((x0 + r, y0 + r), 180), ((x1 - r, y0 + r), 270), ((x1 - r, y1 - r), 0), ((x0 + r, y1 - r), 90)):
            cv2.ellipse(canvas, (cx, cy), (r, r), ang, 0, 90, col, thickness, cv2.LINE_AA)


def car_paint(rng: np.random.Generator) -> np.ndarray:
    return _colour(rng, _CAR_PAINT[int(rng.integers(len(_CAR_PAINT)))], 0.04)
