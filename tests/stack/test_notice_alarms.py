"""template.yaml: undelivered notices, failed SMS and a failing deadlines job each reach an operator."""

from __future__ import annotations

from typing import Any

import pytest

from murur.local.template import load_template


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    return load_template()["Resources"]


def _alarms_on(resources: dict[str, Any], namespace: str, metric: str) -> list[dict[str, Any]]:
    return [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"
            and r["Properties"]["Namespace"] == namespace and r["Properties"]["MetricName"] == metric]


def test_the_undelivered_notices_queue_is_encrypted_and_alarmed(resources: dict[str, Any]) -> None:
    queue = resources["UndeliveredNoticesQueue"]
    assert queue["Type"] == "AWS::SQS::Queue"
    assert queue["Properties"]["SqsManagedSseEnabled"] is True
    assert queue["Properties"]["MessageRetentionPeriod"] == 1209600
    (alarm,) = _alarms_on(resources, "AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["UndeliveredNoticesQueue", "QueueName"]}}]
    assert alarm["Threshold"] == 1 and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_a_failed_sms_delivery_is_counted_from_the_sns_delivery_log_and_alarmed(resources: dict[str, Any]) -> None:
    role = resources["SmsDeliveryStatusRole"]["Properties"]
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    # The names SNS writes SMS delivery status to (DirectPublishToPhoneNumber[/Failure]).
    assert resources["SmsFailedLogGroup"]["Properties"]["LogGroupName"] == {
        "Fn::Sub": "sns/${AWS::Region}/${AWS::AccountId}/DirectPublishToPhoneNumber/Failure"}
    assert resources["SmsDeliveredLogGroup"]["Properties"]["LogGroupName"] == {
        "Fn::Sub": "sns/${AWS::Region}/${AWS::AccountId}/DirectPublishToPhoneNumber"}
    metric_filter = resources["SmsDeliveryFailuresMetricFilter"]["Properties"]
    assert metric_filter["LogGroupName"] == {"Ref": "SmsFailedLogGroup"}
    (transformation,) = metric_filter["MetricTransformations"]
    (alarm,) = _alarms_on(resources, transformation["MetricNamespace"], transformation["MetricName"])
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_errors_of_the_deadlines_job_are_alarmed(resources: dict[str, Any]) -> None:
    alarms = [alarm for alarm in _alarms_on(resources, "AWS/Lambda", "Errors")
              if alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "DeadlinesFunction"}}]]
    (alarm,) = alarms
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    # The job runs hourly: one failed run is enough to call someone.
    assert alarm["Period"] == 3600 and alarm["Threshold"] == 1


def test_the_evidence_bucket_is_versioned_and_object_locked_by_default(resources: dict[str, Any]) -> None:
    bucket = resources["EvidenceBucket"]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["ObjectLockEnabled"] is True
    retention = bucket["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
    assert retention == {"Mode": {"Ref": "EvidenceLockMode"}, "Years": {"Ref": "EvidenceRetentionYears"}}
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
