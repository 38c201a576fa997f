"""POST /payments/{provider}/webhook: a wallet's signed payment notice -> applied once, recorded, answered.

The resolver does not validate the body itself: the signature covers the raw bytes and must be
checked before the body is trusted enough to parse (murur.payments.webhook does both, in order).
"""

from __future__ import annotations

import base64
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from murur.errors import aws_errors_as_transient
from murur.notifications import PortalEvents, SmsGateway
from murur.payments.errors import PaymentInProgress, WebhookNotConfigured, WebhookRefused
from murur.payments.repository import PaymentsRepository
from murur.payments.secrets import WebhookSecrets
from murur.payments.service import ExactlyOncePayments, PaymentService
from murur.payments.signature import SIGNATURE_HEADER
from murur.payments.webhook import WebhookReceiver
from murur.registry import DynamoDBVehicleRegistry
from murur.settings import settings
from murur.violations import ViolationsRepository

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayHttpResolver()


@cache
def payments() -> ExactlyOncePayments:
    """Built on first use, not at import: the local stack and the tests start moto first."""
    config = settings()
    dynamodb = boto3.client("dynamodb")
    service = PaymentService(
        violations=ViolationsRepository(dynamodb, config.violations_table),
        payments=PaymentsRepository(dynamodb, config.payments_table),
        registry=DynamoDBVehicleRegistry(dynamodb, config.vehicles_table),
        sms=SmsGateway(boto3.client("sns")),
        portal=PortalEvents(boto3.client("events"), config.portal_event_bus),
        portal_base_url=config.portal_base_url,
    )
    return ExactlyOncePayments(service, dynamodb, config.idempotency_table)


@cache
def receiver() -> WebhookReceiver:
    config = settings()
    return WebhookReceiver(WebhookSecrets(boto3.client("secretsmanager"), config.wallet_webhook_secrets), payments())


def _raw_body() -> bytes:
    event = app.current_event
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body.encode("utf-8")


@app.post("/payments/<provider>/webhook")
def payment_webhook(provider: str) -> dict[str, Any]:
    logger.append_keys(provider=provider[:32])  # a path segment anyone can send: bounded in the logs
    signature = app.current_event.headers.get(SIGNATURE_HEADER)  # case-insensitive
    with aws_errors_as_transient():
        notice, result = receiver().receive(provider, signature, _raw_body())
    # The payment's id and outcome only: never the payer's number.
    logger.info("payment notice recorded", extra={"payment_id": result.payment_id, "outcome": result.outcome.value,
                                                  "amount_mru": notice.amount_mru})
    # One metric per outcome (PaymentsApplied, PaymentsWrongAmount, ...): a climbing unmatched rate shows at once.
    metrics.add_metric(name="Payments" + result.outcome.value.title().replace("_", ""), unit=MetricUnit.Count,
                       value=1)
    metrics.add_metadata(key="provider", value=notice.provider.value)
    return result.model_dump(mode="json")


@app.exception_handler(WebhookRefused)
def refused(error: WebhookRefused) -> Response:
    # Our side (no secret set) is an error for operators; the rest are the caller's.
    log = logger.error if error.status >= 500 else logger.warning
    log("webhook delivery refused", extra={"status": error.status, "code": error.code})
    metrics.add_metric(name="WebhookDeliveriesRefused", unit=MetricUnit.Count, value=1)
    # Worth sending again shortly: a concurrent delivery still running, or a secret not yet set.
    headers = {"Retry-After": "5"} if isinstance(error, PaymentInProgress | WebhookNotConfigured) else None
    return Response(status_code=error.status, content_type=content_types.APPLICATION_JSON, body=error.body(),
                    headers=headers)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # answers name payments; keep them out of traces
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    payments().register_lambda_context(context)
    return app.resolve(event, context)
