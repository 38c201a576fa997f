"""IssueViolation: IssueInput -> owner lookup, price, evidence, one violation record -> IssueResult."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from murur.errors import aws_errors_as_transient
from murur.issuing import ViolationIssuer, deployed_issuer
from murur.settings import settings
from murur.tasks import parse_task
from murur.workflow import IssueInput

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@cache
def issuer() -> ViolationIssuer:
    """Built on first use, not at import: the local stack and the tests start moto first."""
    return deployed_issuer(settings(), dynamodb=boto3.client("dynamodb"), s3=boto3.client("s3"),
                           ssm=boto3.client("ssm"))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # the chain's payloads hold plate text: keep them out of traces
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_task(event, IssueInput)
    logger.append_keys(frame_id=task.frame.frame_id)
    with aws_errors_as_transient():
        result = issuer().issue(task)
    # No plate text in the logs: the violation id is the reference.
    logger.info("violation step done", extra={"outcome": result.outcome, "violation_id": result.violation_id})
    metrics.add_metric(name=f"Violations{result.outcome.title().replace('_', '')}", unit=MetricUnit.Count, value=1)
    return result.model_dump(mode="json")
