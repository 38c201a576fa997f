"""Decoding untrusted image bytes and cutting plates out of frames."""

import io

import numpy as np
import pytest
from PIL import Image

from murur.alpr.imaging import (
    CROP_HEIGHT,
    CROP_WIDTH,
    InvalidImage,
    MAX_IMAGE_PIXELS,
    decode_grey,
    expand_quad,
    letterbox,
    rectify_plate,
    warp_quad,
)


def encode(image: Image.Image, fmt: str = "JPEG", **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def test_decodes_colour_jpeg_to_grey():
    grey = decode_grey(encode(Image.new("RGB", (64, 48), (200, 30, 30))))
    assert grey.mode == "L" and grey.size == (64, 48)


@pytest.mark.parametrize("data", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40])
def test_garbage_is_invalid(data):
    with pytest.raises(InvalidImage):
        decode_grey(data)


def test_truncated_jpeg_is_invalid():
    data = encode(Image.effect_noise((400, 300), 60).convert("RGB"), quality=90)
    with pytest.raises(InvalidImage):
        decode_grey(data[: len(data) // 2])


def test_huge_image_is_refused_before_decoding():
    side = int(np.sqrt(MAX_IMAGE_PIXELS)) + 100
    data = encode(Image.new("L", (side, side)), "PNG")
    with pytest.raises(InvalidImage, match="larger than"):
        decode_grey(data)


def test_exif_orientation_is_applied():
    image = Image.new("RGB", (80, 40), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    assert decode_grey(encode(image, exif=exif.tobytes())).size == (40, 80)


def test_letterbox_keeps_aspect_and_pads_bottom_right():
    canvas, scale = letterbox(Image.new("L", (1920, 1440), 255), 640, 384)
    assert canvas.shape == (384, 640) and scale == pytest.approx(384 / 1440)
    assert canvas[:, :512].min() == 255 and canvas[:, 513:].max() == 0


def test_warp_quad_cuts_the_quadrilateral():
    array = np.zeros((100, 200), np.uint8)
    array[20:40, 50:130] = 255  # a white plate-sized rectangle
    quad = np.array([[50, 20], [130, 20], [130, 40], [50, 40]], float)
    out = warp_quad(Image.fromarray(array), quad, 80, 20)
    assert out.shape == (20, 80)
    assert out[2:-2, 2:-2].min() > 200


def test_expand_quad_grows_along_the_plate_axes():
    quad = np.array([[0, 0], [100, 0], [100, 20], [0, 20]], float)
    grown = expand_quad(quad, 0.1, 0.5)
    np.testing.assert_allclose(grown, [[-10, -10], [110, -10], [110, 30], [-10, 30]])


def test_two_row_plate_halves_side_by_side():
    array = np.zeros((200, 200), np.uint8)
    array[50:100, 40:160] = 255  # upper row white, lower row black
    grey = Image.fromarray(array)
    corners = np.array([[40, 50], [160, 50], [160, 150], [40, 150]], float)
    crop = rectify_plate(grey, corners, two_rows=True)
    assert crop.shape == (CROP_HEIGHT, CROP_WIDTH)
    left, right = crop[:, : CROP_WIDTH // 2], crop[:, CROP_WIDTH // 2 :]
    assert left[8:24, 10:70].mean() > 200 and right[8:24, 10:70].mean() < 50
    assert rectify_plate(grey, corners, two_rows=False).shape == (CROP_HEIGHT, CROP_WIDTH)
