"""RequestReview: an unsure read waits for an officer. Stores the review request with the task token and
a crop of the plate for the officer; the execution resumes when the officer's decision is sent with
SendTaskSuccess (murur.reviews)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from murur.errors import aws_errors_as_transient
from murur.frames import FramesRepository
from murur.reviews import ReviewPictures, ReviewsRepository, request_review
from murur.settings import settings
from murur.tasks import parse_task
from murur.workflow import ReviewRequestInput

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@cache
def repositories() -> tuple[ReviewsRepository, FramesRepository]:
    config = settings()
    dynamodb = boto3.client("dynamodb")
    return ReviewsRepository(dynamodb, config.reviews_table), FramesRepository(dynamodb, config.frames_table)


@cache
def pictures() -> ReviewPictures:
    return ReviewPictures(boto3.client("s3"))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # the chain's payloads hold plate text: keep them out of traces
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse_task(event, ReviewRequestInput)
    logger.append_keys(frame_id=request.state.frame.frame_id)
    with aws_errors_as_transient():
        stored = request_review(*repositories(), request, datetime.now(UTC), pictures())
    logger.info("review requested", extra={"stored": stored})
    metrics.add_metric(name="ReviewsRequested", unit=MetricUnit.Count, value=1)
    # The execution waits for the officer's SendTaskSuccess; this answer is not its result.
    return {"status": "PENDING" if stored else "ALREADY_DECIDED", "frame_id": request.state.frame.frame_id}
