from __future__ import annotations

import io
from datetime import UTC, datetime

from PIL import Image

from murur.evidence import annotate, offence_line, plate_crop
from murur.workflow import FrameRef, ViolationType


def frame(**changes) -> FrameRef:
    values = dict(frame_id="NKC-TVZ-01-F000123", bucket="b", key="k", etag="e", sha256="ab" * 32, size_bytes=1,
                  width=320, height=180, content_type="image/jpeg", camera_id="NKC-TVZ-01",
                  captured_at=datetime(2026, 11, 28, 9, 30, 12, tzinfo=UTC),
                  received_at=datetime(2026, 11, 28, 9, 30, 13, tzinfo=UTC), violation_type=ViolationType.SPEEDING,
                  measured_speed_kmh=87, speed_limit_kmh=60, place="Carrefour Madrid")
    return FrameRef(**(values | changes))


def jpeg(size: tuple[int, int] = (320, 180)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (50, 60, 70)).save(buffer, "JPEG")
    return buffer.getvalue()


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_the_annotated_picture_keeps_the_frame_and_adds_a_banner_below() -> None:
    annotated = opened(annotate(jpeg(), frame=frame(), violation_id="MR26-7KQ2M9XA4P", plate_text="4821AB00",
                                read_source="model", box=(100, 100, 180, 125)))
    assert annotated.format == "JPEG"
    assert annotated.width == 320 and annotated.height > 180
    # The plate box is drawn in red on the picture.
    red, green, blue = annotated.convert("RGB").getpixel((100, 112))
    assert red > 180 and green < 100 and blue < 100


def test_the_annotated_picture_is_the_same_for_the_same_inputs() -> None:
    arguments = dict(frame=frame(), violation_id="MR26-7KQ2M9XA4P", plate_text="4821AB00", read_source="officer",
                     box=None)
    assert annotate(jpeg(), **arguments) == annotate(jpeg(), **arguments)


def test_the_crop_is_the_plate_with_a_margin_clipped_to_the_picture() -> None:
    assert opened(plate_crop(jpeg(), (100, 100, 200, 120))).size == (130, 26)
    assert opened(plate_crop(jpeg(), (0, 170, 50, 180))).size == (57, 11)


def test_the_offence_line_states_the_measurement() -> None:
    assert offence_line(frame()) == "SPEEDING 87 km/h, limit 60 km/h"
    red_light = frame(violation_type=ViolationType.RED_LIGHT, measured_speed_kmh=None, speed_limit_kmh=None,
                      signal_phase="RED")
    assert offence_line(red_light) == "RED_LIGHT, signal RED"
