"""SNS's SMS delivery-status log, as CloudWatch Logs delivers it to SmsDeliveryStatusFunction: a notice
SMS the carrier did not deliver is marked on its violation."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from murur.lifecycle import ISSUE_ACTOR
from murur.violations import SmsStatus, ViolationsRepository

from .conftest import Account, load_function
from .test_violation_transitions import violation

PHONE = "+22236123456"


@pytest.fixture
def delivery_status(account: Account) -> Any:
    # ViolationsTable with the sms-message-index the template declares (hash key only).
    account.client("dynamodb").create_table(
        TableName="violations-table", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"}
                              for name in ("violation_id", "sms_message_id")],
        KeySchema=[{"AttributeName": "violation_id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[{"IndexName": "sms-message-index", "Projection": {"ProjectionType": "KEYS_ONLY"},
                                 "KeySchema": [{"AttributeName": "sms_message_id", "KeyType": "HASH"}]}],
    )
    account.env("VIOLATIONS_TABLE", "violations-table")
    return load_function("sms_delivery_status")


def notified(account: Account, violation_id: str, message_id: str | None) -> None:
    repository = ViolationsRepository(account.client("dynamodb"), "violations-table")
    record = violation().model_copy(update={"violation_id": violation_id})
    assert repository.put_new(record, actor=ISSUE_ACTOR)
    assert repository.record_notified(violation_id, notified_at=datetime.now(UTC) - timedelta(minutes=5),
                                      sms_status=SmsStatus.SENT if message_id else SmsStatus.NO_PHONE,
                                      sms_message_id=message_id, sms_segments=2 if message_id else None,
                                      language="ar")


def log_entry(message_id: str, status: str, response: str) -> dict[str, Any]:
    """An entry as SNS writes it (its documented shape), destination number included."""
    return {"notification": {"messageId": message_id, "timestamp": "2026-11-29 06:40:34.558"},
            "delivery": {"phoneCarrier": "Mattel", "mnc": 1, "mcc": 609, "destination": PHONE,
                         "priceInUSD": 0.05, "smsType": "Transactional", "providerResponse": response,
                         "dwellTimeMs": 600},
            "status": status}


def subscription_event(entries: list[dict[str, Any]]) -> dict[str, Any]:
    data = {"messageType": "DATA_MESSAGE", "owner": "123456789012",
            "logGroup": "sns/us-east-1/123456789012/DirectPublishToPhoneNumber/Failure",
            "logStream": "stream", "subscriptionFilters": ["NoticeSmsFailed"],
            "logEvents": [{"id": str(n), "timestamp": 1764398434558, "message": json.dumps(entry)}
                          for n, entry in enumerate(entries)]}
    return {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(data).encode())).decode()}}


def test_an_undelivered_notice_sms_is_marked_on_its_violation(
        account: Account, delivery_status: Any, invoke: Any, caplog: pytest.LogCaptureFixture) -> None:
    notified(account, "MR26-AAAAAAAAAA", "sns-message-1")
    notified(account, "MR26-BBBBBBBBBB", "sns-message-2")
    notified(account, "MR26-CCCCCCCCCC", None)  # no phone: nothing in the index

    report = invoke(delivery_status, subscription_event([
        log_entry("sns-message-1", "FAILURE", "Phone is currently unreachable/unavailable"),
        log_entry("sns-message-9", "FAILURE", "Unknown error attempting to reach phone"),  # a reminder's SMS
    ]))
    assert report == {"failures_recorded": 1, "not_a_notice": 1, "delivered": 0}
    items = {item["violation_id"]: item for item in account.items("VIOLATIONS_TABLE")}
    failed = items["MR26-AAAAAAAAAA"]
    assert failed["sms_delivery"] == "FAILED" and failed["sms_delivery_failed_at"]
    assert failed["sms_provider_response"] == "Phone is currently unreachable/unavailable"
    assert failed["status"] == "NOTIFIED"  # its lifecycle is not the carrier's to change
    assert "sms_delivery" not in items["MR26-BBBBBBBBBB"]
    assert "sms_message_id" not in items["MR26-CCCCCCCCCC"]
    assert PHONE not in json.dumps(items, default=str) and PHONE not in caplog.text
