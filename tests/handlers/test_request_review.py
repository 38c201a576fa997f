from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from murur.reviews import ReviewNotPending, ReviewsRepository, decide_review, make_decision
from murur.workflow import Decision, IssueInput, ReviewDecision

from .conftest import Account, load_function
from .payloads import EXECUTION_ARN, recognition, stored_frame


class RecordingStepFunctions:
    """Stands in for the Step Functions client: keeps what SendTaskSuccess was given."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send_task_success(self, *, taskToken: str, output: str) -> None:  # noqa: N803 - boto3's names
        self.sent.append((taskToken, output))


@pytest.fixture
def request_review(account: Account) -> Any:
    account.bucket("FRAMES_BUCKET")
    account.table("FRAMES_TABLE")
    account.table("REVIEWS_TABLE")
    return load_function("request_review")


def review_request(account: Account, token: str = "token-1") -> dict[str, Any]:
    state = IssueInput(frame=stored_frame(account), execution_arn=EXECUTION_ARN,
                       recognition=recognition("6142MR06", confidence=0.61, decision=Decision.UNSURE))
    return {"state": state.model_dump(mode="json") | {"review": None, "review_timeout_seconds": 60},
            "task_token": token}


def test_an_unsure_read_is_stored_for_an_officer_and_the_frame_waits(
        account: Account, request_review: Any, invoke: Any) -> None:
    answer = invoke(request_review, review_request(account))
    assert answer["status"] == "PENDING"
    (review,) = account.items("REVIEWS_TABLE")
    assert review["status"] == "PENDING"
    assert review["task_token"] == "token-1"
    assert review["state"]["recognition"]["best"]["text"] == "6142MR06"
    assert IssueInput.model_validate(review["state"]).frame.frame_id == "NKC-TVZ-01-F000123"
    (frame,) = account.items("FRAMES_TABLE")
    assert frame["status"] == "REVIEW_PENDING"
    pending = ReviewsRepository(account.client("dynamodb"), "reviews-table").pending()
    assert [item["frame_id"] for item in pending] == ["NKC-TVZ-01-F000123"]


def test_a_retried_request_refreshes_the_token_of_the_pending_review(
        account: Account, request_review: Any, invoke: Any) -> None:
    invoke(request_review, review_request(account, "token-1"))
    invoke(request_review, review_request(account, "token-2"))
    (review,) = account.items("REVIEWS_TABLE")
    assert review["task_token"] == "token-2"


def test_an_officers_decision_resumes_the_execution_once(account: Account, request_review: Any, invoke: Any) -> None:
    request = review_request(account)
    invoke(request_review, request)
    reviews = ReviewsRepository(account.client("dynamodb"), "reviews-table")
    stepfunctions = RecordingStepFunctions()
    decision = make_decision("corrected", plate_text="6142 mr 06", reviewer="officer-17",
                             decided_at=datetime(2026, 11, 28, 10, tzinfo=UTC))

    assert decide_review(reviews, stepfunctions, "NKC-TVZ-01-F000123", decision) == EXECUTION_ARN
    with pytest.raises(ReviewNotPending):
        decide_review(reviews, stepfunctions, "NKC-TVZ-01-F000123", decision)

    ((token, output),) = stepfunctions.sent
    assert token == "token-1"
    assert ReviewDecision.model_validate_json(output).plate_text == "6142MR06"
    review = reviews.get("NKC-TVZ-01-F000123")
    assert review is not None and review["status"] == "DECIDED" and review["reviewer"] == "officer-17"
    # A late retry of RequestReview cannot reopen a decided review.
    assert invoke(request_review, {**request, "task_token": "token-3"})["status"] == "ALREADY_DECIDED"
    review = reviews.get("NKC-TVZ-01-F000123")
    assert review is not None and (review["status"], review["task_token"]) == ("DECIDED", "token-1")


def test_the_plate_crop_is_stored_beside_the_frame_for_the_officer(
        account: Account, request_review: Any, invoke: Any) -> None:
    from io import BytesIO

    from PIL import Image

    from .payloads import PLATE_BOX

    invoke(request_review, review_request(account))
    (review,) = account.items("REVIEWS_TABLE")
    assert review["plate_crop_key"] == "reviews/NKC-TVZ-01-F000123/plate.jpg"
    crop = account.client("s3").get_object(Bucket="frames-bucket", Key=review["plate_crop_key"])
    assert crop["ContentType"] == "image/jpeg"
    with Image.open(BytesIO(crop["Body"].read())) as picture:
        x1, y1, x2, y2 = PLATE_BOX
        # The box and a margin around it: larger than the plate, far smaller than the frame.
        assert x2 - x1 <= picture.width < 640 and y2 - y1 <= picture.height < 360


def test_a_frame_replaced_since_ingestion_is_not_sent_to_review(
        account: Account, request_review: Any, invoke: Any) -> None:
    request = review_request(account)
    key = request["state"]["frame"]["key"]
    account.client("s3").put_object(Bucket="frames-bucket", Key=key, Body=b"other bytes")
    with pytest.raises(Exception) as raised:
        invoke(request_review, request)
    assert type(raised.value).__name__ == "FrameChanged"
    assert account.items("REVIEWS_TABLE") == []
