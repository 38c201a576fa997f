"""Evidence of a violation: the original frame, an annotated picture and the plate crop, each with its
SHA-256 on the violation record, in the evidence bucket under evidence/{violation_id}/.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageDraw, ImageFont, ImageOps

from murur.frames import sha256_hex
from murur.workflow import FrameRef, ViolationType

if TYPE_CHECKING:
    from murur.sections import SectionOffence

_BOX_COLOUR = (255, 40, 40)
_BANNER_COLOUR = (0, 0, 0)
_TEXT_COLOUR = (255, 255, 255)
_CROP_MARGIN = 0.15
# Pillow's built-in font has no accented or Arabic letters, which place names have; DejaVu has both.
_BANNER_FONT = Path(__file__).parent / "alpr" / "synth" / "fonts" / "DejaVuSansCondensed-Bold.ttf"


@dataclass(frozen=True)
class StoredEvidence:
    key: str
    sha256: str


def _upright(image_bytes: bytes) -> Image.Image:
    # The reader's boxes are in the upright picture's pixels (EXIF orientation applied).
    with Image.open(io.BytesIO(image_bytes)) as image:
        return ImageOps.exif_transpose(image).convert("RGB")


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def offence_line(frame: FrameRef) -> str:
    if frame.violation_type is ViolationType.SPEEDING and frame.measured_speed_kmh and frame.speed_limit_kmh:
        return f"SPEEDING {frame.measured_speed_kmh:g} km/h, limit {frame.speed_limit_kmh:g} km/h"
    if frame.signal_phase:
        return f"{frame.violation_type.value}, signal {frame.signal_phase}"
    return frame.violation_type.value


def annotate(image_bytes: bytes, *, frame: FrameRef, violation_id: str, plate_text: str, read_source: str,
             box: tuple[int, int, int, int] | None) -> bytes:
    """The frame with the plate boxed and a banner: reference, offence, plate, camera, place, time, hash."""
    picture = _upright(image_bytes)
    width, height = picture.size
    font_size = max(12, height // 48)
    font = ImageFont.truetype(str(_BANNER_FONT), font_size)
    lines = [
        f"{violation_id}   {offence_line(frame)}",
        f"Plate {plate_text} (read by {read_source})   Camera {frame.camera_id}   {frame.place or ''}",
        f"{frame.captured_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC   frame SHA-256 {frame.sha256}",
    ]
    banner_height = (font_size + font_size // 2) * len(lines) + font_size
    canvas = Image.new("RGB", (width, height + banner_height), _BANNER_COLOUR)
    canvas.paste(picture, (0, 0))
    draw = ImageDraw.Draw(canvas)
    if box is not None:
        draw.rectangle(box, outline=_BOX_COLOUR, width=max(2, width // 400))
        label_at = (box[0], max(0, box[1] - font_size - 6))
        draw.rectangle(draw.textbbox(label_at, plate_text, font=font), fill=_BANNER_COLOUR)
        draw.text(label_at, plate_text, fill=_BOX_COLOUR, font=font)
    for row, line in enumerate(lines):
        draw.text((font_size // 2, height + font_size // 2 + row * (font_size + font_size // 2)), line,
                  fill=_TEXT_COLOUR, font=font)
    return _jpeg(canvas)


def _milliseconds(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S}.{moment.microsecond // 1000:03d} UTC"


def annotate_section(entry_image: bytes, exit_image: bytes, *, offence: "SectionOffence", violation_id: str,
                     read_source: str) -> bytes:
    """Both passages, entry above exit, each plate boxed, and a banner with what the average speed
    was computed from: times as the cameras stamped them, the clock allowance, the distance."""
    section, judgement = offence.section, offence.judgement
    pictures = []
    for image_bytes, passage in ((entry_image, offence.entry), (exit_image, offence.exit)):
        picture = _upright(image_bytes)
        if passage.box is not None:
            draw = ImageDraw.Draw(picture)
            draw.rectangle(passage.box, outline=_BOX_COLOUR, width=max(2, picture.width // 400))
        pictures.append(picture)
    width = max(picture.width for picture in pictures)
    font_size = max(12, pictures[-1].height // 48)
    font = ImageFont.truetype(str(_BANNER_FONT), font_size)
    lines = [
        f"{violation_id}   SECTION_SPEEDING average {judgement.average_speed_kmh:g} km/h, "
        f"limit {section.limit_kmh} km/h (tolerance {section.tolerance_kmh} km/h)",
        f"Plate {offence.plate} (read by {read_source})   Section {section.section_id} {section.name}, "
        f"{section.distance_m} m",
        f"Entry {offence.entry.camera_id} {_milliseconds(offence.entry.captured_at)}   "
        f"Exit {offence.exit.camera_id} {_milliseconds(offence.exit.captured_at)}",
        f"Elapsed {judgement.elapsed_seconds:.3f} s + 2 x {section.clock_skew_seconds:g} s clock allowance = "
        f"{judgement.credited_seconds:.3f} s   {section.distance_m} m / {judgement.credited_seconds:.3f} s",
        f"Entry SHA-256 {offence.entry.frame.sha256}",
        f"Exit SHA-256 {offence.exit.frame.sha256}",
    ]
    pictures_height = sum(picture.height for picture in pictures)
    banner_height = (font_size + font_size // 2) * len(lines) + font_size
    canvas = Image.new("RGB", (width, pictures_height + banner_height), _BANNER_COLOUR)
    draw = ImageDraw.Draw(canvas)
    top = 0
    for role, passage, picture in (("ENTRY", offence.entry, pictures[0]), ("EXIT", offence.exit, pictures[1])):
        canvas.paste(picture, (0, top))
        label = f"{role} {passage.camera_id} {_milliseconds(passage.captured_at)}"
        label_at = (font_size // 2, top + font_size // 2)
        draw.rectangle(draw.textbbox(label_at, label, font=font), fill=_BANNER_COLOUR)
        draw.text(label_at, label, fill=_BOX_COLOUR, font=font)
        top += picture.height
    for row, line in enumerate(lines):
        draw.text((font_size // 2, top + font_size // 2 + row * (font_size + font_size // 2)), line,
                  fill=_TEXT_COLOUR, font=font)
    return _jpeg(canvas)


def plate_crop(image_bytes: bytes, box: tuple[int, int, int, int]) -> bytes:
    picture = _upright(image_bytes)
    x1, y1, x2, y2 = box
    margin_x, margin_y = int((x2 - x1) * _CROP_MARGIN), int((y2 - y1) * _CROP_MARGIN)
    area = (max(0, x1 - margin_x), max(0, y1 - margin_y),
            min(picture.width, x2 + margin_x), min(picture.height, y2 + margin_y))
    return _jpeg(picture.crop(area))


class EvidenceStore:
    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self.bucket = bucket

    def put(self, violation_id: str, name: str, data: bytes, content_type: str) -> StoredEvidence:
        key = f"evidence/{violation_id}/{name}"
        digest = sha256_hex(data)
        # S3 checks the upload against the digest and keeps it (GetObjectAttributes), so the copy can
        # be verified later without the violation record. (moto ignores the checksum; the tests
        # compare the stored bytes with the recorded digest instead.) The bucket has Object Lock with
        # a default retention, which refuses a PUT without an integrity header: ChecksumAlgorithm names it.
        self._s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type,
                            ChecksumAlgorithm="SHA256",
                            ChecksumSHA256=base64.b64encode(bytes.fromhex(digest)).decode(),
                            Metadata={"sha256": digest})
        return StoredEvidence(key, digest)
