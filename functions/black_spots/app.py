"""Black spots (scheduled, nightly): assess every active camera against the network; store the result."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from murur.analytics.aggregates import AnalyticsRepository
from murur.analytics.black_spots import BlackSpotJob
from murur.cameras import DynamoDBCameraDirectory
from murur.errors import aws_errors_as_transient
from murur.settings import settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@cache
def job() -> BlackSpotJob:
    """Built on first use, not at import: the local stack and the tests start moto first."""
    config = settings()
    dynamodb = boto3.client("dynamodb")
    return BlackSpotJob(DynamoDBCameraDirectory(dynamodb, config.cameras_table),
                        AnalyticsRepository(dynamodb, config.analytics_table))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The scheduled event carries nothing the job needs: the clock and the counters decide.
    with aws_errors_as_transient():
        assessment = job().run()
    summary = {
        "window_start": assessment.window_start.isoformat(), "window_end": assessment.window_end.isoformat(),
        "cameras_assessed": assessment.cameras_assessed,
        "black_spots": [spot.camera_id for spot in assessment.black_spots],
    }
    logger.info("black spots assessed", extra=summary)
    metrics.add_metric(name="BlackSpots", unit=MetricUnit.Count, value=len(assessment.black_spots))
    return summary
