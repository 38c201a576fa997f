"""A notice is never lost: SNS refusing SMS on the local stack (the real ASL and handlers).

SNS is made to refuse Publish below the API (moto's backend), so Notify's SmsGateway, the state
machine's Retry and Catch, the undelivered-notices queue and the re-drive all run as deployed. The
stack is started with retry_wait_scale=0: the ASL's back-off is real in AWS (10 s, x3, up to 5 min)
and would be slept for real by moto; here it is skipped, the retries themselves are not.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
from moto.sns.exceptions import SNSException
from moto.sns.models import SNSBackend
from test_chain import DEPLOYMENT_THRESHOLD, good_frame, needs_plate_reader, upload

from murur.local import LocalStack
from murur.local.__main__ import OperatorShell
from murur.local.operator import table_items
from murur.local.seed import seed_registry, vehicle
from murur.local.template import REPOSITORY_ROOT
from murur.ops.redrive import UndeliveredNotices, redrive_local
from murur.workflow import UndeliveredNotice

PLATE = "4821AB00"  # an Arabic-speaking owner with a phone (the demo registry)


class SmsRefused(SNSException):
    code = "KMSThrottling"
    message = "SMS refused (test)"


@contextmanager
def sns_refusing(times: int | None) -> Iterator[list[str]]:
    """SNS refuses the first `times` Publish calls (every one if None); yields the calls seen."""
    calls: list[str] = []
    original = SNSBackend.publish

    def publish(backend: SNSBackend, *args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs.get("phone_number") or "")
        if times is None or len(calls) <= times:
            raise SmsRefused()
        return original(backend, *args, **kwargs)

    with mock.patch.object(SNSBackend, "publish", publish):
        yield calls


@pytest.fixture
def stack() -> Iterator[LocalStack]:
    with LocalStack({"AutoIssueThreshold": DEPLOYMENT_THRESHOLD}, log_level="CRITICAL", retry_wait_scale=0) as local:
        seed_registry(local)
        yield local


def parked(stack: LocalStack) -> list[UndeliveredNotice]:
    """The undelivered-notices queue's messages, read without taking them (visibility 0)."""
    sqs = stack.client("sqs")
    url = stack.template.queue_url("UndeliveredNoticesQueue")
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    return [UndeliveredNotice.model_validate_json(message["Body"]) for message in messages]


def in_queue(stack: LocalStack) -> int:
    """Messages in the undelivered-notices queue, visible or taken by a re-drive that left them."""
    attributes = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.template.queue_url("UndeliveredNoticesQueue"), AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def portal_notices(stack: LocalStack) -> list[dict[str, Any]]:
    return [event for event in stack.portal_events() if event["detail-type"] == "ViolationIssued"]


def the_violation(stack: LocalStack) -> dict[str, Any]:
    (violation,) = table_items(stack, "ViolationsTable")
    return violation


def run_one_frame(stack: LocalStack) -> dict[str, Any]:
    upload(stack, good_frame(PLATE))
    (execution,) = stack.wait_for_executions(timeout=60)
    return execution


@needs_plate_reader
def test_sns_refusing_twice_then_accepting_sends_exactly_one_sms(stack: LocalStack) -> None:
    with sns_refusing(2) as calls:
        execution = run_one_frame(stack)
    assert execution["status"] == "SUCCEEDED", execution
    assert len(calls) == 3  # two refusals, retried by the ASL, then the one that went out
    (sms,) = stack.sms_outbox()
    assert sms["phone_number"] == vehicle(PLATE).owner_phone
    violation = the_violation(stack)
    assert violation["status"] == "NOTIFIED" and violation["sms_message_id"] == sms["message_id"]
    assert "notice_undelivered_at" not in violation
    assert parked(stack) == []
    # The portal, and through it the citizen, hears of the violation once, not once per attempt.
    assert len(portal_notices(stack)) == 1


