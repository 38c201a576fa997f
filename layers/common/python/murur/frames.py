"""Frames: the FramesTable record of every upload, and the frame objects in the frames bucket."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from murur.camera_contract import RejectionReason, rejection_tags
from murur.dynamo import from_item, iso_time, to_item, to_values, write_if
from murur.errors import FrameChanged, FrameNotFound
from murur.workflow import FrameRef


class FrameStatus(StrEnum):
    RECEIVED = "RECEIVED"
    REJECTED = "REJECTED"
    UNREADABLE = "UNREADABLE"
    REVIEW_PENDING = "REVIEW_PENDING"
    DISCARDED = "DISCARDED"
    REVIEW_EXPIRED = "REVIEW_EXPIRED"
    VIOLATION_ISSUED = "VIOLATION_ISSUED"
    UNKNOWN_PLATE = "UNKNOWN_PLATE"
    SECTION_PASSAGE = "SECTION_PASSAGE"  # a section camera's passage that is (so far) no offence: murur.sections
    FAILED = "FAILED"


@dataclass(frozen=True)
class Rejection:
    """A rejected upload as recorded: enough to find the object and tell the vendor why."""

    frame_id: str
    bucket: str
    key: str
    etag: str
    code: RejectionReason
    reason: str
    received_at: datetime
    camera_id: str | None = None
    size_bytes: int | None = None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FramesRepository:
    """FramesTable. The first delivery of an object wins; a rejection never overwrites an accepted frame."""

    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table = table_name

    def get(self, frame_id: str) -> dict[str, Any] | None:
        item = self._dynamodb.get_item(TableName=self._table, Key={"frame_id": {"S": frame_id}}, ConsistentRead=True).get("Item")
        return from_item(item) if item else None

    def record_received(self, frame: FrameRef) -> bool:
        """Store an accepted frame; False when this frame is already recorded (a redelivery, or a race).

        A corrected re-upload may replace an earlier rejection of the same key (fixing only the
        metadata keeps the ETag: the ETag is a digest of the bytes alone).
        """
        item = {**frame.model_dump(mode="json"), "status": FrameStatus.RECEIVED, "updated_at": frame.received_at}
        return self._put_if(
            item,
            "attribute_not_exists(frame_id) OR #status = :rejected",
            {":rejected": FrameStatus.REJECTED.value},
        )

    def record_rejected(self, rejection: Rejection) -> bool:
        item = {
            "frame_id": rejection.frame_id,
            "status": FrameStatus.REJECTED,
            "reason_code": rejection.code,
            "reason": rejection.reason,
            "bucket": rejection.bucket,
            "key": rejection.key,
            "etag": rejection.etag,
            "camera_id": rejection.camera_id,
            "size_bytes": rejection.size_bytes,
            "received_at": rejection.received_at,
            "updated_at": rejection.received_at,
        }
        return self._put_if(
            item, "attribute_not_exists(frame_id) OR #status = :rejected", {":rejected": FrameStatus.REJECTED.value}
        )

    def with_status(self, status: FrameStatus, *, since: datetime | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Frames in one status, newest first (status-index: status, received_at): e.g. the rejections."""
        condition, values = "#status = :status", {":status": status.value}
        if since is not None:
            condition += " AND received_at >= :since"
            values[":since"] = iso_time(since)
        response = self._dynamodb.query(
            TableName=self._table, IndexName="status-index", KeyConditionExpression=condition,
            ExpressionAttributeNames={"#status": "status"}, ExpressionAttributeValues=to_values(values),
            ScanIndexForward=False, Limit=limit,
        )
        return [from_item(item) for item in response["Items"]]

    def set_execution(self, frame_id: str, execution_arn: str) -> None:
        self._dynamodb.update_item(
            TableName=self._table,
            Key={"frame_id": {"S": frame_id}},
            UpdateExpression="SET execution_arn = :arn",
            ExpressionAttributeValues=to_values({":arn": execution_arn}),
        )

    def set_status(self, frame_id: str, status: FrameStatus, at: datetime, **attributes: Any) -> None:
        values = {"status": status.value, "updated_at": at, **attributes}
        names = {f"#{index}": name for index, name in enumerate(values)}
        self._dynamodb.update_item(
            TableName=self._table,
            Key={"frame_id": {"S": frame_id}},
            UpdateExpression="SET " + ", ".join(f"#{index} = :{index}" for index in range(len(values))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=to_values({f":{index}": value for index, value in enumerate(values.values())}),
        )

    def _put_if(self, item: dict[str, Any], condition: str, values: dict[str, Any]) -> bool:
        return write_if(
            self._dynamodb.put_item,
            TableName=self._table,
            Item=to_item(item),
            ConditionExpression=condition,
            ExpressionAttributeNames={"#status": "status"} if "#status" in condition else {},
            ExpressionAttributeValues=to_values(values),
        )


def frame_ref(record: dict[str, Any]) -> FrameRef:
    """The FrameRef an accepted frame's record was written from."""
    return FrameRef.model_validate(record)


@dataclass(frozen=True)
class ObjectHead:
    size_bytes: int
    etag: str
    last_modified: datetime
    metadata: dict[str, str]


class FrameStore:
    """The frames bucket."""

    def __init__(self, s3: Any) -> None:
        self._s3 = s3

    def head(self, bucket: str, key: str) -> ObjectHead | None:
        try:
            head = self._s3.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        return ObjectHead(head["ContentLength"], head["ETag"].strip('"'), head["LastModified"], head.get("Metadata", {}))

    def read(self, bucket: str, key: str, etag: str) -> bytes:
        """The object's bytes, only if it is still the version with this ETag."""
        try:
            return self._s3.get_object(Bucket=bucket, Key=key, IfMatch=f'"{etag}"')["Body"].read()
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code in {"NoSuchKey", "404"}:
                raise FrameNotFound(f"s3://{bucket}/{key} is gone") from error
            if code in {"PreconditionFailed", "412"}:
                raise FrameChanged(f"s3://{bucket}/{key} was replaced after it was validated") from error
            raise

    def read_frame(self, frame: FrameRef) -> bytes:
        """The validated frame's bytes; FrameChanged if they are not the ones ingest_frame hashed."""
        data = self.read(frame.bucket, frame.key, frame.etag)
        if sha256_hex(data) != frame.sha256:
            raise FrameChanged(f"s3://{frame.bucket}/{frame.key} no longer has the SHA-256 recorded at ingestion")
        return data

    def tag_rejected(self, bucket: str, key: str, code: RejectionReason) -> None:
        self._s3.put_object_tagging(Bucket=bucket, Key=key, Tagging={"TagSet": rejection_tags(code)})
