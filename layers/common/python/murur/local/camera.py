"""Frames as a camera uploads them: a synthetic scene, its S3 key and its metadata.

The demo, the CLI and the end-to-end tests build uploads here, following the camera contract
(docs/CAMERA_CONTRACT.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from murur.camera_contract import CameraMetadata
from murur.workflow import ViolationType


@dataclass(frozen=True)
class CameraUpload:
    key: str
    body: bytes
    metadata: dict[str, str]
    content_type: str = "image/jpeg"


def frame_key(camera_id: str, captured_at: datetime, vendor_frame_id: str, extension: str = "jpg") -> str:
    return f"frames/{camera_id}/{captured_at:%Y/%m/%d}/{vendor_frame_id}.{extension}"


def camera_metadata(
    captured_at: datetime,
    violation_type: ViolationType = ViolationType.SPEEDING,
    *,
    measured_speed_kmh: float | None = None,
    speed_limit_kmh: float | None = None,
    lane: int | None = None,
    signal_phase: str | None = None,
) -> dict[str, str]:
    """The S3 user metadata a camera sends (names as in murur.camera_contract.CameraMetadata)."""
    metadata = CameraMetadata.model_validate({
        "captured-at": captured_at,
        "violation-type": violation_type,
        "measured-speed-kmh": measured_speed_kmh,
        "speed-limit-kmh": speed_limit_kmh,
        "lane": lane,
        "signal-phase": signal_phase,
    })
    return {name: str(value) for name, value in metadata.model_dump(mode="json", by_alias=True, exclude_none=True).items()}


def scene_jpeg(seed: int, plates: list[str], *, size: tuple[int, int] = (1280, 720), clean: bool = False) -> bytes:
    """A road scene showing these plate texts (none: a scene without a readable plate)."""
    from murur.alpr.synth import PlateSpec, compose_scene

    rng = np.random.default_rng(seed)
    scene = compose_scene(rng, [PlateSpec.for_text(text) for text in plates], size=size, clean=clean)
    return scene.to_jpeg(quality=90)


def scene_upload(
    camera_id: str,
    vendor_frame_id: str,
    captured_at: datetime,
    plates: list[str],
    *,
    seed: int,
    violation_type: ViolationType = ViolationType.SPEEDING,
    clean: bool = False,
    size: tuple[int, int] = (1280, 720),
    **sensor: float | int | str | None,
) -> CameraUpload:
    if violation_type is ViolationType.SPEEDING:
        sensor.setdefault("measured_speed_kmh", 87.0)
        sensor.setdefault("speed_limit_kmh", 60.0)
    if violation_type is ViolationType.RED_LIGHT:
        sensor.setdefault("signal_phase", "RED")
    sensor.setdefault("lane", 1)
    return CameraUpload(
        key=frame_key(camera_id, captured_at, vendor_frame_id),
        body=scene_jpeg(seed, plates, size=size, clean=clean),
        metadata=camera_metadata(captured_at, violation_type, **sensor),  # type: ignore[arg-type]
    )