@needs_plate_reader
def test_sns_refusing_every_time_parks_the_notice_and_the_violation_stands(stack: LocalStack) -> None:
    with sns_refusing(None) as calls:
        execution = run_one_frame(stack)
    # The frame's work is done: the violation is issued; only its notice waits.
    assert execution["status"] == "SUCCEEDED", execution
    assert len(calls) == 5  # the first try and the four retries of the deployed definition
    assert stack.sms_outbox() == []

    violation = the_violation(stack)
    assert violation["status"] == "ISSUED"
    assert "notified_at" not in violation
    assert violation["notice_error"] == "SmsPublishFailed"
    assert violation["notice_undelivered_at"]
    # Nothing of the violation itself was lost or changed: its evidence and amount are there.
    assert violation["amount_mru"] == 4000 and violation["evidence_frame_key"] and violation["evidence_annotated_key"]
    assert [entry["to"] for entry in violation["history"]] == ["ISSUED"]

    (notice,) = parked(stack)
    assert notice.violation_id == violation["violation_id"]
    assert notice.frame_id == violation["frame_id"]
    assert notice.error == "SmsPublishFailed"
    assert notice.execution_arn == execution["executionArn"]
    frame = next(f for f in table_items(stack, "FramesTable") if f["frame_id"] == violation["frame_id"])
    assert frame["status"] == "VIOLATION_ISSUED"


@needs_plate_reader
def test_the_redrive_sends_a_parked_notice_once_even_if_parked_twice(stack: LocalStack) -> None:
    with sns_refusing(None):
        run_one_frame(stack)
    (notice,) = parked(stack)
    # The same notice parked a second time (a hand-made repair, a replayed execution).
    UndeliveredNotices(stack.client("sqs"), stack.template.queue_url("UndeliveredNoticesQueue")).park(notice)

    report = redrive_local(stack)
    assert (report.delivered, report.already_notified, report.still_undelivered, report.unreadable) == (1, 1, 0, 0)
    (sms,) = stack.sms_outbox()
    assert sms["phone_number"] == vehicle(PLATE).owner_phone and notice.violation_id in sms["message"]
    violation = the_violation(stack)
    assert violation["status"] == "NOTIFIED" and violation["notified_at"]
    assert violation["notice_undelivered_at"]  # when it first failed stays on the record
    assert in_queue(stack) == 0

    again = redrive_local(stack)
    assert (again.delivered, again.already_notified) == (0, 0)
    assert len(stack.sms_outbox()) == 1
    # Five attempts in the chain and two re-drives: one portal event.
    assert len(portal_notices(stack)) == 1


@needs_plate_reader
def test_a_notice_that_still_cannot_go_out_stays_parked(stack: LocalStack) -> None:
    with sns_refusing(None):
        run_one_frame(stack)
        report = redrive_local(stack)
    assert (report.delivered, report.still_undelivered) == (0, 1)
    assert stack.sms_outbox() == []
    assert in_queue(stack) == 1
    assert the_violation(stack)["status"] == "ISSUED"


@needs_plate_reader
def test_the_operator_shell_redrives_parked_notices(stack: LocalStack, capsys: pytest.CaptureFixture[str]) -> None:
    with sns_refusing(None):
        run_one_frame(stack)
    OperatorShell(stack).onecmd("redrive_notices")
    assert "delivered=1" in capsys.readouterr().out
    assert len(stack.sms_outbox()) == 1


def test_a_message_that_is_not_a_parked_notice_is_left_for_a_person(stack: LocalStack) -> None:
    sqs, url = stack.client("sqs"), stack.template.queue_url("UndeliveredNoticesQueue")
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"something": "else"}))
    report = redrive_local(stack)
    assert (report.unreadable, report.delivered) == (1, 0)
    assert in_queue(stack) == 1


def test_the_parked_message_is_exactly_an_undelivered_notice() -> None:
    states = json.loads((REPOSITORY_ROOT / "statemachine" / "frame_pipeline.asl.json").read_text())["States"]
    body = states["ParkUndeliveredNotice"]["Parameters"]["MessageBody"]
    assert {key.removesuffix(".$") for key in body} == set(UndeliveredNotice.model_fields)
    assert states["Notify"]["Catch"][-1]["Next"] == "ParkUndeliveredNotice"
    assert states["ParkUndeliveredNotice"]["Next"] == "RecordNoticeUndelivered"


@needs_plate_reader
def test_an_owner_without_a_phone_is_told_by_the_portal_only_and_that_is_recorded(stack: LocalStack) -> None:
    upload(stack, good_frame("5093TA04"))  # the demo registry has no number for this owner
    (execution,) = stack.wait_for_executions(timeout=60)
    assert execution["status"] == "SUCCEEDED", execution
    assert stack.sms_outbox() == []
    violation = the_violation(stack)
    assert (violation["status"], violation["sms_status"]) == ("NOTIFIED", "NO_PHONE")
    assert violation["notified_at"] and violation["portal_notified_at"] and "sms_message_id" not in violation
    (event,) = portal_notices(stack)
    assert event["detail"]["violation_id"] == violation["violation_id"] and event["detail"]["sms_notice"] is False
    assert in_queue(stack) == 0
