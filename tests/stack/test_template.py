"""template.yaml: lints clean, translates offline, and grants each piece only what it needs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from murur.local.template import REPOSITORY_ROOT, TEMPLATE_PATH, load_template

FUNCTIONS = {
    "IngestFrameFunction": "ingest_frame",
    "RecognizePlateFunction": "recognize_plate",
    "IssueViolationFunction": "issue_violation",
    "NotifyFunction": "notify",
    "RequestReviewFunction": "request_review",
    "DeadlinesFunction": "deadlines",
    "SectionControlFunction": "section_control",
    "AggregateViolationsFunction": "aggregate_violations",
    "BlackSpotsFunction": "black_spots",
    "ExportViolationsFunction": "export_violations",
    "ObjectionFunction": "objection",
    "SmsDeliveryStatusFunction": "sms_delivery_status",
    "PaymentWebhookFunction": "payment_webhook",
}


@pytest.fixture(scope="module")
def translated() -> dict[str, Any]:
    """The CloudFormation template SAM would deploy, translated offline."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    from samtranslator.translator.transform import transform

    template = load_template()
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        for uri in ("CodeUri", "ContentUri", "DefinitionUri"):
            if uri in properties:
                # The translator wants packaged artefacts; the contents do not matter here.
                properties[uri] = f"s3://artefacts/{logical_id}"

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    return transform(template, {}, NoManagedPolicies())["Resources"]


def test_cfn_lint_passes() -> None:
    from cfnlint.api import ManualArgs, lint
    from cfnlint.helpers import REGIONS as ALL_REGIONS

    # Every region but China's: Cognito (the officers' sign-in) is not offered there.
    regions = [region for region in ALL_REGIONS if not region.startswith("cn-")]
    matches = lint(TEMPLATE_PATH.read_text(), config=ManualArgs(include_experimental=True, regions=regions))
    # Errors and warnings, as the cfn-lint command fails on; informational notes are advice.
    problems = [match for match in matches if match.rule.id[0] in "EW"]
    assert problems == [], "\n".join(str(problem) for problem in problems)


def test_every_function_code_uri_holds_its_handler_folder() -> None:
    resources = load_template()["Resources"]
    for logical_id, folder in FUNCTIONS.items():
        assert resources[logical_id]["Properties"]["CodeUri"].rstrip("/") == f"functions/{folder}"
        assert (REPOSITORY_ROOT / "functions" / folder).is_dir()


def _referenced_resource(resource: Any) -> str:
    """The logical id an IAM Resource entry points at, or the literal string."""
    if isinstance(resource, str):
        return resource
    (function, argument), = resource.items()
    if function == "Ref":
        return argument
    if function == "Fn::GetAtt":
        return argument[0]
    if function == "Fn::Sub":
        if isinstance(argument, list):
            text, variables = argument
            (variable,) = variables.values()
            suffix = text.rsplit("}", 1)[1]
            return _referenced_resource(variable) + suffix
        if argument.startswith("arn:${AWS::Partition}:ssm:"):
            return argument.rsplit("${", 1)[1].rstrip("}")
        logical_id, suffix = argument[2:].split("}", 1)
        return logical_id.split(".")[0] + suffix
    raise AssertionError(f"unexpected IAM resource {resource}")


def grants(role: dict[str, Any]) -> dict[str, set[str]]:
    """{resource (logical id + path suffix, or "*"): actions allowed on it} for a role."""
    allowed: dict[str, set[str]] = {}
    for policy in role["Properties"].get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            for resource in resources:
                allowed.setdefault(_referenced_resource(resource), set()).update(actions)
    return allowed


