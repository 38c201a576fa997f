"""What an officer or operator does on the local stack: decide reviews, list what the chain produced.

The review API comes with a later piece of work; until then an officer's decision is sent here the
way that API will send it: mark the review DECIDED (only if still PENDING) and resume the waiting
execution with SendTaskSuccess carrying a ReviewDecision.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from murur.workflow import ReviewDecision, ReviewOutcome

_deserializer = TypeDeserializer()


class ReviewNotPending(Exception):
    """No pending review for this frame (never requested, already decided, or expired)."""

    def __str__(self) -> str:
        return f"no pending review for frame {self.args[0]}"


def table_items(stack: Any, logical_id: str) -> list[dict[str, Any]]:
    paginator = stack.client("dynamodb").get_paginator("scan")
    return [
        {key: _deserializer.deserialize(value) for key, value in item.items()}
        for page in paginator.paginate(TableName=stack.name(logical_id))
        for item in page["Items"]
    ]


def decide_review(stack: Any, frame_id: str, outcome: str, *, plate_text: str | None = None,
                  reviewer: str = "local-officer") -> str | None:
    """Decide a pending review and resume its execution; returns the execution's ARN when stored."""
    decision = ReviewDecision(
        outcome=ReviewOutcome(outcome.upper()),
        plate_text=plate_text.upper().replace(" ", "") if plate_text else None,
        reviewer=reviewer,
        decided_at=datetime.now(UTC),
    )
    if decision.outcome is ReviewOutcome.CORRECTED and not decision.plate_text:
        raise ValueError("a correction needs the right plate")
    dynamodb = stack.client("dynamodb")
    try:
        updated = dynamodb.update_item(
            TableName=stack.name("ReviewsTable"),
            Key={"frame_id": {"S": frame_id}},
            UpdateExpression="SET #status = :decided, decision = :decision",
            ConditionExpression="#status = :pending",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":decided": {"S": "DECIDED"},
                ":pending": {"S": "PENDING"},
                ":decision": {"S": decision.model_dump_json()},
            },
            ReturnValues="ALL_NEW",
        )
    except dynamodb.exceptions.ConditionalCheckFailedException as error:
        raise ReviewNotPending(frame_id) from error
    task_token = updated["Attributes"]["task_token"]["S"]
    stack.client("stepfunctions").send_task_success(taskToken=task_token, output=decision.model_dump_json())
    state = updated["Attributes"].get("state")
    return _deserializer.deserialize(state).get("execution_arn") if state else None


def wait_after_decision(stack: Any, execution_arn: str | None) -> None:
    """Let the resumed execution finish (every execution not waiting for an officer, if unknown)."""
    if execution_arn:
        stack.wait_for_execution(execution_arn)
        return
    stack.wait_until(
        lambda: all(e["status"] != "RUNNING" or stack.is_waiting_for_review(e["executionArn"])
                    for e in stack.executions()),
        what="the resumed execution",
    )
