"""What an officer or operator does on the local stack: decide reviews, list what the chain produced.

An officer decides a review as on the deployed stack: POST /officer/reviews/{review_id}/decision
through the local HTTP API gateway, with an officers' pool token (murur.local.identity).
"""

from __future__ import annotations

from typing import Any

from murur.dynamo import from_item
from murur.reviews import InvalidDecision, ReviewExpired, ReviewNotPending


def table_items(stack: Any, logical_id: str) -> list[dict[str, Any]]:
    paginator = stack.client("dynamodb").get_paginator("scan")
    return [
        from_item(item)
        for page in paginator.paginate(TableName=stack.name(logical_id))
        for item in page["Items"]
    ]


def decide_review(stack: Any, frame_id: str, outcome: str, *, plate_text: str | None = None,
                  reviewer: str = "local-officer") -> str | None:
    """Decide a pending review through the officers' API; returns the resumed execution's ARN.

    Raises murur.reviews.ReviewNotPending (ReviewExpired when it expired) or InvalidDecision.
    """
    from murur.local.identity import officer_token

    body = {"outcome": str(outcome).upper(), **({"plate_text": plate_text} if plate_text else {})}
    answer = stack.http("POST", f"/officer/reviews/{frame_id}/decision", token=officer_token(reviewer), body=body)
    if answer.status == 422:
        fields = ", ".join(field["field"] for field in answer.json().get("fields", []))
        raise InvalidDecision(f"the decision is incomplete or invalid ({fields})")
    if answer.status in (404, 409):
        raise (ReviewExpired if answer.json().get("code") == "REVIEW_EXPIRED" else ReviewNotPending)(frame_id)
    if answer.status != 200:
        raise RuntimeError(f"the review API answered {answer.status}: {answer.json()}")
    review = stack.client("dynamodb").get_item(TableName=stack.name("ReviewsTable"),
                                               Key={"frame_id": {"S": frame_id}}, ConsistentRead=True).get("Item")
    return from_item(review).get("execution_arn") if review else None


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
