"""The officers' review routes: the queue of unsure reads, and the decision that resumes each one.

    GET  /officer/reviews                          pending reviews, oldest first, with presigned pictures
    POST /officer/reviews/{review_id}/decision     confirm, correct the plate, or discard the frame

A review's id is its frame's id. The decision goes through murur.reviews (marked DECIDED only while
PENDING, then SendTaskSuccess), with the officer from the token (murur.api.identity) as reviewer:
the violation issued from it names `officer:<id>` in its history. A review already decided or
expired answers 409 with its code; a decision that arrives after the execution stopped waiting
answers 409 REVIEW_EXPIRED too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Annotated, Any

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter as Router
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from murur.api.errors import ReviewAlreadyDecided, ReviewExpired, ReviewNotFound, documented
from murur.api.identity import officer_from
from murur.reviews import ReviewNotPending, ReviewPictures, ReviewsRepository, ReviewStatus, decide_review
from murur.reviews import ReviewExpired as ExecutionStoppedWaiting
from murur.reviews import make_decision
from murur.settings import settings
from murur.workflow import IssueInput, ReviewOutcome, ViolationType

logger = Logger(child=True)
router = Router()

MAX_PAGE = 100


class PlateRead(BaseModel):
    text: str
    confidence: float = Field(ge=0, le=1)
    layout: str | None = None
    box: tuple[int, int, int, int]


class PendingReview(BaseModel):
    review_id: str = Field(description="The frame's id")
    requested_at: AwareDatetime
    camera_id: str
    place: str | None = None
    captured_at: AwareDatetime
    violation_type: ViolationType
    measured_speed_kmh: float | None = None
    speed_limit_kmh: float | None = None
    signal_phase: str | None = None
    read: PlateRead | None = Field(description="The model's best read, which a confirmation accepts")
    model_version: str
    frame_url: str = Field(description="The original frame: presigned GET, short-lived")
    plate_crop_url: str | None = Field(description="The plate and a margin around it: presigned GET, short-lived")
    urls_expire_at: AwareDatetime


class PendingReviews(BaseModel):
    reviews: list[PendingReview]


class DecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: ReviewOutcome
    plate_text: str | None = Field(default=None, min_length=2, max_length=16, pattern=r"^[0-9A-Za-z \-]+$",
                                   description="The right plate; required to correct, ignored otherwise")

    @model_validator(mode="after")
    def _a_correction_names_the_plate(self) -> "DecisionRequest":
        if self.outcome is ReviewOutcome.CORRECTED and not self.plate_text:
            raise ValueError("a correction needs plate_text")
        return self


class DecisionAnswer(BaseModel):
    review_id: str
    outcome: ReviewOutcome
    plate_text: str | None
    reviewer: str
    decided_at: AwareDatetime


@cache
def _reviews() -> ReviewsRepository:
    return ReviewsRepository(boto3.client("dynamodb"), settings().reviews_table)


@cache
def _pictures() -> ReviewPictures:
    # SigV4 presigning: the expiry is part of the signature (X-Amz-Expires), as S3 requires for new buckets.
    return ReviewPictures(boto3.client("s3", config=Config(signature_version="s3v4")))


@cache
def _stepfunctions() -> Any:
    return boto3.client("stepfunctions")


def _pending_review(review: dict[str, Any], pictures: ReviewPictures, expire_at: datetime) -> PendingReview:
    state = IssueInput.model_validate(review["state"])
    frame, best = state.frame, state.recognition.best
    crop_key = review.get("plate_crop_key")
    return PendingReview(
        review_id=frame.frame_id, requested_at=review["requested_at"], camera_id=frame.camera_id,
        place=frame.place, captured_at=frame.captured_at, violation_type=frame.violation_type,
        measured_speed_kmh=frame.measured_speed_kmh, speed_limit_kmh=frame.speed_limit_kmh,
        signal_phase=frame.signal_phase,
        read=PlateRead(text=best.text, confidence=best.confidence, layout=best.layout, box=best.box) if best else None,
        model_version=state.recognition.model_version,
        frame_url=pictures.url(frame.bucket, frame.key),
        plate_crop_url=pictures.url(frame.bucket, crop_key) if crop_key else None,
        urls_expire_at=expire_at,
    )


@router.get("/officer/reviews", summary="Unsure reads waiting for an officer, oldest first",
            responses=documented(200, PendingReviews, "Pending reviews, with short-lived picture links",
                                 {403: "NOT_AN_OFFICER"}))
def pending_reviews(limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50) -> PendingReviews:
    officer_from(router.current_event)  # 403 for a pool user outside the officers group
    pictures = _pictures()
    expire_at = datetime.now(UTC) + timedelta(seconds=pictures.expires_seconds)
    return PendingReviews(reviews=[_pending_review(review, pictures, expire_at)
                                   for review in _reviews().pending(limit=limit)])


@router.post("/officer/reviews/<review_id>/decision", summary="Confirm, correct or discard an unsure read",
             responses=documented(200, DecisionAnswer, "The decision, recorded; the execution resumes",
                                  {403: "NOT_AN_OFFICER", 404: "REVIEW_NOT_FOUND",
                                   409: "REVIEW_ALREADY_DECIDED or REVIEW_EXPIRED"}))
def decide(review_id: Annotated[str, Path(min_length=1, max_length=200)], body: DecisionRequest) -> DecisionAnswer:
    officer = officer_from(router.current_event)
    decision = make_decision(body.outcome, reviewer=officer.officer_id, decided_at=datetime.now(UTC),
                             plate_text=body.plate_text)
    reviews = _reviews()
    try:
        decide_review(reviews, _stepfunctions(), review_id, decision)
    except ExecutionStoppedWaiting as error:
        raise ReviewExpired("the execution stopped waiting before the decision") from error
    except ReviewNotPending as error:
        review = reviews.get(review_id)
        if review is None:
            raise ReviewNotFound("no review for this id") from error
        if review.get("status") == ReviewStatus.EXPIRED:
            raise ReviewExpired("the review expired") from error
        raise ReviewAlreadyDecided("the review was decided before") from error
    logger.info("review decided", extra={"review_id": review_id, "outcome": decision.outcome.value,
                                         "reviewer": officer.officer_id})
    return DecisionAnswer(review_id=review_id, outcome=decision.outcome, plate_text=decision.plate_text,
                          reviewer=officer.officer_id, decided_at=decision.decided_at)
