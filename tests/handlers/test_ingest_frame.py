from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PIL import Image

from murur.workflow import ExecutionStarted

from .conftest import Account, load_function

CAPTURED_AT = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=3)
KEY = f"frames/NKC-TVZ-01/{CAPTURED_AT:%Y/%m/%d}/F000123.jpg"
METADATA = {"captured-at": CAPTURED_AT.isoformat(), "violation-type": "SPEEDING", "measured-speed-kmh": "87",
            "speed-limit-kmh": "60", "lane": "2"}


def jpeg(size: tuple[int, int] = (640, 360)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (90, 120, 150)).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


@pytest.fixture
def ingest(account: Account) -> Any:
    account.bucket("FRAMES_BUCKET")
    account.table("CAMERAS_TABLE")
    account.table("FRAMES_TABLE")
    account.state_machine()
    for camera_id, status in (("NKC-TVZ-01", "ACTIVE"), ("NKC-OLD-09", "RETIRED")):
        account.put("CAMERAS_TABLE", {"camera_id": camera_id, "status": status, "name": "Carrefour Madrid",
                                      "road": "Avenue Gamal Abdel Nasser", "region_code": "00", "latitude": 18.0866,
                                      "longitude": -15.9785, "speed_limit_kmh": 50,
                                      "installed_at": "2025-03-01T08:00:00+00:00"})
    return load_function("ingest_frame")


def upload(account: Account, body: bytes, key: str = KEY, metadata: dict[str, str] | None = None) -> dict[str, Any]:
    s3 = account.client("s3")
    s3.put_object(Bucket="frames-bucket", Key=key, Body=body, Metadata=METADATA if metadata is None else metadata)
    head = s3.head_object(Bucket="frames-bucket", Key=key)
    return {
        "version": "0", "id": "5f1c1e2a-0000-4000-8000-000000000001", "detail-type": "Object Created",
        "source": "aws.s3", "account": "123456789012", "time": "2026-11-28T09:30:14Z", "region": "us-east-1",
        "resources": ["arn:aws:s3:::frames-bucket"],
        "detail": {"version": "0", "bucket": {"name": "frames-bucket"},
                   "object": {"key": key, "size": head["ContentLength"], "etag": head["ETag"].strip('"'),
                              "sequencer": "0062E99A88DC407460"},
                   "request-id": "N4N7GDK58NMKJ12R", "requester": "123456789012", "reason": "PutObject"},
    }


def executions(account: Account) -> list[dict[str, Any]]:
    sfn = account.client("stepfunctions")
    (machine,) = sfn.list_state_machines()["stateMachines"]
    return sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]


def tags(account: Account, key: str = KEY) -> dict[str, str]:
    tag_set = account.client("s3").get_object_tagging(Bucket="frames-bucket", Key=key)["TagSet"]
    return {tag["Key"]: tag["Value"] for tag in tag_set}


def test_a_good_frame_starts_one_execution_with_the_validated_frame(account: Account, ingest: Any, invoke: Any) -> None:
    body = jpeg()
    answer = invoke(ingest, upload(account, body))

    assert answer["status"] == "STARTED"
    (execution,) = executions(account)
    assert answer["execution_arn"] == execution["executionArn"]
    assert len(execution["name"]) <= 80
    document = account.client("stepfunctions").describe_execution(executionArn=execution["executionArn"])["input"]
    frame = ExecutionStarted.model_validate_json(document).frame
    assert frame.frame_id == "NKC-TVZ-01-F000123"
    assert frame.sha256 == hashlib.sha256(body).hexdigest()
    assert (frame.width, frame.height, frame.content_type) == (640, 360, "image/jpeg")
    assert frame.measured_speed_kmh == 87 and frame.speed_limit_kmh == 60 and frame.lane == 2
    (record,) = account.items("FRAMES_TABLE")
    assert record["status"] == "RECEIVED"
    assert record["execution_arn"] == execution["executionArn"]
    assert record["sha256"] == frame.sha256
    assert tags(account) == {}


