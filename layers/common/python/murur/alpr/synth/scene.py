"""Camera-like scenes with plates on cars, and cheap plate crops for training the recogniser."""

from __future__ import annotations

import colorsys
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from murur.alpr.synth import fonts
from murur.alpr.synth.legibility import plate_legibility
from murur.alpr.synth.plates import PlateSpec, RenderedPlate, car_paint, random_plate, random_foreign_text, render_plate

_PLAIN_WORDS = (
    "STOP", "PARKING", "OPEN", "SALE", "PHARMACIE", "BOUTIQUE", "HOTEL", "CAFE", "TAXI", "BUS", "AUTO",
    "GARAGE", "SERVICE", "MARCHE", "BANQUE", "ECOLE", "POLICE", "EXIT", "ONE WAY", "SPEED", "LIMIT",
    "HEATING", "COOLING", "PIZZA", "MOTORS", "TRANSPORT", "LIVRAISON", "www", "com", "TEL", "KM",
)


@dataclass
class PlateAnnotation:
    """Where a plate is in a scene: corners clockwise from top-left (float x, y) and the enclosing box."""

    text: str
    corners: np.ndarray  # float32 (4, 2)
    box: tuple[int, int, int, int]  # x1, y1, x2, y2 (pixels, x2/y2 exclusive)
    kind: str
    rows: tuple[str, ...] = ()  # the printed rows (two for two-row plates)
    legibility: float | None = None  # what the camera left of the characters (murur.alpr.synth.legibility)


