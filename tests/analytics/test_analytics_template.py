"""The analytics resources as SAM deploys them: the stream mapping, the schedules, the officers' route."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from murur.local.template import load_template


@pytest.fixture(scope="module")
def translated() -> dict[str, Any]:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    from samtranslator.translator.transform import transform

    template = load_template()
    for logical_id, resource in template["Resources"].items():
        for uri in ("CodeUri", "ContentUri", "DefinitionUri"):
            if uri in resource.get("Properties", {}):
                resource["Properties"][uri] = f"s3://artefacts/{logical_id}"

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    return transform(template, {}, NoManagedPolicies())["Resources"]


def test_new_violations_reach_the_aggregation_with_partial_batch_failures_and_a_dead_letter_queue(
        translated: dict[str, Any]) -> None:
    (mapping,) = [r["Properties"] for r in translated.values() if r["Type"] == "AWS::Lambda::EventSourceMapping"
                  and r["Properties"]["FunctionName"] == {"Ref": "AggregateViolationsFunction"}]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["ViolationsTable", "StreamArn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True and mapping["MaximumRetryAttempts"] > 0
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["AnalyticsDeadLetterQueue", "Arn"]}
    (only,) = mapping["FilterCriteria"]["Filters"]
    assert json.loads(only["Pattern"]) == {"eventName": ["INSERT"]}


def test_black_spots_and_the_export_run_every_night_after_the_utc_day_closes(translated: dict[str, Any]) -> None:
    schedules = {r["Properties"]["Targets"][0]["Arn"]["Fn::GetAtt"][0]: r["Properties"]["ScheduleExpression"]
                 for r in translated.values()
                 if r["Type"] == "AWS::Events::Rule" and "ScheduleExpression" in r["Properties"]}
    assert schedules["BlackSpotsFunction"] == "cron(20 0 * * ? *)"
    assert schedules["ExportViolationsFunction"] == "cron(40 0 * * ? *)"


def test_the_black_spot_route_is_an_officers_route_of_the_api(translated: dict[str, Any]) -> None:
    api = translated["Api"]["Properties"]["Body"]
    route = api["paths"]["/officer/black-spots"]["get"]
    assert route["security"] == [{"OfficerAuthorizer": []}]
    assert "ObjectionFunction" in json.dumps(route["x-amazon-apigateway-integration"]["uri"])
