"""Image decoding and plate rectification with Pillow and numpy only (the Lambda has no OpenCV).

The training code imports these same functions, so the recogniser learns from crops cut exactly as
the reader cuts them at run time.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# Frames bigger than this are refused instead of decoded (a decompression bomb would exhaust memory).
MAX_IMAGE_PIXELS = 40_000_000

# The recogniser's input: one grey row-image of this size (two-row plates are split and put side by side).
CROP_HEIGHT = 32
CROP_WIDTH = 160

# Margin added around the plate's corners before rectifying, as fractions of its width and height:
# a little background keeps edge characters whole when the corners are slightly off.
CROP_MARGIN_X = 0.04
CROP_MARGIN_Y = 0.10
# Second looks at a plate, with wider, tighter, taller and flatter margins: the looks vote on the text
# (murur.alpr.postprocess.settle_looks), and a read that survives a different cut is far more often right
# (murur.alpr.calibration's `rectification_agreement`). Seven looks in all read more plates than three
# (bench.alpr_looks, docs/BENCHMARKS.md).
CHECK_MARGINS = ((0.08, 0.16), (0.01, 0.05), (0.06, 0.13), (0.025, 0.075), (0.04, 0.2), (0.04, 0.0))
# Every look's margins, the main cut first.
LOOK_MARGINS = ((CROP_MARGIN_X, CROP_MARGIN_Y), *CHECK_MARGINS)
# The looks read first: the first FIRST_LOOKS of LOOK_MARGINS. The others are read only for plates
# whose first looks disagree: when these agree, the other looks almost never outvote them (bench.alpr_looks:
# as many plates read right as with all seven, on every set), and most plates cost three crops, not seven.
FIRST_LOOKS = 3
# The looks are read in these batches (slices of LOOK_MARGINS), each only for the cuts whose looks so far
# ask for more (murur.alpr.postprocess.wants_more_looks): the main cut, the other first looks, the rest.
LOOK_BATCHES = ((0, 1), (1, FIRST_LOOKS), (FIRST_LOOKS, len(LOOK_MARGINS)))


class InvalidImage(ValueError):
    """The bytes are not an image the reader can decode (truncated, garbage, too large, empty)."""


def decode_grey(image_bytes: bytes, max_pixels: int = MAX_IMAGE_PIXELS) -> Image.Image:
    """Decode bytes to an upright 8-bit grey image, or raise InvalidImage with the reason."""
    if not image_bytes:
        raise InvalidImage("empty image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(image_bytes))
            if image.width * image.height > max_pixels:
                raise InvalidImage(f"image of {image.width}x{image.height} pixels is larger than {max_pixels}")
            if image.format == "JPEG":
                image.draft("L", image.size)  # let libjpeg skip the colour conversion (about twice as fast)
            ImageOps.exif_transpose(image, in_place=True)  # in place: the frame is not copied once more
            grey = image if image.mode == "L" else image.convert("L")
            grey.load()
    except InvalidImage:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidImage(f"cannot decode image: {exc}") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:  # truncated or corrupt data
        raise InvalidImage(f"cannot decode image: {exc}") from exc
    if grey.width < 8 or grey.height < 8:
        raise InvalidImage(f"image of {grey.width}x{grey.height} pixels is too small")
    return grey


def letterbox(grey: Image.Image, width: int, height: int, fill: float = 1.0) -> tuple[np.ndarray, float]:
    """Scale `grey` to fit `fill` of (width, height), pad right/bottom with zeros; returns (uint8 HxW, scale)."""
    scale = min(width / grey.width, height / grey.height) * fill
    new_w, new_h = max(1, round(grey.width * scale)), max(1, round(grey.height * scale))
    small = grey
    factor = int(1 / scale)
    if factor >= 2:  # box-average by an integer factor first: much faster than filtering the full frame
        small = small.reduce(factor)
    if small.size != (new_w, new_h):
        small = small.resize((new_w, new_h), Image.Resampling.BILINEAR)
    canvas = np.zeros((height, width), np.uint8)
    canvas[:new_h, :new_w] = np.asarray(small)
    return canvas, scale


def _perspective_coefficients(src_quad: np.ndarray, width: int, height: int) -> tuple[float, ...]:
    """Pillow PERSPECTIVE data mapping the output rectangle (width x height) onto `src_quad`."""
    dst = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float64)
    src = np.asarray(src_quad, np.float64)
    rows = []
    rhs = []
    for (x, y), (u, v) in zip(dst, src):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs.extend([u, v])
    return tuple(np.linalg.solve(np.array(rows), np.array(rhs)).tolist())


def plate_axes(corners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The plate's own axes as vectors in pixels: along its rows (left to right, its width) and across
    them (top to bottom, its height), each the mean of the two opposite edges."""
    c = np.asarray(corners, np.float64)
    return ((c[1] - c[0]) + (c[2] - c[3])) / 2, ((c[3] - c[0]) + (c[2] - c[1])) / 2


