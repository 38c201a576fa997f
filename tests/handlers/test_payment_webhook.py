"""PaymentWebhookFunction's handler, invoked directly with API Gateway v2 events (as the HTTP API sends
them), on the local stack's tables and secret."""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from murur.local import LocalStack
from murur.local.functions import FunctionError
from murur.local.operator import table_items
from murur.local.wallets import LOCAL_WEBHOOK_SECRETS, provider_payload, signed_delivery
from murur.payments.notice import Provider

PAYER_LOCAL = "44998877"


def api_event(provider: str, headers: dict[str, str], body: bytes, *, base64_encoded: bool = False) -> dict[str, Any]:
    """The payload-format-2.0 event of POST /payments/{provider}/webhook (headers lower-cased, as API Gateway sends)."""
    route = "POST /payments/{provider}/webhook"
    return {
        "version": "2.0", "routeKey": route, "rawPath": f"/dev/payments/{provider}/webhook", "rawQueryString": "",
        "headers": {name.lower(): value for name, value in headers.items()},
        "requestContext": {"accountId": "123456789012", "apiId": "api", "domainName": "api.example",
                           "domainPrefix": "api", "requestId": "request-1", "routeKey": route, "stage": "dev",
                           "time": "29/Nov/2026:09:00:00 +0000", "timeEpoch": 1795942800000,
                           "http": {"method": "POST", "path": f"/dev/payments/{provider}/webhook",
                                    "protocol": "HTTP/1.1", "sourceIp": "192.0.2.10", "userAgent": "wallet"}},
        "pathParameters": {"provider": provider},
        "isBase64Encoded": base64_encoded,
        "body": base64.b64encode(body).decode() if base64_encoded else body.decode(),
    }


def notice(provider: Provider, transaction: str = "TX-1") -> dict[str, Any]:
    return provider_payload(provider, transaction_id=transaction, reference="MR26-NOSUCHREF0", amount_mru=2000,
                            paid_at=datetime.now(UTC).replace(microsecond=0), phone_local=PAYER_LOCAL)


def invoke(stack: LocalStack, event: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any]]:
    answer = stack.functions.invoke("PaymentWebhookFunction", event)
    return answer["statusCode"], answer.get("headers") or {}, json.loads(answer["body"])


def test_a_base64_encoded_body_is_verified_on_its_bytes(stack: LocalStack) -> None:
    headers, body = signed_delivery(Provider.SEDAD, notice(Provider.SEDAD))
    status, _, answer = invoke(stack, api_event("sedad", headers, body, base64_encoded=True))
    assert (status, answer["outcome"], answer["payment_id"]) == (200, "UNKNOWN_REFERENCE", "sedad:TX-1")


def test_every_secret_listed_for_a_provider_is_accepted_during_a_rotation(stack: LocalStack) -> None:
    current, previous = LOCAL_WEBHOOK_SECRETS["masrvi"]
    for number, secret in enumerate((current, previous)):
        headers, body = signed_delivery(Provider.MASRVI, notice(Provider.MASRVI, f"TX-{number}"), secret=secret)
        assert invoke(stack, api_event("masrvi", headers, body))[0] == 200
    assert len(table_items(stack, "PaymentsTable")) == 2


def test_a_provider_without_a_secret_gets_503_to_retry_later_and_nothing_is_recorded(stack: LocalStack) -> None:
    stack.client("secretsmanager").put_secret_value(
        SecretId=stack.name("WalletWebhookSecrets"), SecretString=json.dumps({"bankily": [], "sedad": ["short"]}))
    for provider in (Provider.BANKILY, Provider.SEDAD, Provider.MASRVI):
        headers, body = signed_delivery(provider, notice(provider))
        status, answer_headers, answer = invoke(stack, api_event(provider.value, headers, body))
        assert (status, answer["code"]) == (503, "WEBHOOK_NOT_CONFIGURED")
        assert answer_headers.get("Retry-After") == "5"
    assert table_items(stack, "PaymentsTable") == []


def test_the_logs_carry_the_outcome_but_never_the_payer_number(stack: LocalStack,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="payment_webhook")
    headers, body = signed_delivery(Provider.BANKILY, notice(Provider.BANKILY))
    invoke(stack, api_event("bankily", headers, body))
    invalid_headers, invalid_body = signed_delivery(Provider.BANKILY, {**notice(Provider.BANKILY, "TX-2"),
                                                                       "payer": {"msisdn": "not-a-number-44998877"}})
    assert invoke(stack, api_event("bankily", invalid_headers, invalid_body))[0] == 422
    records = [record.__dict__ for record in caplog.records if record.name == "payment_webhook"]
    assert any(r.get("outcome") == "UNKNOWN_REFERENCE" and r.get("payment_id") == "bankily:TX-1" for r in records)
    assert any(r.get("code") == "INVALID_NOTICE" for r in records)
    assert PAYER_LOCAL not in repr(records)


def test_a_request_for_another_path_is_not_served(stack: LocalStack) -> None:
    headers, body = signed_delivery(Provider.BANKILY, notice(Provider.BANKILY))
    event = api_event("bankily", headers, body)
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/dev/payments/bankily/refund"
    try:
        status = invoke(stack, event)[0]
    except FunctionError:  # pragma: no cover - the resolver answers 404 itself
        status = 500
    assert status == 404
    assert table_items(stack, "PaymentsTable") == []
