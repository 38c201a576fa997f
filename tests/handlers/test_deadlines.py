"""The deadlines job on moto: one reminder before the deadline, OVERDUE with one surcharge after it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import murur
from murur.lifecycle import NOTIFY_ACTOR, ViolationStatus
from murur.violations import ViolationsRepository

from .conftest import Account, load_function
from .test_notify import ARABIC, portal_events, sms_outbox
from .test_violation_transitions import OWNER, violation

S = ViolationStatus
FRENCH_OWNER = {"plate": "1907KN00", "owner_name": "Aminata Ba", "owner_nni": "2345678901",
                "owner_phone": "+22246234567", "language": "fr"}


@pytest.fixture
def deadlines(account: Account) -> Any:
    account.table("VEHICLES_TABLE")
    account.table("VIOLATIONS_TABLE")
    account.parameter((Path(murur.__file__).parent / "fines_default.json").read_text())
    account.env("PORTAL_BASE_URL", "https://khidmati.gov.mr/murur")
    bus = account.event_bus()
    # The portal, seen from the test: a queue receiving every event on the bus.
    sqs, events = account.client("sqs"), account.client("events")
    queue_url = sqs.create_queue(QueueName="portal")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="all", EventBusName=bus, EventPattern=json.dumps({"source": ["murur"]}))
    events.put_targets(Rule="all", EventBusName=bus, Targets=[{"Id": "portal", "Arn": queue_arn}])
    account.put("VEHICLES_TABLE", OWNER)
    account.put("VEHICLES_TABLE", FRENCH_OWNER)
    return load_function("deadlines")


def add(account: Account, violation_id: str, deadline_in: timedelta, status: ViolationStatus = S.NOTIFIED,
        owner: dict[str, str] = OWNER) -> None:
    """A violation issued and notified as the chain leaves it, then moved on to `status`."""
    deadline_at = datetime.now(UTC) + deadline_in
    record = violation().model_copy(update={
        "violation_id": violation_id, "plate": owner["plate"], "owner_nni": owner["owner_nni"],
        "issued_at": deadline_at - timedelta(days=30), "deadline_at": deadline_at})
    repository = ViolationsRepository(account.client("dynamodb"), "violations-table")
    assert repository.put_new(record, actor="system:issue_violation")
    path = {S.ISSUED: [], S.NOTIFIED: [S.NOTIFIED], S.PAID: [S.NOTIFIED, S.PAID],
            S.OBJECTED: [S.NOTIFIED, S.OBJECTED], S.UPHELD: [S.NOTIFIED, S.OBJECTED, S.UPHELD]}[status]
    for step in path:
        repository.transition(violation_id, step, actor=NOTIFY_ACTOR if step is S.NOTIFIED else "system:test",
                              at=record.issued_at)


def stored(account: Account) -> dict[str, dict[str, Any]]:
    return {item["violation_id"]: item for item in account.items("VIOLATIONS_TABLE")}


def test_a_violation_two_days_from_its_deadline_gets_one_reminder(
        account: Account, deadlines: Any, invoke: Any) -> None:
    add(account, "MR26-AAAAAAAAAA", timedelta(days=2))
    add(account, "MR26-BBBBBBBBBB", timedelta(days=2), owner=FRENCH_OWNER)
    add(account, "MR26-CCCCCCCCCC", timedelta(days=10))  # not yet

    first = invoke(deadlines, {})
    assert first == {"reminders_sent": 2, "reminders_without_sms": 0, "overdue": 0, "skipped": 0,
                     "overdue_events_resent": 0, "reminders_failed": 0}
    outbox = dict(sms_outbox())
    assert set(outbox) == {OWNER["owner_phone"], FRENCH_OWNER["owner_phone"]}
    assert ARABIC.search(outbox[OWNER["owner_phone"]]) and "MR26-AAAAAAAAAA" in outbox[OWNER["owner_phone"]]
    assert "rappel" in outbox[FRENCH_OWNER["owner_phone"]]
    items = stored(account)
    assert items["MR26-AAAAAAAAAA"]["reminded_at"] and items["MR26-AAAAAAAAAA"]["reminder_sms_status"] == "SENT"
    assert "reminded_at" not in items["MR26-CCCCCCCCCC"]
    assert items["MR26-AAAAAAAAAA"]["status"] == "NOTIFIED"

    # A second run sends nothing more and changes nothing.
    second = invoke(deadlines, {})
    assert second == {"reminders_sent": 0, "reminders_without_sms": 0, "overdue": 0, "skipped": 0,
                     "overdue_events_resent": 0, "reminders_failed": 0}
    assert len(sms_outbox()) == 2
    assert stored(account) == items


def test_a_violation_past_its_deadline_becomes_overdue_with_one_surcharge(
        account: Account, deadlines: Any, invoke: Any) -> None:
    add(account, "MR26-AAAAAAAAAA", -timedelta(hours=1))

    assert invoke(deadlines, {})["overdue"] == 1
    item = stored(account)["MR26-AAAAAAAAAA"]
    assert item["status"] == "OVERDUE"
    # 50 % of 4,000 MRU (fines_default.json).
    assert (item["amount_mru"], item["surcharge_mru"], item["amount_due_mru"]) == (4000, 2000, 6000)
    assert [(entry.get("from"), entry["to"]) for entry in item["history"]] == [
        (None, "ISSUED"), ("ISSUED", "NOTIFIED"), ("NOTIFIED", "OVERDUE")]
    assert item["history"][-1]["actor"] == "system:deadlines"
    assert sms_outbox() == []  # no reminder once the deadline has passed
    (event,) = portal_events(account)
    assert (event["source"], event["detail-type"]) == ("murur", "ViolationOverdue")
    assert event["detail"]["violation_id"] == "MR26-AAAAAAAAAA"
    assert (event["detail"]["surcharge_mru"], event["detail"]["amount_due_mru"]) == (2000, 6000)
    assert OWNER["owner_phone"] not in json.dumps(event)

    assert invoke(deadlines, {}) == {"reminders_sent": 0, "reminders_without_sms": 0, "overdue": 0, "skipped": 0,
                                     "overdue_events_resent": 0, "reminders_failed": 0}
    assert stored(account)["MR26-AAAAAAAAAA"] == item
    assert portal_events(account) == []  # the second run tells the portal nothing new


def test_an_overdue_event_a_failed_run_left_out_is_sent_by_the_next_run(
        account: Account, deadlines: Any, invoke: Any) -> None:
    from unittest import mock

    from moto.events.models import EventsBackend

    add(account, "MR26-AAAAAAAAAA", -timedelta(hours=1))
    refused = {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure"}]}
    with mock.patch.object(EventsBackend, "put_events", return_value=refused["Entries"]), \
            pytest.raises(Exception) as raised:
        invoke(deadlines, {})
    assert type(raised.value).__name__ == "TransientError"  # the run fails: DeadlinesFunctionErrorsAlarm
    item = stored(account)["MR26-AAAAAAAAAA"]
    assert item["status"] == "OVERDUE" and "overdue_event_for" not in item
    assert portal_events(account) == []

    report = invoke(deadlines, {})
    assert (report["overdue"], report["overdue_events_resent"]) == (0, 1)
    (event,) = portal_events(account)
    assert event["detail-type"] == "ViolationOverdue" and event["detail"]["amount_due_mru"] == 6000
    assert stored(account)["MR26-AAAAAAAAAA"]["overdue_event_for"] == item["deadline_at"]
    assert invoke(deadlines, {})["overdue_events_resent"] == 0


def test_an_upheld_fine_surcharged_before_is_not_surcharged_again(
        account: Account, deadlines: Any, invoke: Any) -> None:
    add(account, "MR26-AAAAAAAAAA", -timedelta(hours=1))
    invoke(deadlines, {})
    repository = ViolationsRepository(account.client("dynamodb"), "violations-table")
    now = datetime.now(UTC)
    repository.transition("MR26-AAAAAAAAAA", S.OBJECTED, actor="citizen:1234567890", at=now)
    repository.transition("MR26-AAAAAAAAAA", S.UPHELD, actor="officer:NKC-0042", at=now)

    assert invoke(deadlines, {})["overdue"] == 1
    item = stored(account)["MR26-AAAAAAAAAA"]
    assert item["status"] == "OVERDUE"
    assert (item["surcharge_mru"], item["amount_due_mru"]) == (2000, 6000)
    assert [entry["to"] for entry in item["history"]][-2:] == ["UPHELD", "OVERDUE"]


@pytest.mark.parametrize("status", [S.PAID, S.OBJECTED])
@pytest.mark.parametrize("deadline_in", [timedelta(days=2), -timedelta(days=1)])
def test_paid_and_contested_violations_are_untouched(
        account: Account, deadlines: Any, invoke: Any, status: ViolationStatus, deadline_in: timedelta) -> None:
    add(account, "MR26-AAAAAAAAAA", deadline_in, status)
    before = stored(account)
    assert invoke(deadlines, {}) == {"reminders_sent": 0, "reminders_without_sms": 0, "overdue": 0, "skipped": 0,
                     "overdue_events_resent": 0, "reminders_failed": 0}
    assert stored(account) == before
    assert sms_outbox() == []


def test_an_owner_without_a_phone_is_reminded_by_nobody_but_recorded_once(
        account: Account, deadlines: Any, invoke: Any) -> None:
    account.put("VEHICLES_TABLE", {**OWNER, "owner_phone": None})
    add(account, "MR26-AAAAAAAAAA", timedelta(days=1))
    assert invoke(deadlines, {})["reminders_without_sms"] == 1
    assert stored(account)["MR26-AAAAAAAAAA"]["reminder_sms_status"] == "NO_PHONE"
    assert invoke(deadlines, {})["reminders_without_sms"] == 0
    assert sms_outbox() == []


def test_the_logs_name_no_plate_phone_or_nni(
        account: Account, deadlines: Any, invoke: Any, caplog: pytest.LogCaptureFixture) -> None:
    add(account, "MR26-AAAAAAAAAA", timedelta(days=2))
    add(account, "MR26-BBBBBBBBBB", -timedelta(days=1))
    deadlines.logger.setLevel("INFO")
    with caplog.at_level("INFO"):
        invoke(deadlines, {})
    records = [record for record in caplog.records if record.getMessage() == "deadlines checked"]
    assert len(records) == 1
    logged = json.dumps([vars(record) for record in caplog.records], default=str)
    for secret in (OWNER["plate"], OWNER["owner_phone"], OWNER["owner_nni"]):
        assert secret not in logged


def test_a_reminder_sns_refuses_is_released_and_sent_by_the_next_run(
        account: Account, deadlines: Any, invoke: Any) -> None:
    from unittest import mock

    from moto.sns.exceptions import SNSException
    from moto.sns.models import SNSBackend

    class Throttled(SNSException):
        code = "KMSThrottling"
        message = "refused (test)"

    add(account, "MR26-AAAAAAAAAA", timedelta(days=2))
    add(account, "MR26-BBBBBBBBBB", -timedelta(hours=1))  # due for OVERDUE in the same run
    with mock.patch.object(SNSBackend, "publish", side_effect=Throttled()), pytest.raises(Exception) as raised:
        invoke(deadlines, {})
    # The run fails (DeadlinesFunctionErrorsAlarm, the schedule's retry) after doing the rest of its work.
    assert type(raised.value).__name__ == "SmsPublishFailed"
    items = stored(account)
    assert "reminded_at" not in items["MR26-AAAAAAAAAA"] and "reminder_sms_status" not in items["MR26-AAAAAAAAAA"]
    assert items["MR26-BBBBBBBBBB"]["status"] == "OVERDUE"

    report = invoke(deadlines, {})
    assert (report["reminders_sent"], report["reminders_failed"]) == (1, 0)
    assert len(sms_outbox()) == 1
    assert invoke(deadlines, {})["reminders_sent"] == 0
