"""SectionControl: IssueInput of a section camera's passage -> stored, paired, maybe issued -> IssueResult."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from murur.errors import aws_errors_as_transient
from murur.frames import FramesRepository
from murur.issuing import deployed_issuer
from murur.sections import DynamoDBSectionDirectory, PassagesRepository, SectionControl
from murur.settings import settings
from murur.tasks import parse_task
from murur.workflow import IssueInput

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@cache
def section_control() -> SectionControl:
    """Built on first use, not at import: the local stack and the tests start moto first."""
    config = settings()
    dynamodb, s3 = boto3.client("dynamodb"), boto3.client("s3")
    return SectionControl(
        sections=DynamoDBSectionDirectory(dynamodb, config.sections_table),
        passages=PassagesRepository(dynamodb, config.section_passages_table),
        frames=FramesRepository(dynamodb, config.frames_table),
        issuer=deployed_issuer(config, dynamodb=dynamodb, s3=s3, ssm=boto3.client("ssm")),
    )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # the chain's payloads hold plate text: keep them out of traces
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_task(event, IssueInput)
    logger.append_keys(frame_id=task.frame.frame_id)
    with aws_errors_as_transient():
        result, judgement = section_control().control(task)
    # No plate text in the logs: the frame id and the violation id are the references.
    logger.info("section passage done", extra={
        "outcome": result.outcome, "violation_id": result.violation_id,
        "average_speed_kmh": judgement.average_speed_kmh if judgement else None,
        "verdict": judgement.verdict if judgement else None,
    })
    metrics.add_metric(name=f"Section{result.outcome.title().replace('_', '')}", unit=MetricUnit.Count, value=1)
    return result.model_dump(mode="json")
