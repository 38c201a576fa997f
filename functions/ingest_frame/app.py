"""S3 "Object Created" (through EventBridge) -> a validated frame and one pipeline execution, or a rejection."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import S3EventNotificationEventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from murur.cameras import DynamoDBCameraDirectory
from murur.errors import aws_errors_as_transient
from murur.frames import FramesRepository, FrameStore
from murur.ingest import ExecutionStarter, FrameIngestor
from murur.sections import DynamoDBSectionDirectory
from murur.settings import settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@cache
def ingestor() -> FrameIngestor:
    """Built on first use, not at import: the local stack and the tests start moto first."""
    config = settings()
    return FrameIngestor(
        store=FrameStore(boto3.client("s3")),
        frames=FramesRepository(boto3.client("dynamodb"), config.frames_table),
        cameras=DynamoDBCameraDirectory(boto3.client("dynamodb"), config.cameras_table),
        executions=ExecutionStarter(boto3.client("stepfunctions"), config.state_machine_arn),
        sections=DynamoDBSectionDirectory(boto3.client("dynamodb"), config.sections_table),
    )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # the chain's payloads hold plate text: keep them out of traces
@metrics.log_metrics
@event_parser(model=S3EventNotificationEventBridgeModel)
def handler(event: S3EventNotificationEventBridgeModel, context: LambdaContext) -> dict[str, Any]:
    bucket, s3_object = event.detail.bucket.name, event.detail.object
    with aws_errors_as_transient():
        outcome = ingestor().ingest(bucket, s3_object.key, s3_object.etag)
    logger.info("frame ingested", extra={"frame_id": outcome.frame_id, "status": outcome.status,
                                         "reason_code": outcome.reason_code})
    metrics.add_metric(name=f"Frames{outcome.status.title()}", unit=MetricUnit.Count, value=1)
    return outcome.answer()
