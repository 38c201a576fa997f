"""How legible a generated plate is: what the camera left of its characters, measured against the same
plate before the camera (blur, resolution loss, noise, sharpening, tone curve and compression).

The score is the plate's signal-to-noise ratio times the height of one of its rows in pixels. A matched
filter tells a character from its look-alikes with a margin that grows with contrast over noise and with
the square root of the character's pixel count, which is proportional to its height; so the product
ranks plates the way a reader struggles with them. docs/BENCHMARKS.md compares it with a person's
verdicts ("Which plates are legible, measured"). No library measures this against a known reference
image, hence by hand. Where a plate counts as legible (`LEGIBLE_MIN`) is the evaluation's call
(murur.alpr.evaluate), which must not need OpenCV to measure real photos.
"""

from __future__ import annotations

import cv2
import numpy as np

# A plate the camera did not touch has no noise to divide by: the ratio stops at what a very good
# camera gives, so clean plates rank by their size.
SNR_CAP = 50.0
# The plate's border, screws and the frame's edges are not characters: only the inner face is compared.
_INSET_X, _INSET_Y = 0.05, 0.10


def plate_legibility(reference: np.ndarray, observed: np.ndarray, corners: np.ndarray, rows: int = 1) -> float:
    """The legibility of the plate at `corners` (4 x 2, clockwise from top-left, in the images' pixels).

    `reference` is the scene as the optics would show it (float 0..1 or uint8), `observed` the same
    pixels as the camera delivered them; both RGB or grey, of the same size. The observed face is fitted
    as `gain * reference + offset` (a camera's exposure and tone are not losses); what the fit cannot
    explain is the noise. A plate under two pixels high, or one with no contrast, scores 0.
    """
    quad = np.asarray(corners, np.float32)
    width = int(round((np.linalg.norm(quad[1] - quad[0]) + np.linalg.norm(quad[2] - quad[3])) / 2))
    height = int(round((np.linalg.norm(quad[3] - quad[0]) + np.linalg.norm(quad[2] - quad[1])) / 2))
    if width < 4 or height < 2:
        return 0.0
    # At the plate's own resolution: resampling up or down would smooth the noise away or add blur.
    target = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    homography = cv2.getPerspectiveTransform(quad, target)
    dx, dy = max(1, int(width * _INSET_X)), max(1, int(height * _INSET_Y))
    before, after = (cv2.warpPerspective(_grey(image), homography, (width, height), flags=cv2.INTER_LINEAR)
                     [dy:height - dy, dx:width - dx].ravel().astype(np.float64) for image in (reference, observed))
    if before.size < 4 or before.std() < 1e-6:
        return 0.0
    gain, offset = np.polyfit(before, after, 1)
    residual = after - (gain * before + offset)
    signal = abs(gain) * before.std()
    snr = min(SNR_CAP, signal / max(residual.std(), 1e-9))
    return float(snr * height / max(1, rows))


def _grey(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    scaled = image.astype(np.float32) / 255.0 if image.dtype == np.uint8 else image.astype(np.float32)
    if scaled.ndim == 3:
        return cv2.cvtColor(np.ascontiguousarray(scaled), cv2.COLOR_RGB2GRAY)
    return scaled
