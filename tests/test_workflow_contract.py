"""statemachine/frame_pipeline.asl.json against murur.workflow: the JSONPaths and the models agree."""

from __future__ import annotations

import json
from typing import Any

import pytest

from murur import workflow
from murur.local.template import REPOSITORY_ROOT

ASL_PATH = REPOSITORY_ROOT / "statemachine" / "frame_pipeline.asl.json"


@pytest.fixture(scope="module")
def states() -> dict[str, Any]:
    return json.loads(ASL_PATH.read_text())["States"]


def _tasks(states: dict[str, Any]) -> dict[str, Any]:
    return {name: state for name, state in states.items() if state["Type"] == "Task"}


def _selected_fields(state: dict[str, Any]) -> set[str]:
    return {key.removesuffix(".$") for key in state["ResultSelector"]}


@pytest.mark.parametrize(
    ("state_name", "result_path", "model"),
    [
        ("RecognizePlate", "$.recognition", workflow.RecognitionResult),
        ("IssueViolation", "$.violation", workflow.IssueResult),
        ("SectionControl", "$.violation", workflow.IssueResult),
        ("Notify", "$.notification", workflow.NotifyResult),
    ],
)
def test_each_lambda_result_is_selected_whole_into_its_slot(
    states: dict[str, Any], state_name: str, result_path: str, model: type
) -> None:
    state = states[state_name]
    assert state["Parameters"]["Payload.$"] == "$"
    assert state["ResultPath"] == result_path
    assert _selected_fields(state) == set(model.model_fields)
    for field, path in state["ResultSelector"].items():
        assert path == f"$.Payload.{field.removesuffix('.$')}"


def test_prepare_builds_the_frame_input(states: dict[str, Any]) -> None:
    prepared = {key.removesuffix(".$") for key in states["Prepare"]["Parameters"]}
    assert set(workflow.FrameInput.model_fields) <= prepared
    assert "review" in prepared and "review" in workflow.IssueInput.model_fields
    assert states["Prepare"]["Parameters"]["execution_arn.$"] == "$$.Execution.Id"


def test_state_document_slots_match_the_issue_and_notify_inputs(states: dict[str, Any]) -> None:
    slots = {"frame", "execution_arn", "review"}
    for name in ("RecognizePlate", "RequestReview", "IssueViolation", "Notify"):
        slots.add(states[name]["ResultPath"].removeprefix("$."))
    assert set(workflow.IssueInput.model_fields) <= slots
    assert set(workflow.NotifyInput.model_fields) <= slots


def test_request_review_sends_state_and_token(states: dict[str, Any]) -> None:
    state = states["RequestReview"]
    assert state["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
    payload = state["Parameters"]["Payload"]
    assert {key.removesuffix(".$") for key in payload} == set(workflow.ReviewRequestInput.model_fields)
    assert payload["task_token.$"] == "$$.Task.Token"
    assert state["ResultPath"] == "$.review"
    timeout_catch = [c for c in state["Catch"] if c["ErrorEquals"] == ["States.Timeout"]]
    assert timeout_catch and timeout_catch[0]["Next"] == "ExpireReview"


def test_choices_cover_every_decision_and_use_real_values(states: dict[str, Any]) -> None:
    decisions = {choice["StringEquals"] for choice in states["ReadDecision"]["Choices"]}
    assert decisions == {decision.value for decision in workflow.Decision}
    (discard,) = states["ReviewOutcome"]["Choices"]
    assert discard["Variable"] == "$.review.outcome"
    assert discard["StringEquals"] == workflow.ReviewOutcome.DISCARDED.value
    (notify,) = states["ShouldNotify"]["Choices"]
    assert notify["Variable"] == "$.violation.notify"
    assert workflow.IssueResult.model_fields["notify"].annotation is bool


FRAME_STATUSES = {"RECEIVED", "REJECTED", "UNREADABLE", "REVIEW_PENDING", "DISCARDED", "REVIEW_EXPIRED",
                  "VIOLATION_ISSUED", "UNKNOWN_PLATE", "FAILED"}


def test_direct_frame_updates_write_agreed_statuses_and_key(states: dict[str, Any]) -> None:
    for name, state in _tasks(states).items():
        if state["Resource"] != "arn:aws:states:::dynamodb:updateItem":
            continue
        parameters = state["Parameters"]
        if parameters["TableName"] == "${ViolationsTableName}":
            # RecordNoticeUndelivered marks the violation; its status is the lifecycle's to change.
            assert parameters["Key"] == {"violation_id": {"S.$": "$.violation.violation_id"}}, name
            assert "status" not in parameters["UpdateExpression"], name
            continue
        assert parameters["Key"] == {"frame_id": {"S.$": "$.frame.frame_id"}}, name
        status = parameters["ExpressionAttributeValues"][":status"]["S"]
        if parameters["TableName"] == "${FramesTableName}":
            assert status in FRAME_STATUSES, name
        else:
            assert parameters["TableName"] == "${ReviewsTableName}"
            assert status == "EXPIRED"
