"""`make eval` with the recogniser's crops of small plates resampled bicubically instead of bilinearly.

    .venv/bin/python -m bench.alpr_crop_resampling [evaluate's options: --synthetic 300 --real DIR --json OUT]

A crop whose plate is narrower than the crop itself is an upsampling, where bicubic keeps strokes sharper;
the recogniser was trained on bilinear crops (training imports `imaging.warp_quad`), so only the reader's
crops change here, by wrapping the `rectify_plate` that the reader and the evaluation call. The corner
refiner's views stay bilinear. Compare the JSON it writes with one of plain `make eval`.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

import murur.alpr.evaluate as evaluate_module
import murur.alpr.imaging as imaging
import murur.alpr.reader as reader_module

_bilinear_warp = imaging.warp_quad
_rectify = imaging.rectify_plate


def _warp_upsampling_bicubic(grey: Image.Image, quad: np.ndarray, width: int, height: int) -> np.ndarray:
    quad = np.asarray(quad, np.float64)
    plate_width = max(np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[2] - quad[3]))
    if plate_width >= width:
        return _bilinear_warp(grey, quad, width, height)
    coefficients = imaging._perspective_coefficients(quad, width, height)
    return np.asarray(grey.transform((width, height), Image.Transform.PERSPECTIVE, coefficients, Image.Resampling.BICUBIC))


def rectify_bicubic(grey, corners, two_rows, margins=(imaging.CROP_MARGIN_X, imaging.CROP_MARGIN_Y)):
    imaging.warp_quad = _warp_upsampling_bicubic
    try:
        return _rectify(grey, corners, two_rows, margins)
    finally:
        imaging.warp_quad = _bilinear_warp


def main(argv: list[str] | None = None) -> None:
    reader_module.rectify_plate = rectify_bicubic
    evaluate_module.rectify_plate = rectify_bicubic
    evaluate_module.main(argv)


if __name__ == "__main__":
    main()
