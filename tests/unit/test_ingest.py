"""FrameIngestor with in-memory stand-ins for the bucket, the tables and Step Functions."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime
from typing import Any

from PIL import Image

from murur.cameras import Camera
from murur.frames import ObjectHead, Rejection
from murur.ingest import FrameIngestor, IngestStatus
from murur.workflow import ExecutionStarted, FrameRef

NOW = datetime(2026, 11, 28, 9, 31, tzinfo=UTC)
KEY = "frames/NKC-TVZ-01/2026/11/28/F000123.jpg"
METADATA = {"captured-at": "2026-11-28T09:30:12Z", "violation-type": "SPEEDING", "measured-speed-kmh": "87"}


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 180), (1, 2, 3)).save(buffer, "JPEG")
    return buffer.getvalue()


class Bucket:
    def __init__(self, data: bytes, metadata: dict[str, str]) -> None:
        self.data, self.metadata, self.tags = data, metadata, {}

    @property
    def etag(self) -> str:
        return hashlib.md5(self.data).hexdigest()  # noqa: S324 - S3's ETag of a single-part upload

    def head(self, bucket: str, key: str) -> ObjectHead:
        return ObjectHead(len(self.data), self.etag, NOW, self.metadata)

    def read(self, bucket: str, key: str, etag: str) -> bytes:
        return self.data

    def tag_rejected(self, bucket: str, key: str, code: Any) -> None:
        self.tags[key] = code


class Frames:
    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.before_write = lambda: None

    def get(self, frame_id: str) -> dict[str, Any] | None:
        return self.records.get(frame_id)

    def record_received(self, frame: FrameRef) -> bool:
        self.before_write()
        if frame.frame_id in self.records and self.records[frame.frame_id]["status"] != "REJECTED":
            return False
        self.records[frame.frame_id] = {**frame.model_dump(mode="json"), "status": "RECEIVED"}
        return True

    def record_rejected(self, rejection: Rejection) -> bool:
        self.records[rejection.frame_id] = {"frame_id": rejection.frame_id, "status": "REJECTED",
                                            "reason_code": rejection.code.value, "etag": rejection.etag}
        return True

    def set_execution(self, frame_id: str, execution_arn: str) -> None:
        self.records[frame_id]["execution_arn"] = execution_arn


class Cameras:
    def get(self, camera_id: str) -> Camera | None:
        if camera_id != "NKC-TVZ-01":
            return None
        return Camera(camera_id=camera_id, status="ACTIVE", name="Carrefour Madrid", road="Avenue Gamal Abdel Nasser",
                      region_code="00", latitude=18.0866, longitude=-15.9785, speed_limit_kmh=60)


class Executions:
    def __init__(self) -> None:
        self.started: dict[str, ExecutionStarted] = {}

    def start(self, name: str, document: ExecutionStarted) -> str:
        self.started.setdefault(name, document)
        return f"arn:aws:states:us-east-1:123456789012:execution:pipeline:{name}"


def ingestor(bucket: Bucket, frames: Frames, executions: Executions) -> FrameIngestor:
    return FrameIngestor(bucket, frames, Cameras(), executions, clock=lambda: NOW)  # type: ignore[arg-type]


def test_the_frame_carries_the_camera_place_and_the_posted_limit() -> None:
    bucket, frames, executions = Bucket(jpeg(), METADATA), Frames(), Executions()
    outcome = ingestor(bucket, frames, executions).ingest("frames", KEY, f'"{bucket.etag}"')
    assert outcome.status is IngestStatus.STARTED
    (document,) = executions.started.values()
    frame = document.frame
    assert frame.speed_limit_kmh == 60  # the camera sent none: the posted limit applies
    assert frame.place == "Carrefour Madrid, Avenue Gamal Abdel Nasser" and frame.region_code == "00"
    assert frame.sha256 == hashlib.sha256(bucket.data).hexdigest()


def test_a_delivery_that_loses_the_race_follows_the_winner() -> None:
    bucket, frames, executions = Bucket(jpeg(), METADATA), Frames(), Executions()
    winner = ingestor(bucket, frames, executions)

    def the_other_delivery_writes_first() -> None:
        frames.before_write = lambda: None
        winner.ingest("frames", KEY, bucket.etag)

    frames.before_write = the_other_delivery_writes_first
    outcome = ingestor(bucket, frames, executions).ingest("frames", KEY, bucket.etag)
    assert outcome.status is IngestStatus.DUPLICATE
    assert len(executions.started) == 1
    assert outcome.execution_arn == frames.records["NKC-TVZ-01-F000123"]["execution_arn"]


def test_an_unknown_camera_is_rejected_before_its_bytes_are_read() -> None:
    bucket, frames = Bucket(b"", METADATA), Frames()
    outcome = ingestor(bucket, frames, Executions()).ingest("frames", KEY.replace("NKC-TVZ-01", "NKC-NOPE-77"), bucket.etag)
    assert (outcome.status, outcome.reason_code) == (IngestStatus.REJECTED, "UNKNOWN_CAMERA")
    assert list(bucket.tags.values()) == ["UNKNOWN_CAMERA"]