def expand_quad(corners: np.ndarray, margin_x: float = CROP_MARGIN_X, margin_y: float = CROP_MARGIN_Y) -> np.ndarray:
    """Corners (TL, TR, BR, BL) pushed outwards along the plate's own axes by the given fractions."""
    c = np.asarray(corners, np.float64)
    along, across = plate_axes(c)
    dx, dy = along * margin_x, across * margin_y
    return np.array([c[0] - dx - dy, c[1] + dx - dy, c[2] + dx + dy, c[3] - dx + dy])


# The corner refiner's view of a detected plate (murur.alpr.reader, training.refiner): its quad pushed out by
# REFINER_MARGINS, wide enough to hold the true plate when a corner is off by the detector's 90th-percentile
# error (7 % of the width, 12 % of the height) and more, resampled to REFINER_WIDTH x REFINER_HEIGHT.
REFINER_HEIGHT, REFINER_WIDTH = 48, 160
REFINER_MARGINS = (0.15, 0.4)


def unit_square_homography(quad: np.ndarray) -> np.ndarray:
    """The 3 x 3 homography taking the unit square's corners (TL, TR, BR, BL) onto `quad`."""
    a, b, c, d, e, f, g, h = _perspective_coefficients(quad, 1, 1)
    return np.array([[a, b, c], [d, e, f], [g, h, 1.0]])


def apply_homography(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(N, 2) points mapped by a 3 x 3 homography."""
    p = np.asarray(points, np.float64).reshape(-1, 2)
    mapped = np.c_[p, np.ones(len(p))] @ np.asarray(matrix, np.float64).T
    return mapped[:, :2] / mapped[:, 2:]


def refiner_neighbourhood(grey: Image.Image, corners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The corner refiner's input around `corners` (uint8 REFINER_HEIGHT x REFINER_WIDTH) and the homography
    from that input's unit square to the frame."""
    quad = expand_quad(corners, *REFINER_MARGINS)
    return warp_quad(grey, quad, REFINER_WIDTH, REFINER_HEIGHT), unit_square_homography(quad)


def warp_quad(grey: Image.Image, quad: np.ndarray, width: int, height: int) -> np.ndarray:
    """The quadrilateral `quad` (TL, TR, BR, BL) of `grey` resampled to a width x height uint8 array."""
    # Supersample small outputs from big plates: Pillow's perspective warp does not low-pass filter.
    quad = np.asarray(quad, np.float64)
    src_w = max(np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[2] - quad[3]))
    factor = int(min(4, max(1, src_w // (2 * width))))
    if factor > 1:
        big = grey.transform((width * factor, height * factor), Image.Transform.PERSPECTIVE,
                             _perspective_coefficients(quad, width * factor, height * factor),
                             Image.Resampling.BILINEAR)
        return np.asarray(big.reduce(factor))
    return np.asarray(grey.transform((width, height), Image.Transform.PERSPECTIVE,
                                     _perspective_coefficients(quad, width, height), Image.Resampling.BILINEAR))


def rectify_plate(grey: Image.Image, corners: np.ndarray, two_rows: bool,
                  margins: tuple[float, float] = (CROP_MARGIN_X, CROP_MARGIN_Y)) -> np.ndarray:
    """The recogniser's input for a plate: uint8 CROP_HEIGHT x CROP_WIDTH.

    A two-row plate is cut into its upper and lower halves (with a little overlap), each rectified to
    half the width and placed side by side, so one single-line recogniser reads both kinds.
    """
    quad = expand_quad(corners, *margins)
    if not two_rows:
        return warp_quad(grey, quad, CROP_WIDTH, CROP_HEIGHT)
    tl, tr, br, bl = quad
    half = CROP_WIDTH // 2

    def lerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
        return a + (b - a) * t

    top = np.array([tl, tr, lerp(tr, br, 0.55), lerp(tl, bl, 0.55)])
    bottom = np.array([lerp(tl, bl, 0.45), lerp(tr, br, 0.45), br, bl])
    return np.concatenate([warp_quad(grey, top, half, CROP_HEIGHT), warp_quad(grey, bottom, half, CROP_HEIGHT)], axis=1)
