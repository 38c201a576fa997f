"""murur.ops.redrive finds a deployed stack's queue, tables, bus and portal URL from the stack itself."""

from __future__ import annotations

from typing import Any

import pytest

from murur.ops.redrive import StackNames, names_of_stack


class DeployedStack:
    """Answers DescribeStacks as CloudFormation does for a deployed Murur stack."""

    def __init__(self, outputs: dict[str, str], parameters: dict[str, str]) -> None:
        self._stack = {
            "Outputs": [{"OutputKey": key, "OutputValue": value} for key, value in outputs.items()],
            "Parameters": [{"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items()],
        }

    def describe_stacks(self, *, StackName: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
        return {"Stacks": [self._stack | {"StackName": StackName}]}


OUTPUTS = {
    "UndeliveredNoticesQueueUrl": "https://sqs.eu-west-3.amazonaws.com/111122223333/murur-prod-UndeliveredNotices",
    "ViolationsTableName": "murur-prod-ViolationsTable-1", "VehiclesTableName": "murur-prod-VehiclesTable-1",
    "PortalEventBusName": "murur-portal-prod", "FramesBucketName": "frames",
}


def test_the_names_come_from_the_stacks_outputs_and_portal_parameter() -> None:
    names = names_of_stack(DeployedStack(OUTPUTS, {"PortalBaseUrl": "https://khidmati.gov.mr/m", "Stage": "prod"}),
                           "murur-prod")
    assert names == StackNames(queue_url=OUTPUTS["UndeliveredNoticesQueueUrl"],
                               violations_table="murur-prod-ViolationsTable-1",
                               vehicles_table="murur-prod-VehiclesTable-1", portal_event_bus="murur-portal-prod",
                               portal_base_url="https://khidmati.gov.mr/m")


def test_a_stack_without_the_undelivered_notices_queue_is_refused() -> None:
    outputs = {key: value for key, value in OUTPUTS.items() if key != "UndeliveredNoticesQueueUrl"}
    with pytest.raises(ValueError, match="murur-old has no output UndeliveredNoticesQueueUrl"):
        names_of_stack(DeployedStack(outputs, {}), "murur-old")
