"""Human review of unsure reads: the stored request (ReviewsTable) and an officer's decision.

RequestReview stores the request with the task token of the waiting execution, and a crop of the
plate beside the frame (FramesBucket, reviews/{frame_id}/plate.jpg) for the officer to compare the
read with. An officer's decision marks it DECIDED (only while PENDING, so two officers cannot both
decide) and resumes the execution with SendTaskSuccess carrying the ReviewDecision. A discard is a
decision too (the execution records the frame DISCARDED), so SendTaskFailure is never sent: a
failed task would end in RecordFailure, marking a correctly handled frame FAILED.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from murur.dynamo import from_item, is_conditional_check_failure, to_item, to_values, write_if
from murur.evidence import plate_crop
from murur.frames import FramesRepository, FrameStatus, FrameStore
from murur.registry import normalise_plate
from murur.workflow import FrameRef, ReviewDecision, ReviewOutcome, ReviewRequestInput

# What SendTaskSuccess answers when the waiting task is gone: it timed out (ReviewTimeoutSeconds) or
# its execution ended. The review has expired even if ExpireReview has not yet closed it.
_TASK_GONE = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})
PRESIGNED_URL_SECONDS = 300


class ReviewStatus(StrEnum):
    PENDING = "PENDING"
    DECIDED = "DECIDED"
    EXPIRED = "EXPIRED"


class ReviewNotPending(LookupError):
    """No pending review for this frame: never requested, already decided, or expired."""


class ReviewExpired(ReviewNotPending):
    """The execution stopped waiting (ReviewTimeoutSeconds) before the decision reached it."""


class InvalidDecision(ValueError):
    """The decision is incomplete (a correction without the right plate)."""


class ReviewsRepository:
    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table = table_name

    def request(self, request: ReviewRequestInput, requested_at: datetime, plate_crop_key: str | None = None) -> bool:
        """Store (or, on a retried task, refresh the token of) the pending request; False if already decided."""
        state = request.state
        item = {
            "plate_crop_key": plate_crop_key,
            "frame_id": state.frame.frame_id,
            "status": ReviewStatus.PENDING,
            "task_token": request.task_token,
            "requested_at": requested_at,
            "execution_arn": state.execution_arn,
            "camera_id": state.frame.camera_id,
            "violation_type": state.frame.violation_type,
            "state": state.model_dump(mode="json"),
        }
        return write_if(
            self._dynamodb.put_item,
            TableName=self._table,
            Item=to_item(item),
            ConditionExpression="attribute_not_exists(frame_id) OR #status = :pending",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_values({":pending": ReviewStatus.PENDING.value}),
        )

    def get(self, frame_id: str) -> dict[str, Any] | None:
        item = self._dynamodb.get_item(TableName=self._table, Key={"frame_id": {"S": frame_id}},
                                       ConsistentRead=True).get("Item")
        return from_item(item) if item else None

    def pending(self, limit: int = 50) -> list[dict[str, Any]]:
        """The officers' queue, oldest first."""
        response = self._dynamodb.query(
            TableName=self._table, IndexName="status-index", KeyConditionExpression="#status = :pending",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_values({":pending": ReviewStatus.PENDING.value}),
            ScanIndexForward=True, Limit=limit,
        )
        return [from_item(item) for item in response["Items"]]

    def mark_expired(self, frame_id: str) -> None:
        """A decision recorded too late (the task was gone): the review expired, as ExpireReview says."""
        write_if(
            self._dynamodb.update_item,
            TableName=self._table,
            Key={"frame_id": {"S": frame_id}},
            UpdateExpression="SET #status = :expired",
            ConditionExpression="#status = :decided",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_values({":expired": ReviewStatus.EXPIRED.value,
                                                 ":decided": ReviewStatus.DECIDED.value}),
        )

    def mark_decided(self, frame_id: str, decision: ReviewDecision) -> dict[str, Any]:
        """Record the decision if the review is still pending; returns the decided review (task token,
        execution ARN ...)."""
        try:
            updated = self._dynamodb.update_item(
                TableName=self._table,
                Key={"frame_id": {"S": frame_id}},
                UpdateExpression="SET #status = :decided, decision = :decision, decided_at = :at, reviewer = :reviewer",
                ConditionExpression="#status = :pending",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_values({
                    ":decided": ReviewStatus.DECIDED.value, ":pending": ReviewStatus.PENDING.value,
                    ":decision": decision.model_dump(mode="json"), ":at": decision.decided_at,
                    ":reviewer": decision.reviewer,
                }),
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if is_conditional_check_failure(error):
                raise ReviewNotPending(frame_id) from error
            raise
        return from_item(updated["Attributes"])


def make_decision(outcome: ReviewOutcome | str, *, reviewer: str, decided_at: datetime,
                  plate_text: str | None = None) -> ReviewDecision:
    outcome = ReviewOutcome(str(outcome).upper())
    plate = normalise_plate(plate_text) if plate_text else None
    if outcome is ReviewOutcome.CORRECTED and not plate:
        raise InvalidDecision("a correction needs the right plate")
    if outcome is ReviewOutcome.DISCARDED:
        plate = None
    return ReviewDecision(outcome=outcome, plate_text=plate, reviewer=reviewer, decided_at=decided_at)


def decide_review(reviews: ReviewsRepository, stepfunctions: Any, frame_id: str, decision: ReviewDecision) -> str | None:
    """Record an officer's decision and resume the waiting execution with it; returns that execution's ARN.

    Raises ReviewNotPending when there is nothing to decide (never requested, decided, expired), and
    ReviewExpired when the execution stopped waiting before the decision reached it.
    """
    review = reviews.mark_decided(frame_id, decision)
    try:
        stepfunctions.send_task_success(taskToken=review["task_token"], output=decision.model_dump_json())
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _TASK_GONE:
            reviews.mark_expired(frame_id)
            raise ReviewExpired(frame_id) from error
        raise
    return review.get("execution_arn")


def review_crop_key(frame_id: str) -> str:
    return f"reviews/{frame_id}/plate.jpg"


class ReviewPictures:
    """The pictures an officer decides on: the plate crop stored beside the frame when the review is
    requested, and short-lived presigned GET URLs of both (the buckets stay private)."""

    def __init__(self, s3: Any, expires_seconds: int = PRESIGNED_URL_SECONDS) -> None:
        self._s3 = s3
        self.expires_seconds = expires_seconds

    def store_crop(self, frame: FrameRef, box: tuple[int, int, int, int]) -> str:
        """FrameNotFound or FrameChanged when the frame is no longer the one ingested: nothing to review."""
        body = FrameStore(self._s3).read_frame(frame)
        key = review_crop_key(frame.frame_id)
        self._s3.put_object(Bucket=frame.bucket, Key=key, Body=plate_crop(body, box), ContentType="image/jpeg")
        return key

    def url(self, bucket: str, key: str) -> str:
        return self._s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key},
                                               ExpiresIn=self.expires_seconds)


def request_review(reviews: ReviewsRepository, frames: FramesRepository, request: ReviewRequestInput,
                   now: datetime, pictures: ReviewPictures | None = None) -> bool:
    best = request.state.recognition.best
    crop_key = pictures.store_crop(request.state.frame, best.box) if pictures is not None and best else None
    stored = reviews.request(request, now, plate_crop_key=crop_key)
    if stored:
        frames.set_status(request.state.frame.frame_id, FrameStatus.REVIEW_PENDING, now)
    return stored
