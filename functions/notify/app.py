"""Notify: NotifyInput -> SMS to the owner in Arabic or French + a Khidmati portal event -> NotifyResult."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from murur.errors import aws_errors_as_transient
from murur.notifications import Notifier, PortalEvents, SmsGateway
from murur.registry import DynamoDBVehicleRegistry
from murur.settings import settings
from murur.tasks import parse_task
from murur.violations import ViolationsRepository
from murur.workflow import NotifyInput

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@cache
def notifier() -> Notifier:
    """Built on first use, not at import: the local stack and the tests start moto first."""
    config = settings()
    dynamodb = boto3.client("dynamodb")
    return Notifier(
        violations=ViolationsRepository(dynamodb, config.violations_table),
        registry=DynamoDBVehicleRegistry(dynamodb, config.vehicles_table),
        sms=SmsGateway(boto3.client("sns")),
        portal=PortalEvents(boto3.client("events"), config.portal_event_bus),
        portal_base_url=config.portal_base_url,
    )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # the chain's payloads hold plate text: keep them out of traces
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_task(event, NotifyInput)
    logger.append_keys(frame_id=task.frame.frame_id, violation_id=task.violation.violation_id)
    with aws_errors_as_transient():
        result = notifier().notify(task)
    # No phone number in the logs: the message id and the language say what went out.
    logger.info("owner notified", extra={"sms_sent": result.sms_sent, "sms_segments": result.sms_segments,
                                         "language": result.language, "sms_message_id": result.sms_message_id})
    metrics.add_metric(name="SmsSent" if result.sms_sent else "NoticesWithoutSms", unit=MetricUnit.Count, value=1)
    return result.model_dump(mode="json")
