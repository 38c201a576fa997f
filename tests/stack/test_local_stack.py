"""The local stack provisions what template.yaml declares and runs Lambda tasks the way Lambda does."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from murur.local import LocalStack
from murur.local.template import LocalTemplate, load_template


@pytest.fixture
def bare_stack(make_stack: Any) -> LocalStack:
    return make_stack(seeded=False)


def test_tables_are_created_with_the_template_keys_and_indexes(bare_stack: LocalStack) -> None:
    template = LocalTemplate(load_template())
    for logical_id, spec in template.of_type("AWS::DynamoDB::Table").items():
        table = bare_stack.client("dynamodb").describe_table(TableName=bare_stack.name(logical_id))["Table"]
        assert table["KeySchema"] == spec["Properties"]["KeySchema"]
        declared = {i["IndexName"]: i["KeySchema"] for i in spec["Properties"].get("GlobalSecondaryIndexes", [])}
        created = {i["IndexName"]: i["KeySchema"] for i in table.get("GlobalSecondaryIndexes", [])}
        assert created == declared
    violations = bare_stack.client("dynamodb").describe_table(TableName=bare_stack.name("ViolationsTable"))["Table"]
    assert violations["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"


def test_buckets_keep_their_protection(bare_stack: LocalStack) -> None:
    s3 = bare_stack.client("s3")
    evidence = bare_stack.name("EvidenceBucket")
    assert s3.get_bucket_versioning(Bucket=evidence)["Status"] == "Enabled"
    for bucket in (evidence, bare_stack.name("FramesBucket")):
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert all(block.values())


def test_functions_get_the_template_environment(bare_stack: LocalStack) -> None:
    configuration = bare_stack.client("lambda").get_function_configuration(
        FunctionName=bare_stack.name("IngestFrameFunction")
    )
    variables = configuration["Environment"]["Variables"]
    assert variables["STATE_MACHINE_ARN"] == bare_stack.state_machine_arn
    assert variables["FRAMES_TABLE"] == bare_stack.name("FramesTable")
    assert variables["POWERTOOLS_SERVICE_NAME"] == "ingest_frame"
    assert configuration["Runtime"] == "python3.12"


def test_the_scheduled_deadlines_function_runs_on_the_local_stack(bare_stack: LocalStack) -> None:
    # What the hourly schedule sends; an empty table has nothing due.
    event = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    response = bare_stack.client("lambda").invoke(FunctionName=bare_stack.name("DeadlinesFunction"),
                                                  Payload=json.dumps(event).encode())
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == {"reminders_sent": 0, "reminders_without_sms": 0,
                                                      "overdue": 0, "skipped": 0,
                                                      "overdue_events_resent": 0, "reminders_failed": 0}


def test_the_state_machine_is_the_asl_with_its_substitutions(bare_stack: LocalStack) -> None:
    machine = bare_stack.client("stepfunctions").describe_state_machine(stateMachineArn=bare_stack.state_machine_arn)
    assert "${" not in machine["definition"]
    states = json.loads(machine["definition"])["States"]
    function_arn = bare_stack.client("lambda").get_function(
        FunctionName=bare_stack.name("RecognizePlateFunction")
    )["Configuration"]["FunctionArn"]
    assert states["RecognizePlate"]["Parameters"]["FunctionName"] == function_arn
    assert states["RecordFailure"]["Parameters"]["TableName"] == bare_stack.name("FramesTable")


def test_parameters_can_be_overridden(make_stack: Any) -> None:
    stack = make_stack(seeded=False, AutoIssueThreshold="0.5", ReviewTimeoutSeconds="5")
    assert stack.functions["RecognizePlateFunction"].environment["AUTO_ISSUE_THRESHOLD"] == "0.5"
    machine = stack.client("stepfunctions").describe_state_machine(stateMachineArn=stack.state_machine_arn)
    assert "States.StringToJson('5')" in machine["definition"]


class TransientError(Exception):
    """Named like the domain's retryable error: Step Functions matches on the class name."""


def test_a_raising_handler_is_a_lambda_function_error_named_after_the_exception(bare_stack: LocalStack) -> None:
    def handler(event: Any, context: Any) -> Any:
        raise TransientError("registry timed out")

    bare_stack.functions["NotifyFunction"]._handler = handler
    response = bare_stack.client("lambda").invoke(FunctionName=bare_stack.name("NotifyFunction"), Payload=b"{}")
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "TransientError"
    assert error["errorMessage"] == "registry timed out"


def _frame() -> dict[str, Any]:
    return {
        "frame_id": "NKC-TVZ-01-F1", "bucket": "b", "key": "frames/NKC-TVZ-01/2026/11/28/F1.jpg", "etag": "e",
        "sha256": "0" * 64, "size_bytes": 10, "width": 4, "height": 3, "content_type": "image/jpeg",
        "camera_id": "NKC-TVZ-01", "captured_at": "2026-11-28T09:00:00Z", "received_at": "2026-11-28T09:00:01Z",
        "violation_type": "SPEEDING",
    }


