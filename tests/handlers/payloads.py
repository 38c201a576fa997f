"""Workflow payloads for handler tests, built the way the earlier states would have built them."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime

from PIL import Image, ImageDraw

from murur.workflow import (
    Decision,
    FrameRef,
    IssueInput,
    PlateReadPayload,
    RecognitionResult,
    ReviewDecision,
    ViolationType,
)

from .conftest import Account

CAPTURED_AT = datetime(2026, 11, 28, 9, 30, 12, tzinfo=UTC)
EXECUTION_ARN = "arn:aws:states:us-east-1:123456789012:execution:pipeline:NKC-TVZ-01-F000123-abc"
PLATE_BOX = (260, 210, 380, 240)


def frame_jpeg() -> bytes:
    picture = Image.new("RGB", (640, 360), (70, 80, 90))
    ImageDraw.Draw(picture).rectangle(PLATE_BOX, fill=(240, 240, 240))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def stored_frame(account: Account, *, violation_type: ViolationType = ViolationType.SPEEDING,
                 measured: float | None = 87, limit: float | None = 60, body: bytes | None = None) -> FrameRef:
    """A frame as ingest_frame accepted it: the object in the frames bucket and its record."""
    body = frame_jpeg() if body is None else body
    key = f"frames/NKC-TVZ-01/{CAPTURED_AT:%Y/%m/%d}/F000123.jpg"
    s3 = account.client("s3")
    s3.put_object(Bucket="frames-bucket", Key=key, Body=body)
    frame = FrameRef(
        frame_id="NKC-TVZ-01-F000123", bucket="frames-bucket", key=key,
        etag=s3.head_object(Bucket="frames-bucket", Key=key)["ETag"].strip('"'),
        sha256=hashlib.sha256(body).hexdigest(), size_bytes=len(body), width=640, height=360,
        content_type="image/jpeg", camera_id="NKC-TVZ-01", captured_at=CAPTURED_AT, received_at=CAPTURED_AT,
        violation_type=violation_type, measured_speed_kmh=measured, speed_limit_kmh=limit, lane=1,
        place="Carrefour Madrid, Avenue Gamal Abdel Nasser", region_code="00", latitude=18.0866, longitude=-15.9785,
    )
    account.put("FRAMES_TABLE", {**frame.model_dump(mode="json"), "status": "RECEIVED"})
    return frame


def recognition(plate: str, confidence: float = 0.97, decision: Decision = Decision.CONFIDENT) -> RecognitionResult:
    read = PlateReadPayload(text=plate, confidence=confidence, char_confidences=[confidence] * len(plate),
                            box=PLATE_BOX, layout="mr_civil", model_version="test-model-1")
    return RecognitionResult(decision=decision, best=read, plates=[read], threshold=0.9, model_version="test-model-1")


def issue_input(frame: FrameRef, plate: str, review: ReviewDecision | None = None) -> dict:
    state = IssueInput(frame=frame, execution_arn=EXECUTION_ARN, recognition=recognition(plate), review=review)
    return state.model_dump(mode="json") | {"review_timeout_seconds": 259200}
