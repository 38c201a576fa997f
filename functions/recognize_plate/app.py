"""RecognizePlate: FrameInput -> the plate reader's reads -> RecognitionResult (CONFIDENT, UNSURE, NO_PLATE)."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from murur.alpr import PlateReader
from murur.errors import aws_errors_as_transient
from murur.frames import FrameStore
from murur.recognition import recognise
from murur.settings import settings
from murur.tasks import parse_task
from murur.workflow import FrameInput

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@cache
def frame_store() -> FrameStore:
    return FrameStore(boto3.client("s3"))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # the chain's payloads hold plate text: keep them out of traces
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_task(event, FrameInput)
    logger.append_keys(frame_id=task.frame.frame_id)
    with aws_errors_as_transient():
        image = frame_store().read_frame(task.frame)
    # Loaded once per container (cached by the reader); a missing model raises ModelNotAvailable.
    reader = PlateReader.default()
    result = recognise(image, reader, settings().auto_issue_threshold)
    logger.info("plate read", extra={"decision": result.decision, "plates": len(result.plates),
                                     "confidence": result.best.confidence if result.best else None,
                                     "threshold": result.threshold, "model_version": result.model_version})
    metrics.add_metric(name=f"Reads{result.decision.title().replace('_', '')}", unit=MetricUnit.Count, value=1)
    return result.model_dump(mode="json")
