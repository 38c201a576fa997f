"""Human review of unsure reads: the stored request (ReviewsTable) and an officer's decision.

RequestReview stores the request with the task token of the waiting execution; an officer's
decision marks it DECIDED (only while PENDING, so two officers cannot both decide) and resumes the
execution with SendTaskSuccess carrying the ReviewDecision.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from murur.dynamo import from_item, is_conditional_check_failure, to_item, to_values, write_if
from murur.frames import FramesRepository, FrameStatus
from murur.registry import normalise_plate
from murur.workflow import ReviewDecision, ReviewOutcome, ReviewRequestInput


class ReviewStatus(StrEnum):
    PENDING = "PENDING"
    DECIDED = "DECIDED"
    EXPIRED = "EXPIRED"


class ReviewNotPending(LookupError):
    """No pending review for this frame: never requested, already decided, or expired."""


class InvalidDecision(ValueError):
    """The decision is incomplete (a correction without the right plate)."""


class ReviewsRepository:
    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table = table_name

    def request(self, request: ReviewRequestInput, requested_at: datetime) -> bool:
        """Store (or, on a retried task, refresh the token of) the pending request; False if already decided."""
        state = request.state
        item = {
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

    Raises ReviewNotPending when there is nothing to decide (never requested, decided, expired).
    """
    review = reviews.mark_decided(frame_id, decision)
    stepfunctions.send_task_success(taskToken=review["task_token"], output=decision.model_dump_json())
    return review.get("execution_arn")


def request_review(reviews: ReviewsRepository, frames: FramesRepository, request: ReviewRequestInput,
                   now: datetime) -> bool:
    stored = reviews.request(request, now)
    if stored:
        frames.set_status(request.state.frame.frame_id, FrameStatus.REVIEW_PENDING, now)
    return stored
