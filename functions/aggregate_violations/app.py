"""Aggregate violations (ViolationsTable stream): count each new violation once in AnalyticsTable."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from murur.analytics.aggregates import AnalyticsRepository, Offence
from murur.settings import settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()
# A record that fails (a corrupt image, a throttled write) is reported by its sequence number;
# Lambda retries from it, and the records after it that were counted already count nothing more.
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, model=DynamoDBStreamRecordModel)
# This invocation's outcomes (counted now / counted before), for one metric each per batch.
outcomes: list[bool] = []


@cache
def analytics() -> AnalyticsRepository:
    """Built on first use, not at import: the local stack and the tests start moto first."""
    return AnalyticsRepository(boto3.client("dynamodb"), settings().analytics_table)


def count(record: DynamoDBStreamRecordModel) -> bool:
    # The event source mapping passes only INSERTs; anything else is a status change, not an offence.
    if record.eventName != "INSERT" or not record.dynamodb.NewImage:
        return False
    offence = Offence.from_image(record.dynamodb.NewImage)
    counted = analytics().record(offence)
    outcomes.append(counted)
    return counted


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    outcomes.clear()
    response = process_partial_response(event=event, record_handler=count, processor=processor, context=context)
    metrics.add_metric(name="OffencesCounted", unit=MetricUnit.Count, value=sum(outcomes))
    metrics.add_metric(name="OffencesAlreadyCounted", unit=MetricUnit.Count, value=len(outcomes) - sum(outcomes))
    # Sequence numbers only: the records themselves hold plates and owners.
    if response["batchItemFailures"]:
        logger.warning("records not counted", extra={
            "failed": [failure["itemIdentifier"] for failure in response["batchItemFailures"]],
            "errors": sorted({type(exception).__name__ for _, exception, _ in processor.exceptions}),
        })
    return response