def test_state_machine_retries_a_transient_error_then_records_a_failure(bare_stack: LocalStack) -> None:
    """The dispatcher's errors drive the ASL's Retry and Catch (stand-in handler: the dispatcher is under test)."""
    calls: list[Any] = []

    def recognize(event: Any, context: Any) -> Any:
        calls.append(event)
        if len(calls) == 1:
            raise TransientError("throttled")
        raise ValueError("model file unreadable")

    bare_stack.functions["RecognizePlateFunction"]._handler = recognize
    bare_stack.client("dynamodb").put_item(
        TableName=bare_stack.name("FramesTable"), Item={"frame_id": {"S": "NKC-TVZ-01-F1"}, "status": {"S": "RECEIVED"}}
    )
    arn = bare_stack.client("stepfunctions").start_execution(
        stateMachineArn=bare_stack.state_machine_arn, name="f1", input=json.dumps({"frame": _frame()})
    )["executionArn"]
    execution = bare_stack.wait_for_execution(arn, timeout=30)

    assert len(calls) == 2  # one retry of TransientError; ValueError is not retried
    assert calls[0]["execution_arn"] == arn  # Prepare added it
    assert execution["status"] == "FAILED"
    assert execution["error"] == "ValueError"
    item = bare_stack.client("dynamodb").get_item(
        TableName=bare_stack.name("FramesTable"), Key={"frame_id": {"S": "NKC-TVZ-01-F1"}}
    )["Item"]
    assert item["status"]["S"] == "FAILED"
    assert item["reason_code"]["S"] == "ValueError"
    assert "model file unreadable" in item["reason"]["S"]


@pytest.mark.parametrize(
    ("bucket_logical_id", "key", "delivered"),
    [("FramesBucket", "frames/NKC-TVZ-01/2026/11/28/F1.jpg", True),
     ("FramesBucket", "incoming/F1.jpg", False),
     ("EvidenceBucket", "frames/NKC-TVZ-01/2026/11/28/F1.jpg", False)],
)
def test_object_created_events_reach_ingest_only_as_the_rule_says(
    bare_stack: LocalStack, bucket_logical_id: str, key: str, delivered: bool
) -> None:
    received: list[Any] = []
    bare_stack.functions["IngestFrameFunction"]._handler = lambda event, context: received.append(event) or {}
    bucket = bare_stack.name(bucket_logical_id)
    bare_stack.client("s3").put_object(Bucket=bucket, Key=key, Body=b"jpeg")
    bare_stack.deliver_object_created(bucket, key)
    assert bool(received) is delivered
    if delivered:
        (event,) = received
        assert event["detail"]["object"]["key"] == key
        assert event["detail"]["object"]["size"] == 4
        assert event["detail-type"] == "Object Created"


def test_a_failing_frame_is_told_apart_in_the_stacks_diagnosis(bare_stack: LocalStack) -> None:
    """What a failing test's report shows (tests/conftest.py): the execution's error and cause, the frame's status."""
    bare_stack.functions.fault_injections["RecognizePlateFunction"] = ValueError("model file unreadable")
    bare_stack.client("dynamodb").put_item(
        TableName=bare_stack.name("FramesTable"), Item={"frame_id": {"S": "NKC-TVZ-01-F1"}, "status": {"S": "RECEIVED"}}
    )
    arn = bare_stack.client("stepfunctions").start_execution(
        stateMachineArn=bare_stack.state_machine_arn, name="f1", input=json.dumps({"frame": _frame()})
    )["executionArn"]
    bare_stack.wait_for_execution(arn, timeout=30)

    lines = bare_stack.diagnosis().splitlines()
    assert any(line.startswith("execution f1: FAILED") and "ValueError" in line and "model file unreadable" in line
               for line in lines), lines
    assert "FramesTable: NKC-TVZ-01-F1 FAILED ValueError" in lines
    assert "recognition NKC-TVZ-01-F1: ValueError best=None None threshold=None" in " ".join(lines)


def test_the_stack_restores_the_environment_it_found_even_after_an_outside_deletion(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from murur.local.functions import process_environment

    monkeypatch.setenv("MURUR_TEST_KEPT", "before")
    monkeypatch.delenv("MURUR_TEST_ADDED", raising=False)
    monkeypatch.delenv("MURUR_TEST_DELETED", raising=False)
    with process_environment({"MURUR_TEST_KEPT": "during", "MURUR_TEST_ADDED": "during", "MURUR_TEST_DELETED": "x"}):
        assert os.environ["MURUR_TEST_KEPT"] == os.environ["MURUR_TEST_ADDED"] == "during"
        del os.environ["MURUR_TEST_DELETED"]  # as a writer outside the lock would (a test's monkeypatch)

    assert os.environ["MURUR_TEST_KEPT"] == "before"
    assert "MURUR_TEST_ADDED" not in os.environ and "MURUR_TEST_DELETED" not in os.environ
