"""Aggregates from the violations stream: counted once per violation, a bad record reported alone."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from murur.analytics.aggregates import Dimension
from murur.lifecycle import NOTIFY_ACTOR, ViolationStatus
from murur.workflow import ViolationType

from .conftest import NNI, PLACES, PLATE, analytics, at, violation, write_violations

AGGREGATE = "AggregateViolationsFunction"
# 2026-11-23 is a Monday (ISO weekday 1).
MONDAY, TUESDAY = "2026-11-23", "2026-11-24"


def aggregate_events(stack: Any) -> list[dict[str, Any]]:
    return [call.event for call in stack.functions.invocations if call.function == AGGREGATE]


def test_each_new_violation_is_counted_once_by_every_dimension_even_when_delivered_again(stack: Any) -> None:
    violations = [
        violation(1, "NKC-TVZ-01", at(MONDAY, 7, 10)),
        violation(2, "NKC-TVZ-01", at(MONDAY, 7, 50), ViolationType.RED_LIGHT),
        violation(3, "NDB-RN2-01", at(TUESDAY, 18, 5)),
    ]
    repository = write_violations(stack, violations)
    # A status change is not an offence: the event's filter keeps it from the function.
    repository.transition(violations[0].violation_id, ViolationStatus.NOTIFIED, actor=NOTIFY_ACTOR, at=at(MONDAY, 8))

    (delivery,) = stack.deliver_streams()
    assert (delivery.records_read, delivery.records_delivered, delivery.given_up) == (4, 3, [])

    counters = analytics(stack).aggregates(date(2026, 11, 1), date(2026, 11, 30))
    monday, tuesday = date.fromisoformat(MONDAY), date.fromisoformat(TUESDAY)
    assert counters.series(Dimension.CAMERA) == {"NKC-TVZ-01": {monday: 2}, "NDB-RN2-01": {tuesday: 1}}
    assert counters.series(Dimension.NETWORK) == {"all": {monday: 2, tuesday: 1}}
    assert counters.totals(Dimension.TYPE) == {"SPEEDING": 2, "RED_LIGHT": 1}
    assert counters.totals(Dimension.REGION) == {"00": 2, "08": 1}
    assert counters.totals(Dimension.PLACE) == {PLACES["NKC-TVZ-01"][0]: 2, PLACES["NDB-RN2-01"][0]: 1}
    assert counters.totals(Dimension.HOUR) == {"07": 2, "18": 1}
    assert counters.weekday_hours() == {(1, 7): 2, (2, 18): 1}

    # Lambda delivers at least once: the same batch again, and a later pass, count nothing more.
    (event,) = aggregate_events(stack)
    assert stack.functions.invoke(AGGREGATE, event) == {"batchItemFailures": []}
    assert stack.deliver_streams()[0].records_read == 0
    assert analytics(stack).aggregates(date(2026, 11, 1), date(2026, 11, 30)) == counters

    # What analytics keeps of each offence carries nobody's identity.
    rows = analytics(stack).offence_rows(monday)
    assert [row.camera_id for row in rows] == ["NKC-TVZ-01", "NKC-TVZ-01"]
    stored = json.dumps(stack.client("dynamodb").scan(TableName=stack.name("AnalyticsTable"))["Items"])
    for personal in (PLATE, NNI, violations[0].frame_key, violations[0].execution_arn):
        assert personal not in stored


def test_a_record_that_cannot_be_counted_is_reported_alone_and_the_others_are_counted(stack: Any) -> None:
    good = [violation(1, "NKC-TVZ-01", at(MONDAY, 9)), violation(2, "NKC-KSR-02", at(MONDAY, 10))]
    write_violations(stack, good[:1])
    # A violation item that lost its camera (written by hand, outside the repository).
    dynamodb = stack.client("dynamodb")
    broken = {"violation_id": {"S": "MR26-BROKEN0001"}, "status": {"S": "ISSUED"}, "plate": {"S": PLATE},
              "owner_nni": {"S": NNI}, "violation_type": {"S": "SPEEDING"}, "amount_mru": {"N": "4000"},
              "captured_at": {"S": "2026-11-23T09:30:00Z"}, "issued_at": {"S": "2026-11-23T09:31:00Z"}}
    dynamodb.put_item(TableName=stack.name("ViolationsTable"), Item=broken)
    write_violations(stack, good[1:])

    (delivery,) = stack.deliver_streams(max_retry_attempts=2)

    first, *retries = aggregate_events(stack)
    sequence_numbers = [record["dynamodb"]["SequenceNumber"] for record in first["Records"]]
    assert len(sequence_numbers) == 3
    # Lambda was told exactly which record failed, and sent it (and what follows it) again.
    assert len(retries) == 2
    assert all(event["Records"][0]["dynamodb"]["SequenceNumber"] == sequence_numbers[1] for event in retries)
    assert delivery.given_up == sequence_numbers[1:]
    # The good ones counted once each, although the last one was delivered three times.
    counters = analytics(stack).aggregates(date(2026, 11, 23), date(2026, 11, 23))
    assert counters.series(Dimension.CAMERA) == {"NKC-TVZ-01": {date(2026, 11, 23): 1},
                                                 "NKC-KSR-02": {date(2026, 11, 23): 1}}
    # Lambda's failure record reaches the dead-letter queue: positions in the stream, no item data.
    sqs = stack.client("sqs")
    queue_url = sqs.get_queue_url(QueueName=stack.name("AnalyticsDeadLetterQueue"))["QueueUrl"]
    (message,) = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    failure = json.loads(message["Body"])
    assert failure["DDBStreamBatchInfo"]["startSequenceNumber"] == sequence_numbers[1]
    assert PLATE not in message["Body"] and NNI not in message["Body"]


def test_the_handler_reports_the_failed_record_by_its_sequence_number(stack: Any) -> None:
    write_violations(stack, [violation(1, "NKC-TVZ-01", at(MONDAY, 9)), violation(2, "NKC-TVZ-01", at(MONDAY, 11))])
    stack.deliver_streams()
    (event,) = aggregate_events(stack)
    first, second = event["Records"]
    corrupt = json.loads(json.dumps(second))
    corrupt["dynamodb"]["SequenceNumber"] = "999"
    corrupt["dynamodb"]["NewImage"]["violation_id"] = {"S": "MR26-OTHER00001"}
    corrupt["dynamodb"]["NewImage"]["captured_at"] = {"S": "yesterday at noon"}

    response = stack.functions.invoke(AGGREGATE, {"Records": [first, corrupt, second]})

    assert response == {"batchItemFailures": [{"itemIdentifier": "999"}]}
    counters = analytics(stack).aggregates(date(2026, 11, 23), date(2026, 11, 23))
    assert counters.totals(Dimension.CAMERA) == {"NKC-TVZ-01": 2}
