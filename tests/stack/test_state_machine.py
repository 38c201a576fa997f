"""The frame pipeline's ASL: every task recovers or records, and its JSONPaths match murur.workflow."""

from __future__ import annotations

import json
from typing import Any

import pytest

from murur.local.template import REPOSITORY_ROOT

ASL_PATH = REPOSITORY_ROOT / "statemachine" / "frame_pipeline.asl.json"
LAMBDA_TRANSIENT = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "TransientError",
}


@pytest.fixture(scope="module")
def states() -> dict[str, Any]:
    return json.loads(ASL_PATH.read_text())["States"]


def _tasks(states: dict[str, Any]) -> dict[str, Any]:
    return {name: state for name, state in states.items() if state["Type"] == "Task"}


def _lambda_tasks(states: dict[str, Any]) -> dict[str, Any]:
    return {name: state for name, state in _tasks(states).items() if ":::lambda:invoke" in state["Resource"]}


def test_lambda_tasks_are_the_five_functions(states: dict[str, Any]) -> None:
    assert set(_lambda_tasks(states)) == {"RecognizePlate", "RequestReview", "IssueViolation", "SectionControl",
                                          "Notify"}


# Notify also retries an SMS that SNS refused, with a longer back-off of its own, and parks whatever
# it could not deliver in the undelivered-notices queue instead of failing the frame.
EXTRA_RETRIED = {"Notify": {"SmsPublishFailed"}}
CAUGHT_INTO = {"Notify": "ParkUndeliveredNotice"}


def test_every_lambda_task_retries_transient_errors_and_catches_everything(states: dict[str, Any]) -> None:
    for name, state in _lambda_tasks(states).items():
        retried = {error for retrier in state["Retry"] for error in retrier["ErrorEquals"]}
        assert retried == LAMBDA_TRANSIENT | EXTRA_RETRIED.get(name, set()), name
        catchers = {catcher["ErrorEquals"][0]: catcher["Next"] for catcher in state["Catch"]}
        assert catchers["States.ALL"] == CAUGHT_INTO.get(name, "RecordFailure"), name
        assert all(catcher["ResultPath"] == "$.error" for catcher in state["Catch"]), name


def test_every_task_has_retry_and_catch(states: dict[str, Any]) -> None:
    for name, state in _tasks(states).items():
        assert state.get("Retry"), name
        assert any("States.ALL" in catcher["ErrorEquals"] for catcher in state.get("Catch", [])), name


def test_a_failure_is_recorded_then_fails_with_its_cause(states: dict[str, Any]) -> None:
    record = states["RecordFailure"]
    assert record["Resource"] == "arn:aws:states:::dynamodb:updateItem"
    values = record["Parameters"]["ExpressionAttributeValues"]
    assert values[":status"] == {"S": "FAILED"}
    assert values[":error"] == {"S.$": "$.error.Error"}
    assert values[":cause"] == {"S.$": "$.error.Cause"}
    assert record["Next"] == "Failed"
    assert states["Failed"]["Type"] == "Fail"
    assert states["Failed"]["CausePath"] == "$.error.Cause"


def test_every_path_ends_in_succeed_or_fail(states: dict[str, Any]) -> None:
    def successors(state: dict[str, Any]) -> set[str]:
        following = {state[key] for key in ("Next", "Default") if key in state}
        following |= {choice["Next"] for choice in state.get("Choices", [])}
        following |= {catcher["Next"] for catcher in state.get("Catch", [])}
        return following

    reachable, frontier = set(), [json.loads(ASL_PATH.read_text())["StartAt"]]
    while frontier:
        name = frontier.pop()
        if name in reachable:
            continue
        reachable.add(name)
        assert name in states, f"unknown state {name}"
        state = states[name]
        if state["Type"] not in {"Succeed", "Fail"}:
            assert successors(state) or state.get("End"), f"{name} leads nowhere"
        frontier.extend(successors(state))
    assert reachable == set(states), f"unreachable: {set(states) - reachable}"
