"""Deadlines (scheduled): one reminder SMS before a violation's deadline; OVERDUE and the surcharge after it."""

from __future__ import annotations

from dataclasses import asdict
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from murur.deadlines import DeadlinesJob
from murur.errors import SmsPublishFailed, aws_errors_as_transient
from murur.fines import SsmFineSchedule
from murur.notifications import PortalEvents, SmsGateway
from murur.registry import DynamoDBVehicleRegistry
from murur.settings import settings
from murur.violations import ViolationsRepository

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@cache
def job() -> DeadlinesJob:
    """Built on first use, not at import: the local stack and the tests start moto first."""
    config = settings()
    dynamodb = boto3.client("dynamodb")
    return DeadlinesJob(
        violations=ViolationsRepository(dynamodb, config.violations_table),
        registry=DynamoDBVehicleRegistry(dynamodb, config.vehicles_table),
        sms=SmsGateway(boto3.client("sns")),
        portal=PortalEvents(boto3.client("events"), config.portal_event_bus),
        schedule=SsmFineSchedule(boto3.client("ssm"), config.fine_schedule_parameter),
        portal_base_url=config.portal_base_url,
    )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The scheduled event carries nothing the job needs: the clock and the table decide.
    with aws_errors_as_transient():
        report = asdict(job().run())
    # Counts only: which violations were touched is in the table, not in the logs (plates, phones).
    logger.info("deadlines checked", extra=report)
    metrics.add_metric(name="RemindersSent", unit=MetricUnit.Count, value=report["reminders_sent"])
    metrics.add_metric(name="ViolationsOverdue", unit=MetricUnit.Count, value=report["overdue"])
    if report["reminders_failed"]:
        # Failing the run raises DeadlinesFunctionErrorsAlarm, and the schedule retries it soon.
        raise SmsPublishFailed(f"SNS refused {report['reminders_failed']} reminder SMS; released for the next run")
    return report
