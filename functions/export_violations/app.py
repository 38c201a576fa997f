"""Export violations (scheduled, nightly): the last days' offences, without personal data, to the analytics bucket."""

from __future__ import annotations

from dataclasses import asdict
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from murur.analytics.aggregates import AnalyticsRepository
from murur.analytics.export import OffenceExport
from murur.cameras import DynamoDBCameraDirectory
from murur.errors import aws_errors_as_transient
from murur.settings import settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@cache
def export() -> OffenceExport:
    """Built on first use, not at import: the local stack and the tests start moto first."""
    config = settings()
    dynamodb = boto3.client("dynamodb")
    return OffenceExport(AnalyticsRepository(dynamodb, config.analytics_table),
                         DynamoDBCameraDirectory(dynamodb, config.cameras_table),
                         boto3.client("s3"), config.analytics_bucket)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    with aws_errors_as_transient():
        report = asdict(export().run())
    logger.info("offences exported", extra={"days": report["days"], "rows": report["rows"]})
    metrics.add_metric(name="OffencesExported", unit=MetricUnit.Count, value=report["rows"])
    return report