def test_the_same_event_three_times_starts_one_execution(account: Account, ingest: Any, invoke: Any) -> None:
    event = upload(account, jpeg())
    answers = [invoke(ingest, event)["status"] for _ in range(3)]
    assert answers == ["STARTED", "DUPLICATE", "DUPLICATE"]
    assert len(executions(account)) == 1
    assert len(account.items("FRAMES_TABLE")) == 1


def test_a_delivery_interrupted_before_starting_is_completed_by_the_redelivery(
        account: Account, ingest: Any, invoke: Any) -> None:
    event = upload(account, jpeg())
    executions_gateway = ingest.ingestor()._executions
    original_start = executions_gateway.start
    executions_gateway.start = lambda *args: (_ for _ in ()).throw(ConnectionError("lost"))
    with pytest.raises(ConnectionError):
        invoke(ingest, event)
    executions_gateway.start = original_start
    assert invoke(ingest, event)["status"] == "STARTED"
    assert invoke(ingest, event)["status"] == "DUPLICATE"
    assert len(executions(account)) == 1


SPEEDING_WITHOUT_SPEED = {name: value for name, value in METADATA.items() if name != "measured-speed-kmh"}


@pytest.mark.parametrize(
    ("body", "key", "metadata", "code"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"not really a picture" * 20, KEY, METADATA, "CORRUPT_IMAGE"),
        (jpeg()[:400], KEY, METADATA, "CORRUPT_IMAGE"),
        (b"", KEY, METADATA, "EMPTY_FILE"),
        (b"GIF89a" + b"\x00" * 100, KEY, METADATA, "NOT_AN_IMAGE"),
        (None, KEY.replace("NKC-TVZ-01", "NKC-NOPE-77"), METADATA, "UNKNOWN_CAMERA"),
        (None, KEY.replace("NKC-TVZ-01", "NKC-OLD-09"), METADATA, "RETIRED_CAMERA"),
        (None, KEY, {k: v for k, v in METADATA.items() if k != "captured-at"}, "MISSING_METADATA"),
        (None, KEY, SPEEDING_WITHOUT_SPEED, "MISSING_METADATA"),
        (None, KEY, {**METADATA, "violation-type": "JAYWALKING"}, "INVALID_METADATA"),
        (None, KEY, {**METADATA, "captured-at": "2026-11-28 09:30:12"}, "INVALID_METADATA"),
        (None, KEY, {**METADATA, "captured-at": (datetime.now(UTC) + timedelta(hours=2)).isoformat()},
         "CAPTURED_IN_FUTURE"),
        (None, "frames/nkc/F1.jpg", METADATA, "BAD_KEY"),
    ],
    ids=["corrupt-jpeg", "truncated-jpeg", "zero-bytes", "gif", "unknown-camera", "retired-camera",
         "missing-captured-at", "speeding-without-speed", "unknown-violation-type", "naive-time", "future",
         "bad-key"],
)
def test_a_bad_upload_is_rejected_recorded_and_tagged_and_nothing_else_happens(
        account: Account, ingest: Any, invoke: Any, body: bytes | None, key: str, metadata: dict[str, str],
        code: str) -> None:
    answer = invoke(ingest, upload(account, jpeg() if body is None else body, key, metadata))

    assert answer["status"] == "REJECTED"
    assert answer["reason_code"] == code
    assert executions(account) == []
    (record,) = account.items("FRAMES_TABLE")
    assert record["status"] == "REJECTED"
    assert record["reason_code"] == code
    assert record["reason"]
    assert record["key"] == key
    assert tags(account, key) == {"murur-status": "rejected", "murur-reason": code}
    assert account.client("s3").get_object(Bucket="frames-bucket", Key=key)["Body"].read() == (
        jpeg() if body is None else body)