S3_READ = {"s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation", "s3:GetObjectVersion", "s3:GetLifecycleConfiguration"}
DYNAMODB_READ = {"dynamodb:GetItem", "dynamodb:Scan", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:DescribeTable"}
DYNAMODB_CRUD = DYNAMODB_READ | {"dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                                 "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem"}


def _bucket(logical_id: str, actions: set[str]) -> dict[str, set[str]]:
    return {logical_id: actions, f"{logical_id}/*": actions}


def _table(logical_id: str, actions: set[str]) -> dict[str, set[str]]:
    return {logical_id: actions, f"{logical_id}/index/*": actions}


EXPECTED_GRANTS: dict[str, dict[str, set[str]]] = {
    "IngestFrameFunction": {
        **_bucket("FramesBucket", S3_READ),
        "FramesBucket/frames/*": {"s3:PutObjectTagging"},
        **_table("CamerasTable", DYNAMODB_READ),
        **_table("SectionsTable", DYNAMODB_READ),
        **_table("FramesTable", DYNAMODB_CRUD),
        "FramePipeline": {"states:StartExecution"},
    },
    "RecognizePlateFunction": _bucket("FramesBucket", S3_READ),
    "IssueViolationFunction": {
        **_bucket("FramesBucket", S3_READ),
        "EvidenceBucket/evidence/*": {"s3:PutObject"},
        **_table("VehiclesTable", DYNAMODB_READ),
        **_table("ViolationsTable", DYNAMODB_CRUD),
        **_table("FramesTable", DYNAMODB_CRUD),
        "FineScheduleParameter": {"ssm:GetParameter"},
    },
    "NotifyFunction": {
        **_table("VehiclesTable", DYNAMODB_READ),
        **_table("ViolationsTable", DYNAMODB_CRUD),
        "PortalEventBus": {"events:PutEvents"},
        # SMS to a phone number has no resource to name.
        "*": {"sns:Publish"},
    },
    "RequestReviewFunction": {
        **_table("ReviewsTable", DYNAMODB_CRUD),
        **_table("FramesTable", DYNAMODB_CRUD),
        # The frame in, the plate crop out beside it.
        "FramesBucket/frames/*": {"s3:GetObject"},
        "FramesBucket/reviews/*": {"s3:PutObject"},
    },
    "SectionControlFunction": {
        **_table("SectionsTable", DYNAMODB_READ),
        # Passages are added, looked up and bound in pairs, never deleted (their TTL removes them).
        "SectionPassagesTable": {"dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"},
        # Then what IssueViolation may: a section's violation is issued the same way.
        **_bucket("FramesBucket", S3_READ),
        "EvidenceBucket/evidence/*": {"s3:PutObject"},
        **_table("VehiclesTable", DYNAMODB_READ),
        **_table("ViolationsTable", DYNAMODB_CRUD),
        **_table("FramesTable", DYNAMODB_CRUD),
        "FineScheduleParameter": {"ssm:GetParameter"},
    },
    "AggregateViolationsFunction": {
        # The transaction's conditional offence row and its increments; nothing read, nothing deleted.
        "AnalyticsTable": {"dynamodb:PutItem", "dynamodb:UpdateItem"},
        # Lambda's failure record for a batch it gave up on (SAM adds it for DestinationConfig).
        "AnalyticsDeadLetterQueue": {"sqs:SendMessage"},
    },
    "BlackSpotsFunction": {
        **_table("CamerasTable", DYNAMODB_READ),
        "AnalyticsTable": {"dynamodb:Query", "dynamodb:PutItem"},
    },
    "ExportViolationsFunction": {
        **_table("CamerasTable", DYNAMODB_READ),
        "AnalyticsTable": {"dynamodb:Query"},
        "AnalyticsBucket/offences/*": {"s3:PutObject"},
        "AnalyticsBucket/cameras/*": {"s3:PutObject"},
    },
    "ObjectionFunction": {
        # Citizens' and officers' routes (murur.api): violations read by key or index, changed only by
        # conditional updates.
        "ViolationsTable": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
        "ViolationsTable/index/*": {"dynamodb:Query"},
        "VehiclesTable": {"dynamodb:GetItem"},
        "EvidenceBucket/evidence/*": {"s3:GetObject"},
        "ObjectionAttachmentsBucket/attachments/*": {"s3:PutObject", "s3:GetObject"},
        # The officers' black-spot route reads the current assessment.
        "AnalyticsTable": {"dynamodb:GetItem"},
        "FineScheduleParameter": {"ssm:GetParameter"},
        "*": {"sns:Publish"},
        "PortalEventBus": {"events:PutEvents"},
        # The officers' review routes (murur/api/reviews.py): the queue, a decision, presigned pictures.
        "ReviewsTable/index/status-index": {"dynamodb:Query"},
        "ReviewsTable": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
        "FramesBucket/frames/*": {"s3:GetObject"},
        "FramesBucket/reviews/*": {"s3:GetObject"},
        "FramePipeline": {"states:SendTaskSuccess"},
    },
    "SmsDeliveryStatusFunction": {
        # Finds the violation by SNS message id, marks its SMS undelivered: nothing else.
        "ViolationsTable/index/sms-message-index": {"dynamodb:Query"},
        "ViolationsTable": {"dynamodb:UpdateItem"},
    },
    "DeadlinesFunction": {
        **_table("VehiclesTable", DYNAMODB_READ),
        # Reads through status-index; writes only conditional updates on the table itself.
        "ViolationsTable": DYNAMODB_READ | {"dynamodb:UpdateItem"},
        "ViolationsTable/index/*": DYNAMODB_READ,
        "FineScheduleParameter": {"ssm:GetParameter"},
        "*": {"sns:Publish"},
        "PortalEventBus": {"events:PutEvents"},
    },
    "PaymentWebhookFunction": {
        # The violation by key and its conditional change to PAID; the owner's language.
        "ViolationsTable": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
        "VehiclesTable": {"dynamodb:GetItem"},
        # One record per transaction and its receipt claim: no scan, no delete.
        "PaymentsTable": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
        "IdempotencyTable": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"},
        "WalletWebhookSecrets": {"secretsmanager:GetSecretValue"},
        "PortalEventBus": {"events:PutEvents"},
        "*": {"sns:Publish"},
    },
}


# SAM attaches this to every function with a DynamoDB stream event (reading the stream); it cannot be left out.
EXTRA_MANAGED_POLICIES = {
    "AggregateViolationsFunction": {"arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole"},
}


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_each_function_role_grants_only_what_the_function_needs(translated: dict[str, Any], function: str) -> None:
    role = translated[f"{function}Role"]
    actual = grants(role)
    assert actual == EXPECTED_GRANTS[function]
    assert set(role["Properties"]["ManagedPolicyArns"]) == {
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    } | EXTRA_MANAGED_POLICIES.get(function, set())


def test_state_machine_role_invokes_the_five_task_functions_and_updates_two_tables(translated: dict[str, Any]) -> None:
    actual = grants(translated["FramePipelineRole"])
    log_delivery = actual.pop("*")
    assert all(action.startswith("logs:") for action in log_delivery)
    assert actual == {
        "RecognizePlateFunction*": {"lambda:InvokeFunction"},
        "IssueViolationFunction*": {"lambda:InvokeFunction"},
        "NotifyFunction*": {"lambda:InvokeFunction"},
        "RequestReviewFunction*": {"lambda:InvokeFunction"},
        "SectionControlFunction*": {"lambda:InvokeFunction"},
        "FramesTable": {"dynamodb:UpdateItem"},
        "ReviewsTable": {"dynamodb:UpdateItem"},
        # RecordNoticeUndelivered and ParkUndeliveredNotice.
        "ViolationsTable": {"dynamodb:UpdateItem"},
        "UndeliveredNoticesQueue": {"sqs:SendMessage"},
    }


def test_frames_uploaded_under_frames_prefix_trigger_ingest(translated: dict[str, Any]) -> None:
    rules = {name: r for name, r in translated.items()
             if r["Type"] == "AWS::Events::Rule" and "EventPattern" in r["Properties"]}
    assert len(rules) == 1
    (rule,) = rules.values()
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.s3"]
    assert pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["bucket"]["name"] == [{"Ref": "FramesBucket"}]
    assert pattern["detail"]["object"]["key"] == [{"prefix": "frames/"}]
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["IngestFrameFunction", "Arn"]}
    # The default bus: S3's EventBridge notifications only go there.
    assert "EventBusName" not in rule["Properties"]
    frames_bucket = translated["FramesBucket"]["Properties"]
    assert frames_bucket["NotificationConfiguration"]["EventBridgeConfiguration"]["EventBridgeEnabled"] is True


def test_the_deadlines_function_runs_hourly_on_a_schedule(translated: dict[str, Any]) -> None:
    schedules = [r["Properties"] for r in translated.values()
                 if r["Type"] == "AWS::Events::Rule" and "ScheduleExpression" in r["Properties"]
                 and r["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": ["DeadlinesFunction", "Arn"]}]
    assert len(schedules) == 1
    (schedule,) = schedules
    assert schedule["ScheduleExpression"] == "rate(1 hour)"
    (target,) = schedule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["DeadlinesFunction", "Arn"]}


