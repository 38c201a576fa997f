from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from moto.sns.models import sns_backends

from murur.workflow import IssueOutcome, IssueResult, NotifyInput

from .conftest import REGION, Account, load_function
from .payloads import CAPTURED_AT, EXECUTION_ARN, stored_frame

ARABIC = re.compile(r"[\u0600-\u06FF]")
ISSUED_AT = datetime(2026, 11, 28, 9, 31, tzinfo=UTC)
OWNERS = {
    "4821AB00": {"owner_name": "Mohamed Ould Ahmed", "owner_nni": "1234567890", "owner_phone": "+22236123456",
                 "language": "ar"},
    "1907KN00": {"owner_name": "Aminata Ba", "owner_nni": "2345678901", "owner_phone": "+22246234567",
                 "language": "fr"},
    "5093TA04": {"owner_name": "Mariem Diallo", "owner_nni": "6789012345", "language": "fr"},
    "6142MR06": {"owner_name": "Oumar Sy", "owner_nni": "4567890123", "owner_phone": "0037456789", "language": "fr"},
}


@pytest.fixture
def notify(account: Account) -> Any:
    account.table("VEHICLES_TABLE")
    account.table("VIOLATIONS_TABLE")
    account.env("PORTAL_BASE_URL", "https://khidmati.gov.mr/murur")
    bus = account.event_bus()
    # The portal, seen from the test: a queue receiving every event on the bus.
    sqs, events = account.client("sqs"), account.client("events")
    queue_url = sqs.create_queue(QueueName="portal")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="all", EventBusName=bus, EventPattern=json.dumps({"source": ["murur"]}))
    events.put_targets(Rule="all", EventBusName=bus, Targets=[{"Id": "portal", "Arn": queue_arn}])
    for plate, owner in OWNERS.items():
        account.put("VEHICLES_TABLE", {"plate": plate, **owner})
    return load_function("notify")


