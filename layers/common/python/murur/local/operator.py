"""What an officer or operator does on the local stack: decide reviews, list what the chain produced.

The review API comes with a later piece of work; until then the local commands decide reviews
through the same domain code (murur.reviews) that API will call.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from murur.dynamo import from_item
from murur.reviews import ReviewsRepository, make_decision
from murur.reviews import decide_review as decide

def table_items(stack: Any, logical_id: str) -> list[dict[str, Any]]:
    paginator = stack.client("dynamodb").get_paginator("scan")
    return [
        from_item(item)
        for page in paginator.paginate(TableName=stack.name(logical_id))
        for item in page["Items"]
    ]


def decide_review(stack: Any, frame_id: str, outcome: str, *, plate_text: str | None = None,
                  reviewer: str = "local-officer") -> str | None:
    """Decide a pending review on the local stack (murur.reviews); returns the resumed execution's ARN.

    Raises murur.reviews.ReviewNotPending or InvalidDecision.
    """
    decision = make_decision(outcome, reviewer=reviewer, decided_at=datetime.now(UTC), plate_text=plate_text)
    reviews = ReviewsRepository(stack.client("dynamodb"), stack.name("ReviewsTable"))
    return decide(reviews, stack.client("stepfunctions"), frame_id, decision)


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