@dataclass
class Scene:
    image: np.ndarray  # uint8 H x W x 3, RGB
    annotations: list[PlateAnnotation] = field(default_factory=list)

    def to_jpeg(self, quality: int = 90) -> bytes:
        ok, data = cv2.imencode(".jpg", cv2.cvtColor(self.image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
        if not ok:
            raise ValueError("JPEG encoding failed")
        return data.tobytes()


# ----------------------------------------------------------------------------- backgrounds


def _muted(rng, sat_max: float = 0.35, v_lo: float = 0.15, v_hi: float = 0.85) -> np.ndarray:
    """A natural, mostly desaturated colour (RGB floats)."""
    hue, sat, val = float(rng.uniform(0, 1)), float(rng.uniform(0, sat_max)), float(rng.uniform(v_lo, v_hi))
    return np.array(colorsys.hsv_to_rgb(hue, sat, val), np.float32)


def _lowres_noise(rng, h: int, w: int, cells: int, channels: int = 3) -> np.ndarray:
    small = rng.random((max(2, h // cells), max(2, w // cells), channels)).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC).reshape(h, w, channels)


def _background(rng, w: int, h: int) -> np.ndarray:
    """A street-like frame: sky or buildings above a horizon, road below, poles, trees, markings."""
    horizon = int(h * rng.uniform(-0.1, 0.6))
    img = np.empty((h, w, 3), np.float32)
    upper = _muted(rng, 0.4, 0.3, 0.95)
    road = _muted(rng, 0.08, 0.25, 0.65)
    if horizon > 0:
        img[:horizon] = upper
    img[max(horizon, 0):] = road
    # Luminance texture: broad uneven lighting plus fine grain (asphalt, concrete, foliage).
    shading = _lowres_noise(rng, h, w, max(8, int(h * rng.uniform(0.15, 0.5))), 1).reshape(h, w)
    grain = cv2.resize(_noise(rng, max(2, h // 2), max(2, w // 2), 1), (w, h), interpolation=cv2.INTER_LINEAR)
    luminance = cv2.addWeighted(shading, float(rng.uniform(0.08, 0.3)), grain.reshape(h, w), float(rng.uniform(0.01, 0.07)), 0.0)
    luminance -= float(luminance.mean())
    img += cv2.cvtColor(luminance, cv2.COLOR_GRAY2RGB)
    if horizon > 0:
        for _ in range(int(rng.integers(1, 7))):  # buildings, walls, trees along the horizon
            x0 = int(rng.integers(-w // 4, w))
            bw, bh = int(rng.uniform(0.08, 0.5) * w), int(rng.uniform(0.2, 1.0) * horizon)
            colour = tuple(float(c) for c in _muted(rng, 0.5, 0.1, 0.9))
            if rng.random() < 0.3:
                cv2.ellipse(img, (x0 + bw // 2, horizon - bh // 2), (max(1, bw // 2), max(1, bh // 2)), 0, 0, 360,
                            tuple(float(c) for c in _muted(rng, 0.6, 0.1, 0.45) * [0.7, 1.0, 0.6]), -1)
                continue
            cv2.rectangle(img, (x0, horizon - bh), (x0 + bw, horizon), colour, -1)
            if bw > 20 and bh > 20 and rng.random() < 0.6:  # windows
                win = tuple(float(c) for c in _muted(rng, 0.2, 0.05, 0.5))
                step = max(6, int(bw / rng.uniform(3, 8)))
                for wx in range(x0 + step // 3, x0 + bw - step // 2, step):
                    for wy in range(horizon - bh + step // 3, horizon - step // 2, step):
                        cv2.rectangle(img, (wx, wy), (wx + step // 2, wy + step // 2), win, -1)
        kerb = tuple(float(c) for c in _muted(rng, 0.1, 0.4, 0.9))
        cv2.rectangle(img, (0, horizon), (w, horizon + max(1, int(h * rng.uniform(0.005, 0.03)))), kerb, -1)
    # Lane markings in perspective.
    vanish_x = rng.uniform(-0.5, 1.5) * w
    for _ in range(int(rng.integers(0, 4))):
        bottom_x = rng.uniform(-0.5, 1.5) * w
        colour = (0.9, 0.9, 0.88) if rng.random() < 0.7 else (0.85, 0.7, 0.15)
        p0 = np.array([vanish_x, max(horizon, 0)], np.float32)
        p1 = np.array([bottom_x, h], np.float32)
        width = max(1, int(w * rng.uniform(0.003, 0.015)))
        dashes = int(rng.integers(1, 8))
        for i in range(dashes):
            a, b = i / dashes, (i + rng.uniform(0.4, 1.0)) / dashes
            pa, pb = p0 + (p1 - p0) * a, p0 + (p1 - p0) * b
            cv2.line(img, (int(pa[0]), int(pa[1])), (int(pb[0]), int(pb[1])), colour, width, cv2.LINE_AA)
    for _ in range(int(rng.integers(1, 6))):
        _clutter(img, rng)
    for _ in range(int(rng.integers(0, 4))):  # poles, posts, shapes
        colour = tuple(float(c) for c in _muted(rng, 0.4, 0.05, 0.9))
        if rng.random() < 0.6:
            x = int(rng.integers(0, w))
            cv2.rectangle(img, (x, int(rng.integers(0, h // 2))), (x + max(1, int(w * rng.uniform(0.003, 0.02))), h), colour, -1)
        else:
            cv2.ellipse(img, (int(rng.integers(0, w)), int(rng.integers(0, h))),
                        (int(rng.integers(3, max(4, w // 6))), int(rng.integers(3, max(4, h // 6)))),
                        float(rng.uniform(0, 180)), 0, 360, colour, -1, cv2.LINE_AA)
    return img


def _clutter(img: np.ndarray, rng) -> None:
    """High-frequency structure real frames are full of: foliage, fences, railings, brickwork, cracks."""
    h, w = img.shape[:2]
    x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
    rw, rh = int(w * rng.uniform(0.1, 0.6)), int(h * rng.uniform(0.1, 0.5))
    x1, y1 = min(w, x0 + rw), min(h, y0 + rh)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return
    kind = rng.choice(["foliage", "fence", "bricks", "cracks"])
    base = _muted(rng, 0.5, 0.1, 0.7)
    if kind == "foliage":
        n = int(np.clip((x1 - x0) * (y1 - y0) / max(4.0, (w * 0.01) ** 2) * 0.3, 10, 150))
        xs, ys = rng.integers(x0, x1, n), rng.integers(y0, y1, n)
        radii = np.maximum(1, (rng.uniform(0.003, 0.012, n) * w).astype(int))
        shades = rng.uniform(0.5, 1.4, n)
        for x, y, r, k in zip(xs, ys, radii, shades):
            colour = tuple(float(c) for c in np.clip(base * np.float32([0.7, 1.0, 0.6]) * k, 0, 1))
            cv2.circle(img, (int(x), int(y)), int(r), colour, -1)
    elif kind == "fence":
        step = max(3, int(w * rng.uniform(0.006, 0.03)))
        thick = max(1, int(step * rng.uniform(0.15, 0.5)))
        colour = tuple(float(c) for c in _muted(rng, 0.2, 0.05, 0.9))
        for x in range(x0, x1, step):
            cv2.line(img, (x, y0), (x, y1), colour, thick)
        for y in (y0, y1 - thick):
            cv2.line(img, (x0, y), (x1, y), colour, thick)
    elif kind == "bricks":
        bh = max(2, int(h * rng.uniform(0.01, 0.03)))
        bw = bh * int(rng.integers(2, 4))
        mortar = tuple(float(c) for c in _muted(rng, 0.1, 0.5, 0.85))
        cv2.rectangle(img, (x0, y0), (x1, y1), tuple(float(c) for c in base), -1)
        for row, y in enumerate(range(y0, y1, bh)):
            cv2.line(img, (x0, y), (x1, y), mortar, 1)
            for x in range(x0 + (bw // 2 if row % 2 else 0), x1, bw):
                cv2.line(img, (x, y), (x, min(y1, y + bh)), mortar, 1)
    else:
        colour = tuple(float(c) for c in np.clip(base * 0.5, 0, 1))
        for _ in range(int(rng.integers(2, 8))):
            pts = np.cumsum(rng.normal(0, w * 0.02, (int(rng.integers(3, 10)), 2)), axis=0) + [x0, y0]
            cv2.polylines(img, [pts.astype(np.int32)], False, colour, 1, cv2.LINE_AA)


def _random_string(rng) -> str:
    r = rng.random()
    if r < 0.3:
        return random_foreign_text(rng, 4, 8)  # plate-like strings that are NOT plates
    if r < 0.5:
        return f"{rng.integers(100, 999)}-{rng.integers(100, 999)}-{rng.integers(1000, 9999)}"
    if r < 0.58:
        return f"20{rng.integers(10, 30)}-{rng.integers(1, 12):02d}-{rng.integers(1, 28):02d} {rng.integers(0, 23):02d}:{rng.integers(0, 59):02d}"
    words = [_PLAIN_WORDS[int(i)] for i in rng.integers(0, len(_PLAIN_WORDS), int(rng.integers(1, 4)))]
    text = " ".join(words)
    return text.lower() if rng.random() < 0.2 else text


def _text_mask(text: str, height: int, rng) -> np.ndarray:
    face = fonts.pick_face(rng)
    mask = fonts.line_mask(face, text, max(int(height), 2))
    squeeze = rng.uniform(0.75, 1.2)
    return cv2.resize(mask, (max(1, int(mask.shape[1] * squeeze)), mask.shape[0]), interpolation=cv2.INTER_AREA)


def _draw_text(img: np.ndarray, text: str, x: int, y: int, height: int, colour, rng) -> tuple[int, int]:
    """Text in a random face with its top-left at (x, y); returns its (width, height)."""
    mask = _text_mask(text, height, rng)
    _paint(img, mask, colour, x, y)
    return mask.shape[1], mask.shape[0]


def _paint(img: np.ndarray, mask: np.ndarray, colour, x: int, y: int) -> None:
    h, w = mask.shape
    H, W = img.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, W), min(y + h, H)
    if x1 <= x0 or y1 <= y0:
        return
    m = mask[y0 - y : y1 - y, x0 - x : x1 - x, None]
    region = img[y0:y1, x0:x1]
    region *= 1 - m
    region += m * np.asarray(colour, np.float32)


def _contrasting(rng, background) -> tuple[float, float, float]:
    bg = np.asarray(background, np.float32)
    base = np.float32([0.05, 0.05, 0.05]) if bg.mean() > 0.5 else np.float32([0.95, 0.95, 0.92])
    if rng.random() < 0.4:
        base = np.clip(base + rng.uniform(-0.4, 0.4, 3), 0, 1)
    return tuple(float(c) for c in base)


def _overlaps(box: tuple[int, int, int, int], boxes: list[tuple[int, int, int, int]]) -> bool:
    x1, y1, x2, y2 = box
    return any(x1 < bx2 and x2 > bx1 and y1 < by2 and y2 > by1 for bx1, by1, bx2, by2 in boxes)


def _distractors(img: np.ndarray, rng, count: int, avoid: list[tuple[int, int, int, int]]) -> None:
    """Signs, stickers, shop-front lettering and overlays: text that is not a plate."""
    H, W = img.shape[:2]
    for _ in range(count):
        text = _random_string(rng)
        height = int(np.exp(rng.uniform(np.log(max(5, H * 0.012)), np.log(max(8, H * 0.07)))))
        mask = _text_mask(text, height, rng)
        mh, mw = mask.shape
        x, y = int(rng.integers(-W // 10, W)), int(rng.integers(0, max(1, H - mh)))
        pad = max(1, mh // 3)
        if _overlaps((x - pad, y - pad, x + mw + pad, y + mh + pad), avoid):
            continue
        if rng.random() < 0.5:  # on a sign board, wide or tall enough not to look like a plate
            board = _muted(rng, 0.8, 0.1, 0.95)
            extra_w = int(mw * rng.uniform(0.1, 0.8))
            extra_h = int(mh * rng.choice([0.3, 2.0, 3.0]))
            colour = _contrasting(rng, board)
            left, top = x - pad - extra_w // 2, y - pad
            right, bottom = x + mw + pad + extra_w // 2, y + mh + pad + extra_h
            if _overlaps((left, top, right, bottom), avoid):
                continue  # the board is larger than its lettering: it must not hide a plate either
            cv2.rectangle(img, (left, top), (right, bottom), tuple(float(c) for c in board), -1)
        else:
            colour = _contrasting(rng, img[min(max(y, 0), H - 1), min(max(x, 0), W - 1)])
        _paint(img, mask, colour, x, y)
    for _ in range(int(rng.integers(0, 3))):  # blank plate-shaped things: reflectors, blank signs, stickers
        bw = int(np.exp(rng.uniform(np.log(max(6, W * 0.02)), np.log(max(8, W * 0.2)))))
        bh = max(3, int(bw / rng.uniform(1.5, 5.0)))
        x, y = int(rng.integers(0, max(1, W - bw))), int(rng.integers(0, max(1, H - bh)))
        if _overlaps((x, y, x + bw, y + bh), avoid):
            continue
        cv2.rectangle(img, (x, y), (x + bw, y + bh), tuple(float(c) for c in _muted(rng, 0.6, 0.3, 1.0)), -1)
        if rng.random() < 0.5:
            cv2.rectangle(img, (x, y), (x + bw, y + bh), tuple(float(c) for c in _muted(rng, 0.5, 0.0, 0.5)),
                          max(1, bh // 10))
    if rng.random() < 0.3:  # camera timestamp overlay
        stamp = f"20{rng.integers(10, 30)}-{rng.integers(1, 13):02d}-{rng.integers(1, 29):02d} {rng.integers(0, 24):02d}:{rng.integers(0, 60):02d}:{rng.integers(0, 60):02d}"
        mask = _text_mask(stamp, max(6, int(H * 0.025)), rng)
        x, y = int(W * 0.005), int(H * 0.005)
        if not _overlaps((x, y, x + mask.shape[1], y + mask.shape[0]), avoid):
            _paint(img, mask, (1.0, 1.0, 1.0), x, y)


# ----------------------------------------------------------------------------- plate mounting


def _mount(plate: RenderedPlate, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The plate with an optional surround (frame / dealer frame / shadow), as float RGB + alpha.

    Returns (image, alpha, plate corners in the mount's pixel coordinates, clockwise from top-left).
    """
    ph, pw = plate.image.shape[:2]
    img = plate.image.astype(np.float32) / 255.0
    alpha = plate.alpha.astype(np.float32) / 255.0 if plate.alpha is not None else np.ones((ph, pw), np.float32)
    r = rng.random()
    if r < 0.45:
        corners = np.float32([[0, 0], [pw, 0], [pw, ph], [0, ph]])
        return img, alpha, corners
    # A frame: thin chrome/black border, or a dealer frame with text top and bottom.
    dealer = r > 0.75
    mx = max(1, int(pw * rng.uniform(0.02, 0.05)))
    my_top = max(1, int(ph * (rng.uniform(0.06, 0.14) if dealer else rng.uniform(0.03, 0.08))))
    my_bot = max(1, int(ph * (rng.uniform(0.12, 0.22) if dealer else rng.uniform(0.03, 0.08))))
    fh, fw = ph + my_top + my_bot, pw + 2 * mx
    frame_colour = np.float32(rng.choice([0.05, 0.1, 0.75, 0.9])) * np.ones(3, np.float32) + rng.normal(0, 0.02, 3).astype(np.float32)
    out = np.empty((fh, fw, 3), np.float32)
    out[:] = np.clip(frame_colour, 0, 1)
    if dealer:
        text_colour = (0.95, 0.95, 0.95) if frame_colour.mean() < 0.5 else (0.05, 0.05, 0.05)
        words = ("AUTO", "MOTORS", "DEALER", "TOYOTA", "FORD", "SUNTRUP", "HONDA", "NISSAN", "CHEVROLET", "KIA")
        if my_bot > 4:
            _draw_text(out, " ".join(words[int(i)] for i in rng.integers(0, len(words), int(rng.integers(1, 3)))),
                       int(fw * 0.2), ph + my_top + int(my_bot * 0.15), int(my_bot * 0.7), text_colour, rng)
        if my_top > 4 and rng.random() < 0.6:
            _draw_text(out, words[int(rng.integers(len(words)))], int(fw * 0.3), int(my_top * 0.1), int(my_top * 0.8), text_colour, rng)
    a = alpha[..., None]
    out[my_top : my_top + ph, mx : mx + pw] = out[my_top : my_top + ph, mx : mx + pw] * (1 - a) + img * a
    if rng.random() < 0.5:  # the frame's lip covers the plate's edges (and often its small print)
        colour = tuple(float(c) for c in np.clip(frame_colour, 0, 1))
        lip_top, lip_bottom = int(ph * rng.uniform(0.0, 0.08)), int(ph * rng.uniform(0.0, 0.14))
        lip_side = int(pw * rng.uniform(0.0, 0.03))
        if lip_top:
            out[my_top : my_top + lip_top] = colour
        if lip_bottom:
            out[my_top + ph - lip_bottom : my_top + ph] = colour
        if lip_side:
            out[:, mx : mx + lip_side] = colour
            out[:, mx + pw - lip_side : mx + pw] = colour
    corners = np.float32([[mx, my_top], [mx + pw, my_top], [mx + pw, my_top + ph], [mx, my_top + ph]])
    return out, np.ones((fh, fw), np.float32), corners


def _perspective_quad(rng, cx: float, cy: float, w: float, h: float, strength: float = 1.0) -> np.ndarray:
    """A camera's view of a w x h rectangle centred at (cx, cy): roll, yaw and pitch foreshortening."""
    yaw = float(np.clip(rng.normal(0, 0.1), -0.3, 0.3)) * strength
    # Cameras look down on plates: the top edge is seen a little wider than the bottom one.
    pitch = float(np.clip(rng.normal(-0.02, 0.045), -0.15, 0.1)) * strength
    roll = np.deg2rad(float(np.clip(rng.normal(0, 4), -12, 12)) * strength)
    hw, hh = w / 2, h / 2
    left_scale, right_scale = 1 - yaw, 1 + yaw
    top_scale, bottom_scale = 1 - pitch, 1 + pitch
    pts = np.float32([
        [-hw * top_scale, -hh * left_scale],
        [hw * top_scale, -hh * right_scale],
        [hw * bottom_scale, hh * right_scale],
        [-hw * bottom_scale, hh * left_scale],
    ])
    pts *= np.float32([[np.cos(abs(yaw) * 1.2), 1.0]])
    rot = np.float32([[np.cos(roll), -np.sin(roll)], [np.sin(roll), np.cos(roll)]])
    pts = pts @ rot.T
    pts += rng.normal(0, 0.015 * strength, (4, 2)).astype(np.float32) * np.float32([w, h])
    return pts + np.float32([cx, cy])


def _warp_onto(canvas: np.ndarray, src: np.ndarray, src_alpha: np.ndarray, homography: np.ndarray) -> None:
    """Paste `src` through `homography` into `canvas`, touching only the destination's bounding box."""
    H, W = canvas.shape[:2]
    sh, sw = src.shape[:2]
    outline = cv2.perspectiveTransform(np.float32([[[0, 0], [sw, 0], [sw, sh], [0, sh]]]), homography)[0]
    x0, y0 = np.floor(outline.min(0)).astype(int) - 1
    x1, y1 = np.ceil(outline.max(0)).astype(int) + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, W), min(y1, H)
    if x1 <= x0 or y1 <= y0:
        return
    shift = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], np.float64)
    m = shift @ homography
    rgba = np.dstack([src, src_alpha])
    warped = cv2.warpPerspective(rgba, m, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    a = warped[..., 3:4]
    region = canvas[y0:y1, x0:x1]
    region *= 1 - a
    region += warped[..., :3] * a


def _car_rear(
    canvas: np.ndarray, quad: np.ndarray, plate_w_mm: float, rng, keep_clear: list[tuple[int, int, int, int]],
    deep_recess_share: float = 0.0,
) -> tuple[int, int, int, int] | None:
    """A vehicle's rear (or front) around the plate, at the plate's scale: body, window, lights,
    bumper, wheels and its shadow on the road. Returns the vehicle's box, or None (and draws nothing)
    when it would cover one of the `keep_clear` boxes (plates already in the picture). That share of
    the vehicles also get a deep plate pocket (`_deep_recess`); 0 draws no random number for it."""
    H, W = canvas.shape[:2]
    (x_min, y_min), (x_max, y_max) = quad.min(0), quad.max(0)
    pw, ph = x_max - x_min, y_max - y_min
    px_per_mm = pw / plate_w_mm
    truck = rng.random() < 0.15
    body_w = px_per_mm * rng.uniform(1650, 1950) * (1.25 if truck else 1.0)
    cx = (x_min + x_max) / 2 + rng.normal(0, body_w * 0.06)
    above = px_per_mm * rng.uniform(700, 1100) * (1.8 if truck else 1.0)
    below = px_per_mm * rng.uniform(350, 600)
    x0, x1 = int(cx - body_w / 2), int(cx + body_w / 2)
    y0, y1 = int(y_min - above), int(y_max + below)
    paint = car_paint(rng)
    if _overlaps((int(cx - body_w * 0.55), y0, int(cx + body_w * 0.55), int(y1 + below * 0.5)), keep_clear):  # with its shadow
        return None
    # Shadow on the road, then wheels, then the body.
    shadow = (0.08, 0.08, 0.08)
    cv2.ellipse(canvas, (int(cx), y1), (int(body_w * 0.55), max(1, int(below * 0.35))), 0, 0, 360, shadow, -1)
    wheel_w, wheel_h = int(body_w * 0.13), int(below * 0.5)
    for wx in (x0 + int(body_w * 0.05), x1 - int(body_w * 0.05) - wheel_w):
        cv2.rectangle(canvas, (wx, y1 - wheel_h // 2), (wx + wheel_w, y1 + wheel_h // 2), (0.05, 0.05, 0.05), -1)
    radius = max(1, int(body_w * rng.uniform(0.03, 0.12)))
    colour = tuple(float(c) for c in paint)
    cv2.rectangle(canvas, (x0, y0 + radius), (x1, y1), colour, -1)
    cv2.rectangle(canvas, (x0 + radius, y0), (x1 - radius, y1), colour, -1)
    for cxr in (x0 + radius, x1 - radius):
        cv2.circle(canvas, (cxr, y0 + radius), radius, colour, -1, cv2.LINE_AA)
    bx0, by0, bx1, by1 = max(x0, 0), max(y0, 0), min(x1, W), min(y1, H)
    if bx1 > bx0 and by1 > by0:  # light falls off down the body
        t = np.linspace(rng.uniform(0.95, 1.15), rng.uniform(0.6, 0.95), by1 - by0, dtype=np.float32)[:, None, None]
        canvas[by0:by1, bx0:bx1] *= t
    if not truck and rng.random() < 0.85:  # rear window
        wy1 = int(y_min - px_per_mm * rng.uniform(300, 550))
        wy0 = int(y0 + (wy1 - y0) * rng.uniform(0.05, 0.3))
        if wy1 > wy0 + 2:
            inset_top, inset_bottom = body_w * rng.uniform(0.15, 0.25), body_w * rng.uniform(0.08, 0.14)
            pts = np.int32([[x0 + inset_top, wy0], [x1 - inset_top, wy0], [x1 - inset_bottom, wy1], [x0 + inset_bottom, wy1]])
            glass = _muted(rng, 0.2, 0.03, 0.3)
            cv2.fillConvexPoly(canvas, pts, tuple(float(c) for c in glass), cv2.LINE_AA)
    # Panel seams, a reflection of the sky, a badge and the recess the plate sits in.
    seam = tuple(float(c) for c in np.clip(paint * 0.55, 0, 1))
    for _ in range(int(rng.integers(0, 3))):
        sy = int(y_min - ph * rng.uniform(0.3, 2.5))
        cv2.line(canvas, (x0 + radius, sy), (x1 - radius, sy), seam, max(1, int(ph * 0.04)), cv2.LINE_AA)
    if rng.random() < 0.5:
        rx = cx + rng.uniform(-0.4, 0.4) * body_w
        top_y, bottom_y = y0 + radius, int(y_min - ph * 0.3)
        if bottom_y > top_y:
            slant = body_w * rng.uniform(-0.15, 0.15)
            band = body_w * rng.uniform(0.04, 0.15)
            pts = np.int32([[rx, top_y], [rx + band, top_y], [rx + band + slant, bottom_y], [rx + slant, bottom_y]])
            cv2.fillConvexPoly(canvas, pts, tuple(float(c) for c in np.clip(paint + rng.uniform(0.08, 0.25), 0, 1)), cv2.LINE_AA)
    if rng.random() < 0.6:
        cv2.ellipse(canvas, (int((x_min + x_max) / 2 + rng.normal(0, pw * 0.1)), int(y_min - ph * rng.uniform(0.6, 1.4))),
                    (max(1, int(pw * rng.uniform(0.08, 0.2))), max(1, int(ph * rng.uniform(0.12, 0.25)))), 0, 0, 360,
                    tuple(float(c) for c in _muted(rng, 0.1, 0.5, 0.95)), -1, cv2.LINE_AA)
    if rng.random() < 0.6:
        ex, ey = pw * rng.uniform(0.05, 0.2), ph * rng.uniform(0.1, 0.35)
        recess = tuple(float(c) for c in np.clip(paint * rng.uniform(0.4, 0.85), 0, 1))
        cv2.rectangle(canvas, (int(x_min - ex), int(y_min - ey)), (int(x_max + ex), int(y_max + ey)), recess, -1)
    # Bumper below the plate.
    bumper_y = int(y_max + ph * rng.uniform(0.1, 0.6))
    bumper = np.clip(paint * rng.uniform(0.2, 1.0), 0, 1) if rng.random() < 0.6 else _muted(rng, 0.05, 0.05, 0.25)
    cv2.rectangle(canvas, (x0, bumper_y), (x1, y1 - int(below * 0.25)), tuple(float(c) for c in bumper), -1)
    front = rng.random() < 0.35
    if front:  # seen from the front: a grille above the plate, headlights
        gx0, gx1 = int(cx - body_w * rng.uniform(0.2, 0.35)), int(cx + body_w * rng.uniform(0.2, 0.35))
        gy1 = int(y_min - ph * rng.uniform(0.1, 0.4))
        gy0 = int(gy1 - px_per_mm * rng.uniform(120, 300))
        grille = tuple(float(c) for c in _muted(rng, 0.05, 0.02, 0.25))
        cv2.rectangle(canvas, (gx0, gy0), (gx1, gy1), grille, -1)
        slat = tuple(float(c) for c in _muted(rng, 0.05, 0.3, 0.8))
        step = max(2, int(px_per_mm * rng.uniform(25, 60)))
        for gy in range(gy0 + step, gy1, step):
            cv2.line(canvas, (gx0, gy), (gx1, gy), slat, max(1, step // 4))
    # Lights either side.
    if rng.random() < 0.9:
        if front:
            light = tuple(float(c) for c in _muted(rng, 0.15, 0.75, 1.0))
        elif rng.random() < 0.75:
            light = (rng.uniform(0.6, 0.95), rng.uniform(0.0, 0.15), rng.uniform(0.0, 0.1))
        else:
            light = (0.92, 0.9, 0.85)
        lh, lw = int(px_per_mm * rng.uniform(100, 300)), int(px_per_mm * rng.uniform(120, 350))
        ly = int(y_min - px_per_mm * rng.uniform(50, 400))
        for lx in (x0 + int(body_w * 0.02), x1 - int(body_w * 0.02) - lw):
            cv2.rectangle(canvas, (lx, ly), (lx + lw, ly + lh), light, -1)
    # Lettering on the body (badge, model name, a company van's paint job): not a plate.
    if rng.random() < 0.45:
        text_h = max(3, int(ph * rng.uniform(0.15, 0.6)))
        colour = _contrasting(rng, paint)
        _draw_text(canvas, _random_string(rng), int(cx + rng.uniform(-0.45, 0.1) * body_w),
                   int(y_min - ph * rng.uniform(1.0, 3.0)), text_h, colour, rng)
    if deep_recess_share and rng.random() < deep_recess_share:
        _deep_recess(canvas, quad, paint, rng)
    return x0, y0, x1, y1


def _deep_recess(canvas: np.ndarray, quad: np.ndarray, paint: np.ndarray, rng) -> None:
    """The pocket a plate sits in on many tailgates and bumpers: up to twice the plate's width and three
    times its height, in shadow, lit or chromed, with a bevelled rim, often lamps along its top and a
    chrome strip. On real photos the detector boxed such pockets instead of the plate inside them."""
    (x_min, y_min), (x_max, y_max) = quad.min(0), quad.max(0)
    pw, ph = x_max - x_min, y_max - y_min
    x0, x1 = int(x_min - pw * rng.uniform(0.12, 0.55)), int(x_max + pw * rng.uniform(0.12, 0.55))
    y0, y1 = int(y_min - ph * rng.uniform(0.25, 1.0)), int(y_max + ph * rng.uniform(0.15, 0.8))
    tone = rng.random()
    if tone < 0.45:  # in the shadow of the body
        fill = paint * rng.uniform(0.15, 0.5)
    elif tone < 0.75:  # lit, the paint itself or a little brighter
        fill = paint * rng.uniform(0.9, 1.3)
    else:  # chrome or plastic trim
        fill = np.full(3, rng.uniform(0.08, 0.95)) + rng.normal(0, 0.02, 3)
    fill = tuple(float(c) for c in np.clip(fill, 0, 1))
    cv2.rectangle(canvas, (x0, y0), (x1, y1), fill, -1)
    rim = max(1, int(ph * rng.uniform(0.04, 0.18)))
    dark = tuple(float(c) for c in np.clip(np.asarray(fill) * rng.uniform(0.2, 0.6), 0, 1))
    light = tuple(float(c) for c in np.clip(np.asarray(fill) * rng.uniform(1.2, 1.8) + 0.1, 0, 1))
    upper, lower = (dark, light) if rng.random() < 0.7 else (light, dark)  # lit from above, mostly
    cv2.line(canvas, (x0, y0), (x1, y0), upper, rim)
    cv2.line(canvas, (x0, y0), (x0, y1), upper, rim)
    cv2.line(canvas, (x0, y1), (x1, y1), lower, rim)
    cv2.line(canvas, (x1, y0), (x1, y1), lower, rim)
    if rng.random() < 0.5:  # plate lamps in the pocket's top, either side of the plate
        lamp_w, lamp_h = max(1, int(pw * rng.uniform(0.08, 0.2))), max(1, int(ph * rng.uniform(0.08, 0.2)))
        lamp = tuple(float(c) for c in _muted(rng, 0.05, 0.7, 1.0))
        lamp_y = int(y0 + (y_min - y0) * rng.uniform(0.2, 0.6))
        for lx in (int(x_min + pw * rng.uniform(0.0, 0.2)), int(x_max - pw * rng.uniform(0.0, 0.2)) - lamp_w):
            cv2.rectangle(canvas, (lx, lamp_y), (lx + lamp_w, lamp_y + lamp_h), lamp, -1)
    if rng.random() < 0.3:  # a chrome strip across the pocket, above or below the plate
        strip_h = max(1, int(ph * rng.uniform(0.08, 0.3)))
        sy = int(y_min - strip_h - ph * rng.uniform(0.02, 0.2)) if rng.random() < 0.6 else int(y_max + ph * rng.uniform(0.02, 0.2))
        chrome = float(rng.uniform(0.7, 1.0))
        cv2.rectangle(canvas, (x0, sy), (x1, sy + strip_h), (chrome, chrome, chrome), -1)


# ----------------------------------------------------------------------------- degradations


def _lighting(img: np.ndarray, rng, plate_quads: list[np.ndarray]) -> np.ndarray:
    """Day, dusk/night or infrared-like looks; shadows and glare. Works in place on float 0..1."""
    H, W = img.shape[:2]
    mode = rng.choice(["day", "night", "ir"], p=[0.76, 0.12, 0.12])
    if rng.random() < 0.3:  # a hard shadow across part of the frame
        pts = rng.uniform(0, 1, (int(rng.integers(3, 7)), 2)) * np.float32([W, H])
        mask = np.zeros((H, W), np.float32)
        cv2.fillPoly(mask, [pts.astype(np.int32)], 1.0)
        mask = cv2.GaussianBlur(mask, (0, 0), max(1.0, W * 0.005))
        img *= 1 - mask[..., None] * rng.uniform(0.3, 0.6)
    if mode == "day":
        img *= rng.uniform(0.7, 1.25)
        img += rng.normal(0, 0.04, 3).astype(np.float32)  # white balance
    elif mode == "night":
        img *= rng.uniform(0.15, 0.45)
        for quad in plate_quads:  # retro-reflective plates under headlights / IR flash stay bright
            _expose_plate(img, quad, rng.uniform(0.45, 1.0))
    else:
        grey = img.mean(axis=2, keepdims=True)
        img[:] = grey * rng.uniform(0.5, 1.0)
        for quad in plate_quads:
            _expose_plate(img, quad, rng.uniform(0.45, 1.0))
    if rng.random() < 0.25:  # haze, a dirty lens, a flat exposure: lower contrast
        c = rng.uniform(0.5, 0.9)
        img *= c
        img += (1 - c) * rng.uniform(0.3, 0.8)
    if rng.random() < 0.2:  # glare / sun flare (not so strong that it erases a plate)
        cx, cy = rng.uniform(0, W), rng.uniform(0, H)
        radius = rng.uniform(0.05, 0.4) * W
        yy, xx = np.ogrid[:H, :W]
        glow = np.exp(-(((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * radius**2))).astype(np.float32)
        img += glow[..., None] * rng.uniform(0.15, 0.5)
    return img  # clipped once, when converted to bytes


def _gamma(img: np.ndarray, rng) -> np.ndarray:
    """Camera tone curve on the final uint8 image (a lookup table is far cheaper than a float power)."""
    gamma = rng.uniform(0.75, 1.3)
    lut = (np.power(np.arange(256) / 255.0, gamma) * 255 + 0.5).astype(np.uint8)
    return cv2.LUT(img, lut)


_NOISE_BANK: np.ndarray | None = None


def _noise(rng, h: int, w: int, channels: int) -> np.ndarray:
    """Unit Gaussian noise of shape (h, w, channels): a random window of a fixed bank when it fits
    (drawing fresh normals costs more than the rest of a small scene), fresh otherwise."""
    global _NOISE_BANK
    if _NOISE_BANK is None:
        _NOISE_BANK = np.random.default_rng(20260101).standard_normal((640, 640, 3), dtype=np.float32)
    bank_h, bank_w = _NOISE_BANK.shape[:2]
    if h > bank_h or w > bank_w:
        return rng.standard_normal((h, w, channels), dtype=np.float32)
    y, x = int(rng.integers(0, bank_h - h + 1)), int(rng.integers(0, bank_w - w + 1))
    c = int(rng.integers(0, 3 - channels + 1))
    window = _NOISE_BANK[y : y + h, x : x + w, c : c + channels]
    return window[::-1] if rng.random() < 0.5 else window


def _expose_plate(img: np.ndarray, quad: np.ndarray, level: float) -> None:
    """Scale the plate inside `quad` so its bright part (the sheeting, or a dark plate's lettering) reaches
    `level`: a reflective plate under headlights or an IR flash stays legible whatever its paint, since
    a dark-green sheet dimmed with the rest of a night scene would leave no readable contrast."""
    H, W = img.shape[:2]
    x0, y0 = np.maximum(np.floor(quad.min(0)).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(quad.max(0)).astype(int), [W, H])
    if x1 > x0 and y1 > y0:
        mask = np.zeros((y1 - y0, x1 - x0), np.float32)
        cv2.fillConvexPoly(mask, (quad - [x0, y0]).astype(np.int32), 1.0)
        region = img[y0:y1, x0:x1]
        inside = region.mean(axis=2)[mask > 0]
        if inside.size:
            factor = level / max(float(np.percentile(inside, 90)), 0.02)
            region *= 1 + mask[..., None] * (factor - 1)


def _degrade(
    img: np.ndarray, rng, scale_ref: float, min_scale: float = 0.35, blur_limit: float | None = None
) -> np.ndarray:
    """Optics and sensor: defocus, motion blur, resolution loss, noise. `scale_ref` ~ image width;
    `min_scale` bounds the resolution loss and `blur_limit` the blur (Gaussian sigma in pixels), so the
    smallest plate stays legible."""
    r = rng.random()
    limit = blur_limit if blur_limit is not None else 1e6
    if r < 0.3:
        sigma = min(rng.uniform(0.3, 1.5) * max(scale_ref / 512, 0.5), max(0.3, limit))
        img = cv2.GaussianBlur(img, (0, 0), sigma)
    elif r < 0.55:
        longest = min(max(3, int(6 * max(scale_ref / 512, 0.5))), max(3, int(2.5 * limit)))
        length = int(rng.integers(2, longest))
        kernel = np.zeros((length, length), np.float32)
        angle = rng.normal(0, 20) if rng.random() < 0.8 else rng.uniform(0, 180)
        c = (length - 1) / 2
        dx, dy = np.cos(np.deg2rad(angle)) * c, np.sin(np.deg2rad(angle)) * c
        cv2.line(kernel, (int(round(c - dx)), int(round(c - dy))), (int(round(c + dx)), int(round(c + dy))), 1.0, 1)
        kernel /= max(kernel.sum(), 1e-6)
        img = cv2.filter2D(img, -1, kernel)
    if rng.random() < 0.25 and min_scale < 0.8:
        h, w = img.shape[:2]
        f = rng.uniform(min_scale, 0.8)
        small = cv2.resize(img, (max(1, int(w * f)), max(1, int(h * f))), interpolation=cv2.INTER_AREA)
        img = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    sigma = rng.uniform(0.0, 0.03) if rng.random() < 0.85 else rng.uniform(0.03, 0.07)
    if sigma > 0.003:
        h, w = img.shape[:2]
        luma = np.ascontiguousarray(_noise(rng, h, w, 1)).reshape(h, w)
        img = cv2.scaleAdd(cv2.cvtColor(luma, cv2.COLOR_GRAY2RGB), float(sigma), np.ascontiguousarray(img, np.float32))
        if rng.random() < 0.3:  # some chroma noise
            img = cv2.scaleAdd(np.ascontiguousarray(_noise(rng, h, w, 3)), float(sigma * 0.3), img)
    return img


def _sharpen(img: np.ndarray, rng) -> np.ndarray:
    """Cameras sharpen (unsharp masking), which leaves bright and dark halos along edges."""
    soft = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(0.8, 1.6)))
    amount = float(rng.uniform(0.3, 1.2))
    return cv2.addWeighted(img, 1.0 + amount, soft, -amount, 0.0)


def _to_uint8(img: np.ndarray) -> np.ndarray:
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)


def _jpeg_roundtrip(img: np.ndarray, quality: int) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    return cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if ok else img


# ----------------------------------------------------------------------------- public API


def compose_scene(
    rng: np.random.Generator,
    plates: list[PlateSpec] | None = None,
    size: tuple[int, int] = (1920, 1080),
    *,
    max_plates: int = 3,
    clean: bool = False,
    deep_recess_share: float = 0.0,
) -> Scene:
    """A camera frame of `size` (width, height) showing `plates` on vehicles.

    With `plates=None` the scene holds 0..`max_plates` random plates (sometimes none). `clean=True`
    skips lighting, blur, noise and compression (for tests and illustrations). A plate that cannot be
    placed fully inside the frame without overlapping another is left out of the image and of the
    annotations. `deep_recess_share`: the share of vehicles whose plate sits in a deep pocket (0, the
    default, draws none and no random number for them, so a seed's scenes stay as they were).
    """
    W, H = int(size[0]), int(size[1])
    if plates is None:
        count = int(rng.choice(max_plates + 1, p=_count_weights(max_plates)))
        plates = [random_plate(rng) for _ in range(count)]
    img = _background(rng, W, H)
    placed: list[tuple[int, int, int, int]] = []
    quads: list[np.ndarray] = []
    annotations: list[PlateAnnotation] = []
    cars: list[tuple[int, int, int, int]] = []
    for spec in plates:
        result = _place_plate(img, spec, rng, placed, cars, deep_recess_share)
        if result is None:
            continue
        quad, box, plate = result
        placed.append(box)
        quads.append(quad)
        annotations.append(PlateAnnotation(text=plate.text, corners=quad, box=box, kind=spec.kind, rows=plate.rows))
    _distractors(img, rng, int(rng.integers(0, 7)), placed)
    if clean:
        out = _to_uint8(img)
        return Scene(image=out, annotations=_with_legibility(annotations, _before_camera(img, annotations), out))
    img = _lighting(img, rng, quads)
    if rng.random() < 0.6:  # road photos are much less saturated than paint
        img = _desaturate(img, float(rng.uniform(0.2, 0.6)))
    before_camera = _before_camera(img, annotations)
    # Blur and resolution loss stop where the smallest plate's characters would become illegible.
    smallest = min((float(a.corners[:, 1].max() - a.corners[:, 1].min()) for a in annotations), default=float(H))
    img = _degrade(img, rng, W, min_scale=min(1.0, max(0.35, 14.0 / max(smallest, 1.0))), blur_limit=smallest * 0.035)
    if rng.random() < 0.4:
        img = _sharpen(img, rng)
    out = _to_uint8(img)
    if rng.random() < 0.7:
        out = _gamma(out, rng)
    if rng.random() < 0.6:
        out = _jpeg_roundtrip(out, int(rng.integers(25, 95)))
    return Scene(image=out, annotations=_with_legibility(annotations, before_camera, out))


def _before_camera(img: np.ndarray, annotations: list[PlateAnnotation]) -> list[np.ndarray]:
    """Each plate's box as the optics show it, kept to measure what the camera does to it."""
    return [img[a.box[1]:a.box[3], a.box[0]:a.box[2]].copy() for a in annotations]


def _with_legibility(annotations: list[PlateAnnotation], before_camera: list[np.ndarray], out: np.ndarray) -> list[PlateAnnotation]:
    measured = []
    for annotation, reference in zip(annotations, before_camera):
        x1, y1, x2, y2 = annotation.box
        corners = annotation.corners - np.float32([x1, y1])
        legibility = plate_legibility(reference, out[y1:y2, x1:x2], corners, rows=max(1, len(annotation.rows)))
        measured.append(replace(annotation, legibility=legibility))
    return measured


def _count_weights(max_plates: int) -> np.ndarray:
    """12 % of frames without a plate; then one plate most often, fewer frames with more."""
    if max_plates <= 0:
        return np.ones(1)
    more = np.array([0.55**i for i in range(max_plates)], np.float64)
    return np.concatenate([[0.12], 0.88 * more / more.sum()])


def _place_plate(img, spec: PlateSpec, rng, placed, cars,
                 deep_recess_share: float = 0.0) -> tuple[np.ndarray, tuple[int, int, int, int], RenderedPlate] | None:
    H, W = img.shape[:2]
    w_mm, h_mm = spec.size_mm
    for _attempt in range(8):
        # Plate width as a share of the frame: mostly around 7 % (as in road photos), from 3 % to 40 %.
        share = float(np.exp(rng.normal(np.log(0.075), 0.55))) if rng.random() < 0.85 else float(rng.uniform(0.03, 0.4))
        width = float(np.clip(share, 0.031, 0.4)) * W
        width = max(width, 14.0)
        height = width * h_mm / w_mm
        if height > H * 0.5:
            width, height = width * H * 0.5 / height, H * 0.5
        margin = width * 0.15
        if W - 2 * margin <= 0 or H - 2 * margin <= height:
            return None
        cx = rng.uniform(margin + width / 2, W - margin - width / 2)
        cy = rng.uniform(margin + height / 2, H - margin - height / 2)
        quad = _perspective_quad(rng, cx, cy, width, height)
        x1, y1 = np.floor(quad.min(0)).astype(int)
        x2, y2 = np.ceil(quad.max(0)).astype(int)
        if x1 < 0 or y1 < 0 or x2 > W or y2 > H:
            continue
        box = (int(x1), int(y1), int(x2), int(y2))
        pad = int(width * 0.1)
        if _overlaps((x1 - pad, y1 - pad, x2 + pad, y2 + pad), placed):
            continue
        if _overlaps((x1, y1, x2, y2), cars):
            continue  # would sit on another vehicle's body
        if rng.random() < 0.92:
            car = _car_rear(img, quad, w_mm, rng, placed, deep_recess_share)
            if car is None and rng.random() < 0.8:
                continue  # its vehicle would hide another plate: try elsewhere
            if car is not None:
                cars.append(car)
        # Render a little larger than shown so the warp only ever shrinks (no blocky upsampling).
        scale = max(width * rng.uniform(1.0, 1.4) / w_mm, 10.0 / h_mm)
        plate = render_plate(spec, rng, scale=scale)
        mount, alpha, corners = _mount(plate, rng)
        shrink = plate.image.shape[1] / width
        if shrink > 1.5:  # the perspective warp does not low-pass: pre-blur what it will shrink a lot
            sigma = 0.4 * shrink
            mount = cv2.GaussianBlur(mount, (0, 0), sigma)
            alpha = cv2.GaussianBlur(alpha, (0, 0), sigma)
        homography = cv2.getPerspectiveTransform(corners, quad.astype(np.float32))
        _warp_onto(img, mount, alpha, homography)
        if rng.random() < 0.08:
            _occlude(img, quad, rng)
        return quad.astype(np.float32), box, plate
    return None


def _occlude(img: np.ndarray, quad: np.ndarray, rng) -> None:
    """A tow ball or a pole in front of the plate's edge: it hides border and small print, never so much
    of a character that the label stops being readable."""
    (x_min, y_min), (x_max, y_max) = quad.min(0), quad.max(0)
    pw, ph = x_max - x_min, y_max - y_min
    colour = tuple(float(c) for c in rng.uniform(0.05, 0.6, 3))
    if rng.random() < 0.5:
        cx = int(rng.uniform(x_min + pw * 0.1, x_max - pw * 0.1))
        radius = max(1, int(ph * rng.uniform(0.15, 0.25)))
        cv2.circle(img, (cx, int(y_max + radius * 0.55)), radius, colour, -1, cv2.LINE_AA)
    else:
        half = max(1, int(pw * rng.uniform(0.015, 0.035)))
        x = int(x_min - half * 0.4) if rng.random() < 0.5 else int(x_max + half * 0.4)
        cv2.rectangle(img, (x - half, int(y_min - ph)), (x + half, int(y_max + ph)), colour, -1)


@dataclass
class PlateView:
    """A plate as a camera sees it, on a small car-like patch: what `random_plate_view` returns.

    `corners` are the plate's corners in `image` (float x, y, clockwise from top-left), so a reader's
    own rectification can be trained on exactly what it will cut at run time.
    """

    image: np.ndarray  # uint8 H x W x 3, RGB, already through optics, noise and JPEG
    corners: np.ndarray  # float32 (4, 2)
    text: str
    kind: str
    rows: tuple[str, ...]


def random_plate_view(
    rng: np.random.Generator, spec: PlateSpec | None = None, plate_width: float | None = None
) -> PlateView:
    """One plate at camera resolution in mild perspective, mounted on a car-like patch.

    `plate_width` is the plate's width in camera pixels (random when None: about 0.16 to 1 px per mm,
    log-normal around 0.29, as in typical road photos). Much cheaper than a scene: the patch is about
    2 x 2.5 plates.
    """
    if spec is None:
        spec = random_plate(rng)
    w_mm, h_mm = spec.size_mm
    if plate_width is None:
        # Camera resolution at the plate: log-normal around 0.29 px/mm (a 305 mm US plate about 90 px
        # wide, as in typical road photos), so a long plate gets more pixels than a short one.
        px_per_mm = float(np.clip(np.exp(rng.normal(np.log(0.29), 0.4)), 0.16, 1.0))
        plate_width = px_per_mm * w_mm
    shown_w = float(plate_width)
    shown_h = shown_w * h_mm / w_mm
    plate = render_plate(spec, rng, scale=max(shown_w * rng.uniform(1.0, 1.3) / w_mm, 9.0 / h_mm))
    mount, alpha, corners = _mount(plate, rng)
    pad_x, pad_y = shown_w * rng.uniform(0.3, 0.6), shown_h * rng.uniform(0.5, 0.8)
    patch_w, patch_h = int(shown_w + 2 * pad_x), int(shown_h + 2 * pad_y)
    patch = np.empty((patch_h, patch_w, 3), np.float32)
    paint = car_paint(rng)
    patch[:] = paint
    patch += (_lowres_noise(rng, patch_h, patch_w, 8, 1) - 0.5) * rng.uniform(0.02, 0.2)
    if rng.random() < 0.6:  # bumper edge below the plate
        y = int(pad_y + shown_h * rng.uniform(0.9, 1.4))
        cv2.rectangle(patch, (0, y), (patch_w, patch_h), tuple(float(c) for c in np.clip(paint * rng.uniform(0.2, 0.8), 0, 1)), -1)
    if rng.random() < 0.3:
        _draw_text(patch, _random_string(rng), int(rng.uniform(0, patch_w * 0.5)), int(rng.uniform(0, pad_y * 0.6)),
                   max(4, int(shown_h * rng.uniform(0.15, 0.4))), _contrasting(rng, paint), rng)
    quad = _perspective_quad(rng, patch_w / 2, patch_h / 2, shown_w, shown_h, strength=float(rng.uniform(0.2, 1.0)))
    homography = cv2.getPerspectiveTransform(corners, quad.astype(np.float32))
    _warp_onto(patch, mount, alpha, homography)
    if rng.random() < 0.05:
        _occlude(patch, quad, rng)
    patch = _lighting_crop(patch, rng)
    # Optics and demosaicing soften everything a little; blur, noise and compression happen at the
    # camera's resolution, before anyone crops or resizes.
    if rng.random() < 0.35:
        patch = cv2.GaussianBlur(patch, (0, 0), float(rng.uniform(0.3, 0.7)))
    if rng.random() < 0.4:
        patch = _sharpen(patch, rng)
    if rng.random() < (0.4 if shown_h > 30 else 0.2):
        # Never below ~20 px of plate height: the label must stay readable from the pixels.
        patch = _degrade(patch, rng, patch.shape[1], min_scale=min(1.0, max(0.35, 20.0 / shown_h)))
    else:
        patch = patch + _noise(rng, patch_h, patch_w, 1) * float(rng.uniform(0.0, 0.03))
    out = _to_uint8(patch)
    if rng.random() < 0.4:
        out = _gamma(out, rng)
    if rng.random() < 0.7:
        out = _jpeg_roundtrip(out, int(rng.integers(30, 95)))
    return PlateView(image=out, corners=quad.astype(np.float32), text=plate.text, kind=spec.kind, rows=plate.rows)


def random_plate_crop(
    rng: np.random.Generator,
    spec: PlateSpec | None = None,
    out_size: tuple[int, int] = (128, 64),
    plate_width: float | None = None,
) -> tuple[np.ndarray, str, str]:
    """A plate crop as a box detector would hand it to the recogniser: (uint8 RGB image, text, kind).

    A `random_plate_view` cut around the plate's bounding box with a jittered margin (sometimes cutting
    slightly into the plate) and resized to `out_size` (width, height). `plate_width` as for
    `random_plate_view` (None: its own camera resolution).
    """
    out_w, out_h = int(out_size[0]), int(out_size[1])
    view = random_plate_view(rng, spec, plate_width)
    quad = view.corners
    patch_h, patch_w = view.image.shape[:2]
    (x_min, y_min), (x_max, y_max) = quad.min(0), quad.max(0)
    bw, bh = x_max - x_min, y_max - y_min
    tight = rng.random() < 0.1  # detectors sometimes cut into the plate's edge (its border, not a character)
    mx0, mx1 = rng.uniform(-0.01 if tight else 0.0, 0.15, 2) * bw
    my0, my1 = rng.uniform(-0.03 if tight else 0.0, 0.18, 2) * bh
    x0, x1 = int(max(0, x_min - mx0)), int(min(patch_w, x_max + mx1))
    y0, y1 = int(max(0, y_min - my0)), int(min(patch_h, y_max + my1))
    crop = view.image[y0 : max(y1, y0 + 2), x0 : max(x1, x0 + 2)]
    interp = cv2.INTER_AREA if crop.shape[1] > out_w else cv2.INTER_LINEAR if rng.random() < 0.7 else cv2.INTER_CUBIC
    return cv2.resize(crop, (out_w, out_h), interpolation=interp), view.text, view.kind


def _desaturate(img: np.ndarray, amount: float) -> np.ndarray:
    grey = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    return cv2.addWeighted(img, 1.0 - amount, grey, amount, 0.0)


def _lighting_crop(img: np.ndarray, rng) -> np.ndarray:
    r = rng.random()
    if r < 0.12:
        img = np.repeat(img.mean(axis=2, keepdims=True), 3, axis=2)
    elif r < 0.8:  # road photos are much less saturated than the plates' paint
        img = _desaturate(img, float(rng.uniform(0.2, 0.75)))
    img = img * rng.uniform(0.6, 1.25) + rng.normal(0, 0.02, 3).astype(np.float32)
    if rng.random() < 0.4:  # low contrast (haze, over-exposure, a dull plate)
        c = rng.uniform(0.4, 0.85)
        img = img * c + (1 - c) * rng.uniform(0.2, 0.8)
    h, w = img.shape[:2]
    if rng.random() < 0.15:  # a shadow edge across the plate
        x = int(rng.uniform(0.1, 0.9) * w)
        img[:, :x] *= rng.uniform(0.4, 0.8)
    if rng.random() < 0.4:  # uneven light across the plate (bumper shade, a headlight's fall-off)
        angle = rng.uniform(0, 2 * np.pi)
        ramp = (np.cos(angle) * np.linspace(-0.5, 0.5, w, dtype=np.float32)[None, :]
                + np.sin(angle) * np.linspace(-0.5, 0.5, h, dtype=np.float32)[:, None])
        img = img * (1 + ramp[..., None] * rng.uniform(0.2, 0.8))
    return np.clip(img, 0, 1).astype(np.float32)