def portal_events(account: Account) -> list[dict[str, Any]]:
    sqs = account.client("sqs")
    queue_url = sqs.get_queue_url(QueueName="portal")["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(message["Body"]) for message in messages]


def sms_outbox() -> list[tuple[str, str]]:
    return list(sns_backends["123456789012"][REGION].sms_messages.values())


def issued(account: Account, plate: str) -> dict[str, Any]:
    """A violation as issue_violation wrote it, and Notify's input."""
    account.client("s3").create_bucket(Bucket="frames-bucket")
    account.table("FRAMES_TABLE")
    frame = stored_frame(account)
    violation_id = "MR26-7KQ2M9XA4P"
    account.put("VIOLATIONS_TABLE", {
        "violation_id": violation_id, "status": "ISSUED", "violation_type": "SPEEDING", "plate": plate,
        "owner_nni": OWNERS[plate]["owner_nni"], "amount_mru": 4000, "currency": "MRU",
        "issued_at": ISSUED_AT.isoformat(), "deadline_at": (ISSUED_AT + timedelta(days=30)).isoformat(),
        "captured_at": CAPTURED_AT.isoformat(), "camera_id": frame.camera_id, "place": frame.place,
        "region_code": "00", "measured_speed_kmh": 87, "speed_limit_kmh": 60, "frame_id": frame.frame_id,
        "frame_bucket": frame.bucket, "frame_key": frame.key, "frame_sha256": frame.sha256,
        "evidence_bucket": "evidence-bucket", "evidence_frame_key": f"evidence/{violation_id}/frame.jpg",
        "evidence_frame_sha256": frame.sha256, "evidence_annotated_key": f"evidence/{violation_id}/annotated.jpg",
        "evidence_annotated_sha256": "0" * 64, "model_version": "test-model-1", "read_confidence": 0.97,
        "read_source": "model", "execution_arn": EXECUTION_ARN,
    })
    result = IssueResult(outcome=IssueOutcome.ISSUED, violation_id=violation_id, plate_text=plate, notify=True)
    return NotifyInput(frame=frame, execution_arn=EXECUTION_ARN, violation=result).model_dump(mode="json")


@pytest.mark.parametrize(("plate", "language"), [("4821AB00", "ar"), ("1907KN00", "fr")])
def test_the_owner_gets_one_sms_in_their_language_and_the_portal_one_event(
        account: Account, notify: Any, invoke: Any, plate: str, language: str) -> None:
    result = invoke(notify, issued(account, plate))

    ((phone, message),) = sms_outbox()
    assert phone == OWNERS[plate]["owner_phone"]
    assert "MR26-7KQ2M9XA4P" in message
    assert bool(ARABIC.search(message)) is (language == "ar")
    assert all(wallet in message for wallet in ("Bankily", "Masrvi", "Sedad"))
    assert "khidmati.gov.mr/murur" in message
    assert result["sms_sent"] is True and result["language"] == language and result["portal_event_sent"] is True
    assert result["sms_segments"] <= (3 if language == "ar" else 2)

    (violation,) = account.items("VIOLATIONS_TABLE")
    assert violation["status"] == "NOTIFIED"
    assert violation["notified_at"] == result["notified_at"]
    assert violation["sms_message_id"] == result["sms_message_id"]
    (event,) = portal_events(account)
    assert (event["source"], event["detail-type"]) == ("murur", "ViolationIssued")
    assert event["detail"]["violation_id"] == "MR26-7KQ2M9XA4P"
    assert event["detail"]["owner_nni"] == OWNERS[plate]["owner_nni"]
    assert OWNERS[plate]["owner_phone"] not in json.dumps(event)


def test_a_retried_notify_never_sends_the_sms_twice(account: Account, notify: Any, invoke: Any) -> None:
    task = issued(account, "4821AB00")
    first = invoke(notify, task)
    again = invoke(notify, task)
    assert len(sms_outbox()) == 1
    assert again == first


@pytest.mark.parametrize(("plate", "sms_status"), [("5093TA04", "NO_PHONE"), ("6142MR06", "INVALID_PHONE")])
def test_an_owner_without_a_usable_phone_gets_the_portal_event_only(
        account: Account, notify: Any, invoke: Any, plate: str, sms_status: str) -> None:
    result = invoke(notify, issued(account, plate))
    assert sms_outbox() == []
    assert result["sms_sent"] is False and result["sms_message_id"] is None
    (violation,) = account.items("VIOLATIONS_TABLE")
    assert violation["sms_status"] == sms_status and violation["notified_at"]
    (event,) = portal_events(account)
    assert event["detail"]["sms_notice"] is False


def test_a_violation_that_does_not_exist_is_an_error(account: Account, notify: Any, invoke: Any) -> None:
    task = issued(account, "4821AB00")
    task["violation"]["violation_id"] = "MR26-0000000000"
    with pytest.raises(Exception) as raised:
        invoke(notify, task)
    assert type(raised.value).__name__ == "ViolationNotFound"
    assert sms_outbox() == []


def test_an_sms_sns_refuses_is_an_sms_publish_failed_naming_no_number_and_nothing_is_recorded(
        account: Account, notify: Any, invoke: Any) -> None:
    from unittest import mock

    from moto.sns.exceptions import SNSInvalidParameter
    from moto.sns.models import SNSBackend

    task = issued(account, "4821AB00")
    refusal = SNSInvalidParameter(f"Invalid parameter: PhoneNumber Reason: {OWNERS['4821AB00']['owner_phone']}")
    with mock.patch.object(SNSBackend, "publish", side_effect=refusal), pytest.raises(Exception) as raised:
        invoke(notify, task)
    # The state machine retries this error by name, then parks the notice (murur.errors.SmsPublishFailed).
    assert type(raised.value).__name__ == "SmsPublishFailed"
    assert str(raised.value) == "SNS Publish: InvalidParameter"
    (violation,) = account.items("VIOLATIONS_TABLE")
    assert violation["status"] == "ISSUED" and "notified_at" not in violation
    # A later try (the retry, a re-drive) sends it and records it once; the portal was told once.
    invoke(notify, task)
    assert len(sms_outbox()) == 1
    assert account.items("VIOLATIONS_TABLE")[0]["status"] == "NOTIFIED"
    assert [event["detail-type"] for event in portal_events(account)] == ["ViolationIssued"]
