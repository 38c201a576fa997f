"""What a camera must upload, and why an upload is rejected (docs/CAMERA_CONTRACT.md for vendors).

A frame is one S3 object under ``frames/{camera_id}/{YYYY}/{MM}/{DD}/{vendor_frame_id}.{jpg|png}``
with the camera's sensor readings as S3 user metadata (``x-amz-meta-captured-at`` ...). Everything
here is pure: the ingest step (murur.ingest) fetches the object and the camera and calls it.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from PIL import Image, UnidentifiedImageError
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from murur.workflow import ViolationType

FRAMES_PREFIX = "frames/"
MAX_FRAME_BYTES = 10 * 1024 * 1024
MAX_FRAME_PIXELS = 50_000_000
# A camera clock may run a little ahead of ours; beyond this, the capture time cannot be trusted.
MAX_CLOCK_SKEW = timedelta(minutes=5)

IMAGE_CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}
_MAGIC = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG"}

_KEY = re.compile(
    r"^frames/(?P<camera_id>[A-Z0-9][A-Z0-9-]{1,31})/(?P<year>\d{4})/(?P<month>\d{2})/(?P<day>\d{2})/"
    r"(?P<vendor_frame_id>[A-Za-z0-9][A-Za-z0-9_-]{0,63})\.(?P<extension>jpg|jpeg|png)$"
)


class RejectionReason(StrEnum):
    """Why a frame was rejected: stored as the frame's reason_code and as the object's murur-reason tag."""

    BAD_KEY = "BAD_KEY"
    OBJECT_NOT_FOUND = "OBJECT_NOT_FOUND"
    MISSING_METADATA = "MISSING_METADATA"
    INVALID_METADATA = "INVALID_METADATA"
    CAPTURED_IN_FUTURE = "CAPTURED_IN_FUTURE"
    UNKNOWN_CAMERA = "UNKNOWN_CAMERA"
    RETIRED_CAMERA = "RETIRED_CAMERA"
    EMPTY_FILE = "EMPTY_FILE"
    TOO_LARGE = "TOO_LARGE"
    NOT_AN_IMAGE = "NOT_AN_IMAGE"
    CORRUPT_IMAGE = "CORRUPT_IMAGE"
    TOO_MANY_PIXELS = "TOO_MANY_PIXELS"
    NOT_A_SECTION_CAMERA = "NOT_A_SECTION_CAMERA"  # a SECTION_SPEEDING passage from a camera in no active section


class FrameRejected(Exception):
    """The upload breaks the contract; `detail` says how, in words a camera vendor can act on."""

    def __init__(self, code: RejectionReason, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class SignalPhase(StrEnum):
    RED = "RED"
    AMBER = "AMBER"
    GREEN = "GREEN"


@dataclass(frozen=True)
class FrameKey:
    """What the object key says: which camera, which day, which of the camera's frames."""

    camera_id: str
    day: date
    vendor_frame_id: str
    extension: str

    @property
    def frame_id(self) -> str:
        return f"{self.camera_id}-{self.vendor_frame_id}"

    @classmethod
    def parse(cls, key: str) -> "FrameKey":
        match = _KEY.match(key)
        if match is None:
            raise FrameRejected(
                RejectionReason.BAD_KEY,
                "the key must be frames/{camera_id}/{YYYY}/{MM}/{DD}/{vendor_frame_id}.jpg|.png "
                "(camera id: upper-case letters, digits, dashes)",
            )
        try:
            day = date(int(match["year"]), int(match["month"]), int(match["day"]))
        except ValueError as error:
            raise FrameRejected(RejectionReason.BAD_KEY, f"the key's date is not a calendar date ({error})") from error
        return cls(match["camera_id"], day, match["vendor_frame_id"], match["extension"])


def _metadata_name(field_name: str) -> str:
    return field_name.replace("_", "-")


class CameraMetadata(BaseModel):
    """The S3 user metadata of a frame (names without the x-amz-meta- prefix)."""

    model_config = ConfigDict(alias_generator=_metadata_name, extra="ignore", frozen=True)

    captured_at: AwareDatetime = Field(description="ISO 8601 with a UTC offset, e.g. 2026-11-28T09:30:12Z")
    violation_type: ViolationType
    measured_speed_kmh: float | None = Field(None, gt=0, le=400)
    speed_limit_kmh: float | None = Field(None, gt=0, le=200)
    lane: int | None = Field(None, ge=1, le=16)
    signal_phase: SignalPhase | None = None
    camera_vendor: str | None = Field(None, max_length=64)
    camera_firmware: str | None = Field(None, max_length=64)


# Enumerations are read whatever their case ("red" = "RED").
_UPPER_CASE_VALUES = ("violation-type", "signal-phase")
REQUIRED_METADATA = tuple(
    _metadata_name(name) for name, field in CameraMetadata.model_fields.items() if field.is_required()
)