def test_state_machine_is_standard_traced_and_logged(translated: dict[str, Any]) -> None:
    machine = translated["FramePipeline"]["Properties"]
    assert machine["StateMachineType"] == "STANDARD"
    assert machine["TracingConfiguration"] == {"Enabled": True}
    logging = machine["LoggingConfiguration"]
    assert logging["Level"] == "ALL"
    assert logging["IncludeExecutionData"] is False
    assert logging["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"] == {
        "Fn::GetAtt": ["FramePipelineLogGroup", "Arn"]
    }


def test_definition_substitutions_cover_every_placeholder_of_the_asl() -> None:
    from murur.local.template import definition_substitution_names

    machine = load_template()["Resources"]["FramePipeline"]["Properties"]
    text = (REPOSITORY_ROOT / machine["DefinitionUri"]).read_text()
    assert definition_substitution_names(text) == set(machine["DefinitionSubstitutions"])


TABLE_KEYS = {
    "CamerasTable": ({"camera_id"}, {}),
    "VehiclesTable": ({"plate"}, {}),
    "FramesTable": ({"frame_id"}, {"status-index": ("status", "received_at")}),
    "ViolationsTable": ({"violation_id"}, {
        "plate-index": ("plate", "issued_at"),
        "owner-index": ("owner_nni", "issued_at"),
        "status-index": ("status", "deadline_at"),
        "sms-message-index": ("sms_message_id",),
    }),
    "ReviewsTable": ({"frame_id"}, {"status-index": ("status", "requested_at")}),
    "SectionsTable": ({"section_id"}, {
        "entry-camera-index": ("entry_camera_id",),
        "exit-camera-index": ("exit_camera_id",),
    }),
    "AnalyticsTable": ({"pk", "sk"}, {}),
    "PaymentsTable": ({"payment_id"}, {"day-index": ("paid_day", "payment_id")}),
}


