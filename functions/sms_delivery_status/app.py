"""SMS delivery status: SNS's log of SMS the carrier did not deliver -> the violation's record.

Subscribed to the SmsFailedLogGroup (sns/<region>/<account>/DirectPublishToPhoneNumber/Failure);
each entry names the SNS message id, which Notify recorded on the violation (sms_message_id).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import CloudWatchLogsModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from murur.errors import aws_errors_as_transient
from murur.notifications import SmsDeliveryLog, record_sms_delivery_failures
from murur.settings import settings
from murur.violations import ViolationsRepository

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@cache
def violations() -> ViolationsRepository:
    return ViolationsRepository(boto3.client("dynamodb"), settings().violations_table)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@event_parser(model=CloudWatchLogsModel)
def handler(event: CloudWatchLogsModel, context: LambdaContext) -> dict[str, Any]:
    entries = [SmsDeliveryLog.model_validate_json(str(log.message)) for log in event.awslogs.decoded_data.logEvents]
    with aws_errors_as_transient():
        report = asdict(record_sms_delivery_failures(violations(), entries, datetime.now(UTC)))
    # Counts only: the entries hold phone numbers.
    logger.info("SMS delivery status recorded", extra=report)
    metrics.add_metric(name="NoticeSmsUndelivered", unit=MetricUnit.Count, value=report["failures_recorded"])
    return report