def parse_metadata(raw: dict[str, str], *, now: datetime, posted_limit_kmh: float | None = None) -> CameraMetadata:
    """Validate the camera's metadata; SPEEDING falls back to the camera's posted limit.

    Names are matched case-insensitively, and underscores count as dashes: some camera SDKs write
    ``x-amz-meta-captured_at``. Violation type and signal phase are read whatever their case.
    """
    values = {name.lower().replace("_", "-"): value.strip() for name, value in raw.items() if value and value.strip()}
    for name in _UPPER_CASE_VALUES:
        if name in values:
            values[name] = values[name].upper()
    missing = [name for name in REQUIRED_METADATA if name not in values]
    if missing:
        raise FrameRejected(RejectionReason.MISSING_METADATA, f"missing metadata: {', '.join(missing)}")
    try:
        metadata = CameraMetadata.model_validate(values)
    except ValidationError as error:
        fields = sorted({_metadata_name(str(e["loc"][0])) for e in error.errors() if e["loc"]})
        raise FrameRejected(
            RejectionReason.INVALID_METADATA, f"invalid metadata: {', '.join(fields) or 'unreadable values'}"
        ) from error
    metadata = _with_sensor_requirements(metadata, posted_limit_kmh)
    if metadata.captured_at > now + MAX_CLOCK_SKEW:
        raise FrameRejected(
            RejectionReason.CAPTURED_IN_FUTURE,
            f"captured-at {metadata.captured_at.isoformat()} is later than the time of upload; check the camera clock",
        )
    return metadata


def _with_sensor_requirements(metadata: CameraMetadata, posted_limit_kmh: float | None) -> CameraMetadata:
    if metadata.violation_type is ViolationType.SPEEDING:
        if metadata.measured_speed_kmh is None:
            raise FrameRejected(RejectionReason.MISSING_METADATA, "missing metadata: measured-speed-kmh (SPEEDING)")
        limit = metadata.speed_limit_kmh if metadata.speed_limit_kmh is not None else posted_limit_kmh
        if limit is None:
            raise FrameRejected(RejectionReason.MISSING_METADATA, "missing metadata: speed-limit-kmh (SPEEDING)")
        if metadata.measured_speed_kmh <= limit:
            raise FrameRejected(
                RejectionReason.INVALID_METADATA,
                f"invalid metadata: measured-speed-kmh {metadata.measured_speed_kmh:g} is not over the limit {limit:g}",
            )
        return metadata.model_copy(update={"speed_limit_kmh": limit})
    if metadata.violation_type is ViolationType.RED_LIGHT:
        if metadata.signal_phase is None:
            raise FrameRejected(RejectionReason.MISSING_METADATA, "missing metadata: signal-phase (RED_LIGHT)")
        if metadata.signal_phase is not SignalPhase.RED:
            raise FrameRejected(RejectionReason.INVALID_METADATA, "invalid metadata: signal-phase must be RED for RED_LIGHT")
    return metadata


def check_key_date(key: FrameKey, metadata: CameraMetadata) -> None:
    captured_day = metadata.captured_at.astimezone(UTC).date()
    if key.day != captured_day:
        raise FrameRejected(
            RejectionReason.BAD_KEY,
            f"the key's date {key.day:%Y/%m/%d} is not the UTC capture date {captured_day:%Y/%m/%d}",
        )


def check_size(size_bytes: int) -> None:
    """Before reading anything: the object's size from HeadObject."""
    if size_bytes == 0:
        raise FrameRejected(RejectionReason.EMPTY_FILE, "the object is empty (0 bytes)")
    if size_bytes > MAX_FRAME_BYTES:
        raise FrameRejected(RejectionReason.TOO_LARGE, f"{size_bytes} bytes; at most {MAX_FRAME_BYTES} are accepted")


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int
    height: int

    @property
    def content_type(self) -> str:
        return IMAGE_CONTENT_TYPES[self.format]


def inspect_image(data: bytes) -> ImageInfo:
    """A whole, decodable JPEG or PNG within the pixel limit, or FrameRejected saying which it is not."""
    check_size(len(data))
    declared = next((name for magic, name in _MAGIC.items() if data.startswith(magic)), None)
    if declared is None:
        raise FrameRejected(RejectionReason.NOT_AN_IMAGE, "the bytes are neither a JPEG nor a PNG")
    with warnings.catch_warnings():
        # Our own pixel limit applies; Pillow's warning below its hard limit is noise here.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if image.format != declared:
                    raise FrameRejected(RejectionReason.CORRUPT_IMAGE, f"corrupt {declared}: decodes as {image.format}")
                if width * height > MAX_FRAME_PIXELS:
                    raise _too_many_pixels(width, height)
                image.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
        except Image.DecompressionBombError as error:
            raise _too_many_pixels(None, None) from error
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
            raise FrameRejected(RejectionReason.CORRUPT_IMAGE, f"corrupt {declared}: {error}") from error
    return ImageInfo(declared, width, height)


def _too_many_pixels(width: int | None, height: int | None) -> FrameRejected:
    size = f"{width} x {height} pixels" if width else "the picture"
    return FrameRejected(RejectionReason.TOO_MANY_PIXELS, f"{size}; at most {MAX_FRAME_PIXELS} pixels are accepted")


def rejection_tags(code: RejectionReason) -> list[dict[str, Any]]:
    """The S3 tags a rejected object gets, so a vendor sees the verdict on the object itself."""
    return [{"Key": "murur-status", "Value": "rejected"}, {"Key": "murur-reason", "Value": code.value}]
