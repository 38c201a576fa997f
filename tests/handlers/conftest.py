"""Handler tests on moto: each test gets a fresh mocked account with just the resources it needs."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from murur import settings as settings_module
from murur.dynamo import to_item

REPOSITORY = Path(__file__).resolve().parents[2]
REGION = "us-east-1"

# The agreed keys (template.yaml creates the same): table -> (hash key, {index: (hash, range)}).
TABLES: dict[str, tuple[str, dict[str, tuple[str, str]]]] = {
    "CAMERAS_TABLE": ("camera_id", {}),
    "VEHICLES_TABLE": ("plate", {}),
    "FRAMES_TABLE": ("frame_id", {"status-index": ("status", "received_at")}),
    "VIOLATIONS_TABLE": ("violation_id", {"plate-index": ("plate", "issued_at"),
                                          "owner-index": ("owner_nni", "issued_at"),
                                          "status-index": ("status", "deadline_at")}),
    "REVIEWS_TABLE": ("frame_id", {"status-index": ("status", "requested_at")}),
}


@dataclass
class Account:
    """A mocked AWS account: creates resources on demand and points the handlers' settings at them."""

    monkeypatch: pytest.MonkeyPatch

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)

    def _set(self, variable: str, value: str) -> str:
        self.monkeypatch.setenv(variable, value)
        settings_module.settings.cache_clear()
        return value

    def table(self, variable: str) -> str:
        name = variable.lower().replace("_", "-")
        hash_key, indexes = TABLES[variable]
        attributes = {hash_key} | {name for index in indexes.values() for name in index}
        arguments: dict[str, Any] = {
            "TableName": name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)],
            "KeySchema": [{"AttributeName": hash_key, "KeyType": "HASH"}],
        }
        if indexes:
            arguments["GlobalSecondaryIndexes"] = [
                {"IndexName": index, "Projection": {"ProjectionType": "ALL"},
                 "KeySchema": [{"AttributeName": h, "KeyType": "HASH"}, {"AttributeName": r, "KeyType": "RANGE"}]}
                for index, (h, r) in indexes.items()
            ]
        self.client("dynamodb").create_table(**arguments)
        return self._set(variable, name)

    def bucket(self, variable: str) -> str:
        name = variable.lower().replace("_", "-")
        self.client("s3").create_bucket(Bucket=name)
        return self._set(variable, name)

    def put(self, variable: str, item: dict[str, Any]) -> None:
        self.client("dynamodb").put_item(TableName=variable.lower().replace("_", "-"), Item=to_item(item))

    def items(self, variable: str) -> list[dict[str, Any]]:
        from murur.dynamo import from_item

        scanned = self.client("dynamodb").scan(TableName=variable.lower().replace("_", "-"))["Items"]
        return [from_item(item) for item in scanned]

    def state_machine(self) -> str:
        role = self.client("iam").create_role(RoleName="pipeline", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        definition = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}
        arn = self.client("stepfunctions").create_state_machine(
            name="pipeline", definition=json.dumps(definition), roleArn=role)["stateMachineArn"]
        return self._set("STATE_MACHINE_ARN", arn)

    def event_bus(self) -> str:
        name = "portal"
        self.client("events").create_event_bus(Name=name)
        return self._set("PORTAL_EVENT_BUS", name)

    def parameter(self, value: str) -> str:
        name = "/murur/test/fine-schedule"
        self.client("ssm").put_parameter(Name=name, Type="String", Value=value)
        return self._set("FINE_SCHEDULE_PARAMETER", name)

    def env(self, variable: str, value: str) -> None:
        self._set(variable, value)


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[Account]:
    for variable, value in {
        "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_NAMESPACE": "Murur",
        "POWERTOOLS_SERVICE_NAME": "test", "POWERTOOLS_LOG_LEVEL": "WARNING",
    }.items():
        monkeypatch.setenv(variable, value)
    settings_module.settings.cache_clear()
    with mock_aws():
        yield Account(monkeypatch)
    settings_module.settings.cache_clear()


_loaded = 0


def load_function(name: str) -> ModuleType:
    """A fresh copy of functions/<name>/app.py, as a new Lambda container would import it."""
    global _loaded
    _loaded += 1
    spec = importlib.util.spec_from_file_location(f"function_{name}_{_loaded}", REPOSITORY / "functions" / name / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def invoke() -> Callable[[ModuleType, Any], Any]:
    def call(module: ModuleType, event: Any) -> Any:
        context = SimpleNamespace(function_name="test", memory_limit_in_mb=256, aws_request_id="req-1",
                                  invoked_function_arn=f"arn:aws:lambda:{REGION}:123456789012:function:test")
        return module.handler(event, context)

    return call