def test_rejections_are_listed_newest_first_with_their_reasons(account: Account, ingest: Any, invoke: Any) -> None:
    from murur.frames import FramesRepository, FrameStatus

    invoke(ingest, upload(account, b"", KEY.replace("F000123", "F1")))
    invoke(ingest, upload(account, jpeg(), KEY.replace("F000123", "F2"), {}))
    invoke(ingest, upload(account, jpeg(), KEY.replace("F000123", "F3")))
    frames = FramesRepository(account.client("dynamodb"), "frames-table")
    rejected = frames.with_status(FrameStatus.REJECTED)
    assert [(r["frame_id"], r["reason_code"]) for r in sorted(rejected, key=lambda r: r["frame_id"])] == [
        ("NKC-TVZ-01-F1", "EMPTY_FILE"), ("NKC-TVZ-01-F2", "MISSING_METADATA")]
    assert [r["received_at"] for r in rejected] == sorted((r["received_at"] for r in rejected), reverse=True)
    assert [r["frame_id"] for r in frames.with_status(FrameStatus.RECEIVED)] == ["NKC-TVZ-01-F3"]
    assert frames.with_status(FrameStatus.REJECTED, since=datetime.now(UTC) + timedelta(days=1)) == []


def test_a_rejected_frame_re_uploaded_with_its_metadata_fixed_is_accepted(
        account: Account, ingest: Any, invoke: Any) -> None:
    body = jpeg()
    missing = {k: v for k, v in METADATA.items() if k != "captured-at"}
    assert invoke(ingest, upload(account, body, metadata=missing))["status"] == "REJECTED"
    assert invoke(ingest, upload(account, body))["status"] == "STARTED"
    (record,) = account.items("FRAMES_TABLE")
    assert record["status"] == "RECEIVED"
    assert len(executions(account)) == 1


def test_underscored_metadata_names_are_read_as_dashes(account: Account, ingest: Any, invoke: Any) -> None:
    underscored = {name.replace("-", "_"): value for name, value in METADATA.items()}
    assert invoke(ingest, upload(account, jpeg(), metadata=underscored))["status"] == "STARTED"


def test_an_event_that_is_not_an_s3_event_is_refused(account: Account, ingest: Any, invoke: Any) -> None:
    with pytest.raises(Exception, match="validation error"):
        invoke(ingest, {"detail-type": "Object Created", "detail": json.dumps({})})
    assert account.items("FRAMES_TABLE") == []


def test_an_object_deleted_before_its_event_arrives_is_recorded_as_not_found(
        account: Account, ingest: Any, invoke: Any) -> None:
    event = upload(account, jpeg())
    account.client("s3").delete_object(Bucket="frames-bucket", Key=KEY)
    answer = invoke(ingest, event)
    assert (answer["status"], answer["reason_code"]) == ("REJECTED", "OBJECT_NOT_FOUND")
    (record,) = account.items("FRAMES_TABLE")
    assert (record["status"], record["key"]) == ("REJECTED", KEY)
    assert executions(account) == []


def test_an_event_for_an_overwritten_object_leaves_the_frame_to_the_newer_upload(
        account: Account, ingest: Any, invoke: Any) -> None:
    stale = upload(account, jpeg((640, 360)))
    fresh = upload(account, jpeg((800, 450)))
    assert invoke(ingest, stale)["status"] == "SUPERSEDED"
    assert account.items("FRAMES_TABLE") == []
    assert invoke(ingest, fresh)["status"] == "STARTED"
    (record,) = account.items("FRAMES_TABLE")
    assert record["width"] == 800


def test_a_key_that_already_holds_an_accepted_frame_is_not_taken_over(
        account: Account, ingest: Any, invoke: Any) -> None:
    assert invoke(ingest, upload(account, jpeg((640, 360))))["status"] == "STARTED"
    answer = invoke(ingest, upload(account, jpeg((800, 450))))
    assert answer["status"] == "DUPLICATE"
    (record,) = account.items("FRAMES_TABLE")
    assert record["width"] == 640 and record["status"] == "RECEIVED"
    assert len(executions(account)) == 1