@pytest.mark.parametrize("table", sorted(TABLE_KEYS))
def test_tables_have_the_agreed_keys_and_indexes(table: str) -> None:
    properties = load_template()["Resources"][table]["Properties"]
    partition_keys, indexes = TABLE_KEYS[table]
    assert {key["AttributeName"] for key in properties["KeySchema"]} == partition_keys
    declared = {
        index["IndexName"]: tuple(key["AttributeName"] for key in index["KeySchema"])
        for index in properties.get("GlobalSecondaryIndexes", [])
    }
    assert declared == indexes
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"] == {"SSEEnabled": True}


def test_violations_table_streams_old_and_new_images() -> None:
    properties = load_template()["Resources"]["ViolationsTable"]["Properties"]
    assert properties["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}


def test_every_function_environment_variable_is_one_settings_knows() -> None:
    from murur import settings as settings_module

    known = {value for name, value in vars(settings_module).items() if name.startswith("ENV_")}
    template = load_template()
    variables = set(template["Globals"]["Function"]["Environment"]["Variables"])
    for logical_id in FUNCTIONS:
        variables |= set(template["Resources"][logical_id]["Properties"].get("Environment", {}).get("Variables", {}))
    ours = {name for name in variables if not name.startswith("POWERTOOLS_") and name != "STAGE"}
    assert ours <= known, ours - known
    assert known <= variables, known - variables


def test_fine_schedule_default_is_the_domain_default() -> None:
    import murur

    default_path = Path(murur.__file__).parent / "fines_default.json"
    if not default_path.exists():
        pytest.skip("murur/fines_default.json is not in the tree yet")
    from murur.fines import FineSchedule

    template_value = load_template()["Resources"]["FineScheduleParameter"]["Properties"]["Value"]
    assert json.loads(template_value) == json.loads(default_path.read_text())
    assert FineSchedule.model_validate_json(template_value) == FineSchedule.model_validate_json(default_path.read_text())


def test_the_payment_webhook_is_on_the_api_without_a_jwt(translated: dict[str, Any]) -> None:
    event = load_template()["Resources"]["PaymentWebhookFunction"]["Properties"]["Events"]["PaymentNotice"]
    assert event["Type"] == "HttpApi"
    assert event["Properties"]["ApiId"] == {"Ref": "Api"}
    assert event["Properties"]["Path"] == "/payments/{provider}/webhook"
    # Providers are servers with no Khidmati token: every delivery is HMAC-signed instead.
    assert event["Properties"]["Auth"] == {"Authorizer": "NONE"}
    paths = translated["Api"]["Properties"]["Body"]["paths"]
    # SAM's way of writing "no authorizer" over the API's default one.
    assert paths["/payments/{provider}/webhook"]["post"]["security"] == [{"NONE": []}]
    assert paths["/violations"]["get"]["security"] == [{"KhidmatiAuthorizer": []}]


def test_payment_tables_keep_payments_and_expire_idempotency_records() -> None:
    resources = load_template()["Resources"]
    assert resources["PaymentsTable"]["DeletionPolicy"] == "Retain"
    assert resources["IdempotencyTable"]["Properties"]["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert resources["IdempotencyTable"]["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": "expiration", "Enabled": True}
    # The secret is created empty and set by operators: no signing secret lives in the template.
    secret = resources["WalletWebhookSecrets"]["Properties"]
    assert "SecretString" not in secret and "GenerateSecretString" not in secret
