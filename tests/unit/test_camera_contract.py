from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from PIL import Image

from murur import camera_contract
from murur.camera_contract import (
    FrameKey,
    FrameRejected,
    RejectionReason,
    check_key_date,
    check_size,
    inspect_image,
    parse_metadata,
)
from murur.workflow import ViolationType

NOW = datetime(2026, 11, 28, 9, 35, tzinfo=UTC)
GOOD = {"captured-at": "2026-11-28T09:30:12Z", "violation-type": "SPEEDING", "measured-speed-kmh": "87",
        "speed-limit-kmh": "60", "lane": "2"}


def picture(image_format: str, size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(buffer, image_format)
    return buffer.getvalue()


def rejected(call, *args, **kwargs) -> RejectionReason:
    with pytest.raises(FrameRejected) as raised:
        call(*args, **kwargs)
    assert raised.value.detail
    return raised.value.code


# ------------------------------------------------------------------ the key
def test_a_well_formed_key_names_camera_day_and_frame() -> None:
    key = FrameKey.parse("frames/NKC-TVZ-01/2026/11/28/F000123.jpg")
    assert (key.camera_id, key.day, key.vendor_frame_id, key.extension) == ("NKC-TVZ-01", date(2026, 11, 28), "F000123", "jpg")
    assert key.frame_id == "NKC-TVZ-01-F000123"
    assert FrameKey.parse("frames/NKC-TVZ-01/2026/11/28/a_b-1.png").extension == "png"


@pytest.mark.parametrize("key", [
    "frames/NKC-TVZ-01/2026/11/28/F000123.gif",
    "frames/nkc-tvz-01/2026/11/28/F000123.jpg",
    "frames/NKC-TVZ-01/2026/11/F000123.jpg",
    "frames/NKC-TVZ-01/2026/13/28/F000123.jpg",
    "frames/NKC-TVZ-01/2026/02/30/F000123.jpg",
    "uploads/NKC-TVZ-01/2026/11/28/F000123.jpg",
    "frames/NKC-TVZ-01/2026/11/28/../F000123.jpg",
])
def test_a_key_off_the_layout_is_bad_key(key: str) -> None:
    assert rejected(FrameKey.parse, key) is RejectionReason.BAD_KEY


def test_the_key_date_must_be_the_utc_capture_date() -> None:
    key = FrameKey.parse("frames/NKC-TVZ-01/2026/11/27/F000123.jpg")
    metadata = parse_metadata(GOOD, now=NOW)
    assert rejected(check_key_date, key, metadata) is RejectionReason.BAD_KEY
    check_key_date(FrameKey.parse("frames/NKC-TVZ-01/2026/11/28/F000123.jpg"), metadata)


# ------------------------------------------------------------------ the metadata
def test_good_metadata_is_read_with_its_offset() -> None:
    metadata = parse_metadata({**GOOD, "captured-at": "2026-11-28T10:30:12+01:00", "signal-phase": "green",
                               "camera-vendor": "Acme"}, now=NOW)
    assert metadata.captured_at == datetime(2026, 11, 28, 9, 30, 12, tzinfo=UTC)
    assert metadata.violation_type is ViolationType.SPEEDING
    assert (metadata.measured_speed_kmh, metadata.speed_limit_kmh, metadata.lane) == (87, 60, 2)
    assert metadata.camera_vendor == "Acme" and metadata.signal_phase == "GREEN"


def test_names_are_matched_whatever_their_case_or_separator() -> None:
    shouted = {name.upper().replace("-", "_"): value for name, value in GOOD.items()}
    assert parse_metadata(shouted, now=NOW).measured_speed_kmh == 87


@pytest.mark.parametrize("missing", ["captured-at", "violation-type"])
def test_a_missing_required_field_is_missing_metadata(missing: str) -> None:
    raw = {name: value for name, value in GOOD.items() if name != missing}
    with pytest.raises(FrameRejected) as raised:
        parse_metadata(raw, now=NOW)
    assert raised.value.code is RejectionReason.MISSING_METADATA
    assert missing in raised.value.detail


def test_an_empty_value_counts_as_missing() -> None:
    assert rejected(parse_metadata, {**GOOD, "captured-at": "  "}, now=NOW) is RejectionReason.MISSING_METADATA


def test_speeding_needs_a_measured_speed_and_takes_the_posted_limit_when_the_camera_sends_none() -> None:
    no_speed = {k: v for k, v in GOOD.items() if k != "measured-speed-kmh"}
    assert rejected(parse_metadata, no_speed, now=NOW) is RejectionReason.MISSING_METADATA
    no_limit = {k: v for k, v in GOOD.items() if k != "speed-limit-kmh"}
    assert rejected(parse_metadata, no_limit, now=NOW) is RejectionReason.MISSING_METADATA
    assert parse_metadata(no_limit, now=NOW, posted_limit_kmh=50).speed_limit_kmh == 50


def test_red_light_needs_a_red_signal() -> None:
    red_light = {"captured-at": GOOD["captured-at"], "violation-type": "RED_LIGHT"}
    assert rejected(parse_metadata, red_light, now=NOW) is RejectionReason.MISSING_METADATA
    assert rejected(parse_metadata, {**red_light, "signal-phase": "GREEN"}, now=NOW) is RejectionReason.INVALID_METADATA
    assert parse_metadata({**red_light, "signal-phase": "RED"}, now=NOW).signal_phase == "RED"


@pytest.mark.parametrize("override", [
    {"captured-at": "2026-11-28T09:30:12"},  # no offset: which clock?
    {"captured-at": "yesterday"},
    {"violation-type": "JAYWALKING"},
    {"measured-speed-kmh": "fast"},
    {"measured-speed-kmh": "55"},  # not over the 60 limit
    {"lane": "0"},
    {"camera-firmware": "x" * 65},
])
def test_values_that_break_the_contract_are_invalid_metadata(override: dict[str, str]) -> None:
    assert rejected(parse_metadata, {**GOOD, **override}, now=NOW) is RejectionReason.INVALID_METADATA


def test_a_capture_time_ahead_of_the_clock_beyond_the_skew_is_in_the_future() -> None:
    ahead = (NOW + camera_contract.MAX_CLOCK_SKEW + timedelta(seconds=1)).isoformat()
    assert rejected(parse_metadata, {**GOOD, "captured-at": ahead}, now=NOW) is RejectionReason.CAPTURED_IN_FUTURE
    within = (NOW + camera_contract.MAX_CLOCK_SKEW).isoformat()
    assert parse_metadata({**GOOD, "captured-at": within}, now=NOW).captured_at > NOW


# ------------------------------------------------------------------ the bytes
def test_size_limits() -> None:
    assert rejected(check_size, 0) is RejectionReason.EMPTY_FILE
    assert rejected(check_size, camera_contract.MAX_FRAME_BYTES + 1) is RejectionReason.TOO_LARGE
    check_size(camera_contract.MAX_FRAME_BYTES)


@pytest.mark.parametrize(("image_format", "content_type"), [("JPEG", "image/jpeg"), ("PNG", "image/png")])
def test_a_whole_jpeg_or_png_is_an_image(image_format: str, content_type: str) -> None:
    info = inspect_image(picture(image_format))
    assert (info.format, info.width, info.height, info.content_type) == (image_format, 64, 48, content_type)


@pytest.mark.parametrize(("data", "code"), [
    (b"", RejectionReason.EMPTY_FILE),
    (b"%PDF-1.7 not a picture", RejectionReason.NOT_AN_IMAGE),
    (picture("GIF"), RejectionReason.NOT_AN_IMAGE),
    (picture("BMP"), RejectionReason.NOT_AN_IMAGE),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"garbage" * 50, RejectionReason.CORRUPT_IMAGE),
    (picture("JPEG")[:300], RejectionReason.CORRUPT_IMAGE),
    (picture("PNG")[:-20], RejectionReason.CORRUPT_IMAGE),
])
def test_bytes_that_are_not_a_whole_jpeg_or_png_are_rejected(data: bytes, code: RejectionReason) -> None:
    assert rejected(inspect_image, data) is code


def test_too_many_pixels_is_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(camera_contract, "MAX_FRAME_PIXELS", 64 * 48 - 1)
    assert rejected(inspect_image, picture("PNG")) is RejectionReason.TOO_MANY_PIXELS


def test_every_reason_code_is_a_valid_s3_tag_value() -> None:
    for code in RejectionReason:
        tags = camera_contract.rejection_tags(code)
        assert {"Key": "murur-reason", "Value": code.value} in tags
        assert len(code.value) <= 256 and code.value.isupper()
