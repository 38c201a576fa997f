"""From an uploaded object to exactly one execution of the frame pipeline, or a recorded rejection.

S3 delivers "Object Created" at least once. The execution name is derived from bucket/key/ETag and
the frame record is written first-delivery-wins, so a redelivered event (or a second notification of
the same object) can neither start a second execution nor change what the first one recorded.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from murur.camera_contract import (
    FrameKey,
    FrameRejected,
    RejectionReason,
    check_key_date,
    check_size,
    inspect_image,
    parse_metadata,
)
from murur.cameras import CameraDirectory, CameraStatus
from murur.frames import FramesRepository, FrameStatus, FrameStore, ObjectHead, Rejection, frame_ref, sha256_hex
from murur.sections import SectionDirectory
from murur.workflow import ExecutionStarted, FrameRef, ViolationType

EXECUTION_NAME_MAX = 80
_DIGEST_CHARS = 20


class IngestStatus(StrEnum):
    STARTED = "STARTED"  # this delivery started the frame's execution
    DUPLICATE = "DUPLICATE"  # the frame's execution was already started by an earlier delivery
    REJECTED = "REJECTED"  # the upload breaks the camera contract: recorded and tagged
    SUPERSEDED = "SUPERSEDED"  # the object was overwritten since this event; the newer upload has its own


@dataclass(frozen=True)
class IngestOutcome:
    status: IngestStatus
    frame_id: str
    execution_arn: str | None = None
    reason_code: str | None = None
    reason: str | None = None

    def answer(self) -> dict[str, Any]:
        return {name: value for name, value in vars(self).items() if value is not None}


def execution_name(bucket: str, key: str, etag: str, frame_id: str) -> str:
    """Readable (the frame id) and unique per object version (a digest of bucket/key/ETag), <= 80 chars."""
    digest = hashlib.sha256(f"{bucket}/{key}/{etag}".encode()).hexdigest()[:_DIGEST_CHARS]
    readable = re.sub(r"[^A-Za-z0-9_-]", "-", frame_id)[: EXECUTION_NAME_MAX - _DIGEST_CHARS - 1]
    return f"{readable}-{digest}"


def unparsed_frame_id(key: str) -> str:
    """The record id of an object whose key says no camera or frame: stable per key."""
    return f"UNPARSED-{hashlib.sha256(key.encode()).hexdigest()[:24]}"


class ExecutionStarter:
    """Starts the frame pipeline; a name already used means that execution exists, which is success."""

    def __init__(self, stepfunctions: Any, state_machine_arn: str) -> None:
        self._sfn = stepfunctions
        self._state_machine_arn = state_machine_arn

    def start(self, name: str, document: ExecutionStarted) -> str:
        try:
            return self._sfn.start_execution(
                stateMachineArn=self._state_machine_arn, name=name, input=document.model_dump_json()
            )["executionArn"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
                raise
        prefix, machine = self._state_machine_arn.split(":stateMachine:", 1)
        return f"{prefix}:execution:{machine}:{name}"


class FrameIngestor:
    def __init__(
        self,
        store: FrameStore,
        frames: FramesRepository,
        cameras: CameraDirectory,
        executions: ExecutionStarter,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sections: SectionDirectory | None = None,
    ) -> None:
        """`sections`: where a section camera's passages are checked to belong (murur.sections); without
        it, SECTION_SPEEDING passages are refused."""
        self._store = store
        self._frames = frames
        self._cameras = cameras
        self._executions = executions
        self._clock = clock
        self._sections = sections

    def ingest(self, bucket: str, key: str, etag: str) -> IngestOutcome:
        etag = etag.strip('"')
        try:
            frame_key = FrameKey.parse(key)
        except FrameRejected as rejected:
            return self._reject(Rejection(unparsed_frame_id(key), bucket, key, etag, rejected.code, rejected.detail,
                                          self._clock()))
        frame_id = frame_key.frame_id
        existing = self._frames.get(frame_id)
        if existing is not None and existing.get("etag") == etag and existing.get("status") != FrameStatus.REJECTED:
            return self._redelivered(existing)

        head = self._store.head(bucket, key)
        if head is None:
            return self._reject(Rejection(frame_id, bucket, key, etag, RejectionReason.OBJECT_NOT_FOUND,
                                          "the object was deleted before it could be checked", self._clock(),
                                          camera_id=frame_key.camera_id), tag=False)
        if head.etag != etag:
            return IngestOutcome(IngestStatus.SUPERSEDED, frame_id)
        try:
            frame = self._validate(bucket, key, frame_key, head)
        except FrameRejected as rejected:
            return self._reject(Rejection(frame_id, bucket, key, etag, rejected.code, rejected.detail,
                                          head.last_modified, camera_id=frame_key.camera_id,
                                          size_bytes=head.size_bytes))
        if not self._frames.record_received(frame):
            # Another delivery recorded this frame first; follow what it recorded.
            winner = self._frames.get(frame_id)
            if winner is not None and winner.get("etag") == etag:
                return self._redelivered(winner)
            return IngestOutcome(IngestStatus.DUPLICATE, frame_id, reason="the key already holds an accepted frame")
        return self._start(frame)

    def _validate(self, bucket: str, key: str, frame_key: FrameKey, head: ObjectHead) -> FrameRef:
        camera = self._cameras.get(frame_key.camera_id)
        if camera is None:
            raise FrameRejected(RejectionReason.UNKNOWN_CAMERA, f"camera {frame_key.camera_id} is not registered")
        if camera.status != CameraStatus.ACTIVE:
            raise FrameRejected(RejectionReason.RETIRED_CAMERA,
                                f"camera {frame_key.camera_id} is not active (status {camera.status})")
        metadata = parse_metadata(head.metadata, now=self._clock(), posted_limit_kmh=camera.speed_limit_kmh)
        check_key_date(frame_key, metadata)
        if metadata.violation_type is ViolationType.SECTION_SPEEDING and (
                self._sections is None or self._sections.for_camera(frame_key.camera_id) is None):
            # Refused here rather than after an officer has spent a review on a passage nobody can pair.
            raise FrameRejected(RejectionReason.NOT_A_SECTION_CAMERA,
                                f"camera {frame_key.camera_id} is in no active section: it cannot send "
                                f"{ViolationType.SECTION_SPEEDING.value} passages")
        check_size(head.size_bytes)
        data = self._store.read(bucket, key, head.etag)
        image = inspect_image(data)
        return FrameRef(
            frame_id=frame_key.frame_id,
            bucket=bucket,
            key=key,
            etag=head.etag,
            sha256=sha256_hex(data),
            size_bytes=len(data),
            width=image.width,
            height=image.height,
            content_type=image.content_type,
            camera_id=frame_key.camera_id,
            captured_at=metadata.captured_at,
            received_at=head.last_modified,
            violation_type=metadata.violation_type,
            measured_speed_kmh=metadata.measured_speed_kmh,
            speed_limit_kmh=metadata.speed_limit_kmh,
            lane=metadata.lane,
            signal_phase=metadata.signal_phase.value if metadata.signal_phase else None,
            place=camera.place,
            region_code=camera.region_code,
            latitude=camera.latitude,
            longitude=camera.longitude,
        )

    def _redelivered(self, record: dict[str, Any]) -> IngestOutcome:
        frame_id = record["frame_id"]
        if record.get("execution_arn"):
            return IngestOutcome(IngestStatus.DUPLICATE, frame_id, execution_arn=record["execution_arn"])
        # The earlier delivery recorded the frame but stopped before starting its execution.
        return self._start(frame_ref(record))

    def _start(self, frame: FrameRef) -> IngestOutcome:
        name = execution_name(frame.bucket, frame.key, frame.etag, frame.frame_id)
        execution_arn = self._executions.start(name, ExecutionStarted(frame=frame))
        self._frames.set_execution(frame.frame_id, execution_arn)
        return IngestOutcome(IngestStatus.STARTED, frame.frame_id, execution_arn=execution_arn)

    def _reject(self, rejection: Rejection, *, tag: bool = True) -> IngestOutcome:
        self._frames.record_rejected(rejection)
        if tag:
            self._store.tag_rejected(rejection.bucket, rejection.key, rejection.code)
        return IngestOutcome(IngestStatus.REJECTED, rejection.frame_id, reason_code=rejection.code.value,
                             reason=rejection.reason)
