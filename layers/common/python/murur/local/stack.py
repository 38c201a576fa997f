"""The local embedded stack: template.yaml provisioned on moto, in this process.

    with LocalStack() as stack:
        stack.upload_frame(jpeg, key=..., metadata=...)   # S3 put + the EventBridge delivery
        stack.wait_for_executions()
        stack.client("dynamodb").scan(TableName=stack.name("ViolationsTable"))

Every AWS call goes to a real boto3 client; moto answers. Step Functions executions run on moto's
own ASL interpreter (``execute_state_machine``), whose Lambda tasks reach the real handlers through
:class:`murur.local.functions.LocalFunctions`. moto does not deliver S3 -> EventBridge, so
:meth:`LocalStack.deliver_object_created` builds the "Object Created" event and hands it to every
function whose EventBridge rule in the template matches it, as EventBridge would.
"""

from __future__ import annotations

import io
import json
import logging
import time
import uuid
import zipfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from unittest import mock

import boto3
from botocore.config import Config
from moto import mock_aws
from moto.events.models import EventPattern
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

from murur.local.functions import FunctionError, LocalFunction, LocalFunctions, process_environment
from murur.local.identity import LOCAL_PARAMETERS
from murur.local.template import LocalTemplate, load_template
from murur.reviews import ReviewsRepository

if TYPE_CHECKING:
    from murur.local.gateway import HttpResponse

MOTO_CONFIG = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}

# What Lambda's environment would provide and Powertools reads outside Lambda.
_LOCAL_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
}

FINISHED = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


@dataclass
class StreamDelivery:
    """What one deliver_streams() pass did for one function and table."""

    function: str
    table: str
    records_read: int = 0
    records_delivered: int = 0  # after the event's FilterCriteria
    invocations: int = 0
    given_up: list[str] = field(default_factory=list)  # sequence numbers sent to the OnFailure queue


class _ScaledSleep:
    """Stands in for the `time` module of moto's ASL retrier, which only calls time.sleep."""

    def __init__(self, scale: float) -> None:
        self._scale = scale

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds * self._scale)


class LocalStack:
    """Provision on enter, tear down (moto reset) on exit. One at a time per process."""

    def __init__(
        self,
        parameters: dict[str, str] | None = None,
        *,
        log_level: str | None = None,
        region: str = "us-east-1",
        retry_wait_scale: float = 1.0,
    ) -> None:
        """`retry_wait_scale`: multiplies the waits of the state machine's Retry back-offs, which moto
        sleeps for real (IntervalSeconds cannot go below 1 s in ASL); 0 lets a test run a retried
        path without waiting, the deployed definition unchanged."""
        # Khidmati's issuer is the local identity provider's unless a test says otherwise.
        self.template = LocalTemplate(load_template(), {**LOCAL_PARAMETERS, **(parameters or {})}, region=region)
        self.region = region
        self.log_level = log_level
        self.retry_wait_scale = retry_wait_scale
        self.functions = LocalFunctions([])
        self._exit_stack = ExitStack()
        self._clients: dict[str, Any] = {}
        # (function, table) -> the last stream sequence number handed to the function.
        self._stream_positions: dict[tuple[str, str], str] = {}
        self._gateway: Any = None

    # -------------------------------------------------------------- lifecycle
    def __enter__(self) -> "LocalStack":
        try:
            self._start()
        except BaseException:
            self._exit_stack.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._exit_stack.close()

    def _start(self) -> None:
        environment = {**_LOCAL_ENVIRONMENT, "AWS_DEFAULT_REGION": self.region, "AWS_REGION": self.region}
        if self.log_level:
            environment["POWERTOOLS_LOG_LEVEL"] = self.log_level
            # moto logs every failed execution with its internals; the frame record says it better.
            moto_logger = logging.getLogger("moto")
            self._exit_stack.callback(moto_logger.setLevel, moto_logger.level)
            moto_logger.setLevel(logging.CRITICAL)
        self._exit_stack.enter_context(process_environment(environment))
        self._exit_stack.enter_context(mock_aws(config=MOTO_CONFIG))
        if self.retry_wait_scale != 1.0:
            self._exit_stack.enter_context(mock.patch.object(retrier_decl, "time", _ScaledSleep(self.retry_wait_scale)))
        self.functions = LocalFunctions(self._local_functions())
        self._exit_stack.enter_context(self.functions.dispatching())
        self._provision()

    def _local_functions(self) -> list[LocalFunction]:
        functions = []
        for logical_id in self.template.of_type("AWS::Serverless::Function"):
            environment = self.template.function_environment(logical_id)
            if self.log_level:
                environment["POWERTOOLS_LOG_LEVEL"] = self.log_level
            functions.append(LocalFunction(
                logical_id=logical_id,
                name=self.template.physical_names[logical_id],
                arn=self.template.arn(logical_id),
                code_path=self.template.function_code_path(logical_id),
                handler_name=self.template.function_handler_name(logical_id),
                environment=environment,
                memory_mb=int(self.template.function_property(logical_id, "MemorySize") or 128),
                timeout_seconds=int(self.template.function_property(logical_id, "Timeout") or 3),
            ))
        return functions

    # -------------------------------------------------------------- provisioning
    def _provision(self) -> None:
        provisioners: dict[str, Callable[[str, dict[str, Any]], None]] = {
            "AWS::DynamoDB::Table": self._create_table,
            "AWS::S3::Bucket": self._create_bucket,
            "AWS::Events::EventBus": self._create_event_bus,
            "AWS::SSM::Parameter": self._create_parameter,
            "AWS::SNS::Topic": self._create_topic,
            "AWS::Logs::LogGroup": self._create_log_group,
            "AWS::SQS::Queue": self._create_queue,
            "AWS::SecretsManager::Secret": self._create_secret,
            "AWS::Glue::Database": self._create_glue_database,
            "AWS::Glue::Table": self._create_glue_table,
            "AWS::Athena::WorkGroup": self._create_athena_work_group,
            "AWS::Athena::NamedQuery": self._create_athena_named_query,
            "AWS::Serverless::Function": self._create_function,
        }
        # State machines last: their definitions name the functions and tables.
        for logical_id, spec in self.template.resources.items():
            provision = provisioners.get(spec["Type"])
            if provision is not None:
                provision(logical_id, self.template.resolve(spec.get("Properties", {})))
        for logical_id, spec in self.template.of_type("AWS::Serverless::StateMachine").items():
            self._create_state_machine(logical_id, self.template.resolve(spec["Properties"]))
        self._observe_portal_bus()

    def _observe_portal_bus(self) -> None:
        """Locally the Khidmati portal is a queue: a rule on the portal bus copies every event to it."""
        sqs, events = self.client("sqs"), self.client("events")
        queue_url = sqs.create_queue(QueueName=f"{self.template.stack_name}-portal-observer")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        bus = self.name("PortalEventBus")
        events.put_rule(Name="portal-observer", EventBusName=bus, EventPattern=json.dumps({"source": [{"prefix": ""}]}))
        events.put_targets(Rule="portal-observer", EventBusName=bus, Targets=[{"Id": "queue", "Arn": queue_arn}])
        self._portal_queue_url = queue_url

    def _create_table(self, logical_id: str, properties: dict[str, Any]) -> None:
        request: dict[str, Any] = {
            "TableName": self.name(logical_id),
            "KeySchema": properties["KeySchema"],
            "AttributeDefinitions": properties["AttributeDefinitions"],
            "BillingMode": properties.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if "GlobalSecondaryIndexes" in properties:
            request["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
        if "StreamSpecification" in properties:
            request["StreamSpecification"] = {"StreamEnabled": True, **properties["StreamSpecification"]}
        if "SSESpecification" in properties:
            request["SSESpecification"] = {"Enabled": properties["SSESpecification"]["SSEEnabled"]}
        dynamodb = self.client("dynamodb")
        dynamodb.create_table(**request)
        dynamodb.get_waiter("table_exists").wait(TableName=request["TableName"], WaiterConfig={"Delay": 0.01})
        if "TimeToLiveSpecification" in properties:
            # moto records the setting but never expires items; readers check expiry themselves,
            # as they must on DynamoDB too (its TTL deletes lazily).
            dynamodb.update_time_to_live(TableName=request["TableName"],
                                         TimeToLiveSpecification=properties["TimeToLiveSpecification"])

    def _create_bucket(self, logical_id: str, properties: dict[str, Any]) -> None:
        s3 = self.client("s3")
        bucket = self.name(logical_id)
        # Object Lock can only be enabled when the bucket is created.
        lock = {"ObjectLockEnabledForBucket": True} if properties.get("ObjectLockEnabled") else {}
        if self.region == "us-east-1":
            s3.create_bucket(Bucket=bucket, **lock)
        else:
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": self.region}, **lock)
        if lock and "ObjectLockConfiguration" in properties:
            configuration = properties["ObjectLockConfiguration"]
            retention = configuration["Rule"]["DefaultRetention"]
            s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
                "ObjectLockEnabled": configuration["ObjectLockEnabled"],
                "Rule": {"DefaultRetention": {"Mode": retention["Mode"], **{
                    unit: int(retention[unit]) for unit in ("Days", "Years") if unit in retention}}},
            })
        if properties.get("VersioningConfiguration", {}).get("Status") == "Enabled":
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        if "PublicAccessBlockConfiguration" in properties:
            s3.put_public_access_block(
                Bucket=bucket, PublicAccessBlockConfiguration=properties["PublicAccessBlockConfiguration"]
            )
        if "BucketEncryption" in properties:
            s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
                {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
                for rule in properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            ]})

    def _create_event_bus(self, logical_id: str, properties: dict[str, Any]) -> None:
        self.client("events").create_event_bus(Name=self.name(logical_id))

    def _create_parameter(self, logical_id: str, properties: dict[str, Any]) -> None:
        self.client("ssm").put_parameter(
            Name=self.name(logical_id), Value=properties["Value"], Type=properties.get("Type", "String")
        )

    def _create_topic(self, logical_id: str, properties: dict[str, Any]) -> None:
        self.client("sns").create_topic(Name=self.name(logical_id))

    def _create_log_group(self, logical_id: str, properties: dict[str, Any]) -> None:
        self.client("logs").create_log_group(logGroupName=self.name(logical_id))

    def _create_secret(self, logical_id: str, properties: dict[str, Any]) -> None:
        """A secret the template creates empty (operators set it) gets its known local value
        (murur.local.wallets), so the tests and the demo can sign with it."""
        from murur.local.wallets import LOCAL_SECRET_STRINGS

        value = properties.get("SecretString", LOCAL_SECRET_STRINGS.get(logical_id))
        if value is None:
            raise RuntimeError(f"secret {logical_id} has no local value (murur.local.wallets.LOCAL_SECRET_STRINGS)")
        self.client("secretsmanager").create_secret(Name=self.name(logical_id), SecretString=value)

    def _create_queue(self, logical_id: str, properties: dict[str, Any]) -> None:
        attributes = {name: str(properties[name]).lower() if isinstance(properties[name], bool) else str(properties[name])
                      for name in ("SqsManagedSseEnabled", "MessageRetentionPeriod", "VisibilityTimeout")
                      if name in properties}
        url = self.client("sqs").create_queue(QueueName=self.name(logical_id), Attributes=attributes)["QueueUrl"]
        if url != self.template.queue_url(logical_id):
            raise RuntimeError(f"moto named queue {logical_id} {url}, not {self.template.queue_url(logical_id)}")

    def _create_glue_database(self, logical_id: str, properties: dict[str, Any]) -> None:
        self.client("glue").create_database(DatabaseInput=properties["DatabaseInput"])

    def _create_glue_table(self, logical_id: str, properties: dict[str, Any]) -> None:
        self.client("glue").create_table(DatabaseName=properties["DatabaseName"], TableInput=properties["TableInput"])

    def _create_athena_work_group(self, logical_id: str, properties: dict[str, Any]) -> None:
        configuration = properties.get("WorkGroupConfiguration", {})
        self.client("athena").create_work_group(
            Name=properties["Name"], Description=properties.get("Description", ""),
            Configuration={"ResultConfiguration": configuration.get("ResultConfiguration", {}),
                           "EnforceWorkGroupConfiguration": configuration.get("EnforceWorkGroupConfiguration", False)},
        )

    def _create_athena_named_query(self, logical_id: str, properties: dict[str, Any]) -> None:
        self.client("athena").create_named_query(
            Name=properties["Name"], Description=properties.get("Description", ""), Database=properties["Database"],
            QueryString=properties["QueryString"], WorkGroup=properties.get("WorkGroup", "primary"),
        )

    def _role_arn(self, name: str) -> str:
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                         "Principal": {"Service": "lambda.amazonaws.com"}}]}
        role = self.client("iam").create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=json.dumps(trust))
        return role["Role"]["Arn"]

    def _create_function(self, logical_id: str, properties: dict[str, Any]) -> None:
        function = self.functions[logical_id]
        # moto keeps the code but never runs it: invocations go to LocalFunctions.
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("app.py", f"# runs in-process from {function.code_path.name}\n")
        self.client("lambda").create_function(
            FunctionName=function.name,
            Runtime=self.template.function_property(logical_id, "Runtime"),
            Handler=self.template.function_property(logical_id, "Handler"),
            Role=self._role_arn(function.name),
            Code={"ZipFile": code.getvalue()},
            Environment={"Variables": function.environment},
            MemorySize=function.memory_mb,
            Timeout=function.timeout_seconds,
        )

    def _create_state_machine(self, logical_id: str, properties: dict[str, Any]) -> None:
        definition = self.template.state_machine_definition(logical_id)
        self.client("stepfunctions").create_state_machine(
            name=self.name(logical_id),
            definition=json.dumps(definition),
            roleArn=self._role_arn(self.name(logical_id)),
            type=properties.get("Type", "STANDARD"),
        )

    # -------------------------------------------------------------- the HTTP API
    def http(self, method: str, path: str, *, token: str | None = None, headers: dict[str, str] | None = None,
             body: Any = None) -> "HttpResponse":
        """One request to the template's HTTP API through the local gateway (murur.local.gateway):
        `token` goes in the Authorization header; a dict or list `body` is sent as JSON."""
        from murur.local.gateway import HttpApiGateway

        if self._gateway is None:
            self._gateway = HttpApiGateway(self.template, self.functions)
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            sent.setdefault("Content-Type", "application/json")
        return self._gateway.request(method, path, headers=sent, body=body)

    # -------------------------------------------------------------- access
    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = boto3.client(service, region_name=self.region)
        return self._clients[service]

    def name(self, logical_id: str) -> str:
        """The local physical name of a template resource (table, bucket, bus, parameter ...)."""
        return self.template.physical_names[logical_id]

    def arn(self, logical_id: str) -> str:
        return self.template.arn(logical_id)

    @property
    def state_machine_arn(self) -> str:
        (logical_id,) = self.template.of_type("AWS::Serverless::StateMachine")
        return self.arn(logical_id)

    # -------------------------------------------------------------- what went out
    def sms_outbox(self) -> list[dict[str, str]]:
        """Every SMS published to a phone number, oldest first (moto keeps them instead of sending)."""
        from moto.sns.models import sns_backends

        backend = sns_backends[self.template.account_id][self.region]
        return [
            {"message_id": message_id, "phone_number": phone, "message": message}
            for message_id, (phone, message) in backend.sms_messages.items()
        ]

    def portal_events(self) -> list[dict[str, Any]]:
        """Events put on the portal bus since the last call (drained from the observer queue)."""
        sqs = self.client("sqs")
        received: list[dict[str, Any]] = []
        while True:
            batch = sqs.receive_message(QueueUrl=self._portal_queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return received
            for message in batch:
                received.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self._portal_queue_url, ReceiptHandle=message["ReceiptHandle"])

    # -------------------------------------------------------------- the camera side
    def upload_frame(self, body: bytes, *, key: str, metadata: dict[str, str] | None = None,
                     content_type: str = "image/jpeg", bucket: str | None = None) -> list[Any]:
        """PUT a frame as a camera does, then deliver the event S3 would send to EventBridge."""
        bucket = bucket or self.name("FramesBucket")
        self.client("s3").put_object(
            Bucket=bucket, Key=key, Body=body, Metadata=metadata or {}, ContentType=content_type
        )
        return self.deliver_object_created(bucket, key)

    def object_created_event(self, bucket: str, key: str) -> dict[str, Any]:
        """The EventBridge event S3 sends for a PUT (schema: "Object Created", version 0)."""
        head = self.client("s3").head_object(Bucket=bucket, Key=key)
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Object Created",
            "source": "aws.s3",
            "account": self.template.account_id,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region,
            "resources": [f"arn:aws:s3:::{bucket}"],
            "detail": {
                "version": "0",
                "bucket": {"name": bucket},
                "object": {
                    "key": key,
                    "size": head["ContentLength"],
                    "etag": head["ETag"].strip('"'),
                    "sequencer": f"{time.time_ns():020X}",
                },
                "request-id": uuid.uuid4().hex[:16].upper(),
                "requester": self.template.account_id,
                "source-ip-address": "127.0.0.1",
                "reason": "PutObject",
            },
        }

    def deliver_object_created(self, bucket: str, key: str, event: dict[str, Any] | None = None) -> list[Any]:
        """Hand the event to every function whose EventBridge rule matches, as EventBridge would.

        Returns each target's result, or the FunctionError it raised (EventBridge would retry it).
        """
        event = event or self.object_created_event(bucket, key)
        return self.deliver_event(event)

    def deliver_event(self, event: dict[str, Any]) -> list[Any]:
        results: list[Any] = []
        for function in self.functions:
            patterns = self.template.event_rules(function.logical_id)
            if any(EventPattern.load(json.dumps(pattern)).matches_event(event) for pattern in patterns):
                try:
                    results.append(self.functions.invoke(function.logical_id, event))
                except FunctionError as error:
                    results.append(error)
        return results

    # -------------------------------------------------------------- DynamoDB streams -> functions
    def stream_arn(self, table_logical_id: str) -> str:
        return self.client("dynamodb").describe_table(TableName=self.name(table_logical_id))["Table"]["LatestStreamArn"]

    def deliver_streams(self, *, max_retry_attempts: int | None = None) -> list[StreamDelivery]:
        """Hand the stream records written since the last call to every function with a DynamoDB
        event in the template, as Lambda's event source mapping does (moto records the stream but
        never invokes anyone). Call it once executions have settled.

        As the mapping: records are read from TRIM_HORIZON, passed through the event's
        FilterCriteria, sent in batches of BatchSize shaped like Lambda's DynamoDB event; a batch
        whose handler raises, or reports `batchItemFailures`, is sent again from its first failed
        record, up to MaximumRetryAttempts times (`max_retry_attempts` overrides it); then Lambda's
        failure record (shard and sequence numbers, no item data) goes to the OnFailure queue and
        delivery moves past the batch. BisectBatchOnFunctionError is not emulated: a handler that
        raises gets its whole batch again.
        """
        deliveries = []
        for function in self.functions:
            for table, properties in self.template.stream_sources(function.logical_id):
                attempts = properties.get("MaximumRetryAttempts", -1) if max_retry_attempts is None else max_retry_attempts
                deliveries.append(self._deliver_stream(function, table, properties,
                                                       # -1 (the default) retries until the record expires
                                                       # (24 h); locally that is 10 times.
                                                       retries=10 if int(attempts) < 0 else int(attempts)))
        return deliveries

    def _stream_records(self, table: str, after: str | None) -> tuple[str, str, list[dict[str, Any]]]:
        if "dynamodbstreams" not in self._clients:
            # botocore's account-based endpoint (ACCOUNT.streams-ddb...) is one moto 5.2.5 does not route.
            self._clients["dynamodbstreams"] = boto3.client(
                "dynamodbstreams", region_name=self.region, config=Config(account_id_endpoint_mode="disabled"))
        streams = self._clients["dynamodbstreams"]
        stream_arn = self.stream_arn(table)
        (shard,) = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
        position: dict[str, Any] = ({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
                                    if after else {"ShardIteratorType": "TRIM_HORIZON"})
        iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"], **position)["ShardIterator"]
        records: list[dict[str, Any]] = []
        while True:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            if not page["Records"]:
                return stream_arn, shard["ShardId"], records
            records.extend(page["Records"])
            iterator = page["NextShardIterator"]

    def _lambda_record(self, record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
        """A stream record as Lambda hands it over: epoch seconds, the stream's ARN, format 1.1."""
        change = dict(record["dynamodb"])
        created = change.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            change["ApproximateCreationDateTime"] = float(int(created.timestamp()))
        return {**record, "eventVersion": "1.1", "awsRegion": self.region, "eventSourceARN": stream_arn,
                "dynamodb": change}

    def _deliver_stream(self, function: LocalFunction, table: str, properties: dict[str, Any], *,
                        retries: int) -> StreamDelivery:
        key = (function.logical_id, table)
        stream_arn, shard_id, records = self._stream_records(table, self._stream_positions.get(key))
        delivery = StreamDelivery(function.logical_id, table, records_read=len(records))
        if not records:
            return delivery
        self._stream_positions[key] = records[-1]["dynamodb"]["SequenceNumber"]
        patterns = [EventPattern.load(filter_["Pattern"]) for filter_ in
                    properties.get("FilterCriteria", {}).get("Filters", [])]
        shaped = [self._lambda_record(record, stream_arn) for record in records]
        passed = [record for record in shaped if not patterns or any(p.matches_event(record) for p in patterns)]
        size = int(properties.get("BatchSize", 100))
        for start in range(0, len(passed), size):
            batch = passed[start:start + size]
            for attempt in range(retries + 1):
                delivery.invocations += 1
                try:
                    result = self.functions.invoke(function.logical_id, {"Records": batch})
                    failed = [failure["itemIdentifier"] for failure in (result or {}).get("batchItemFailures", [])]
                except FunctionError:
                    failed = [batch[0]["dynamodb"]["SequenceNumber"]]
                if not failed:
                    break
                # Lambda resumes from the lowest failed sequence number: what follows it comes again too.
                first = min(failed, key=int)
                batch = [record for record in batch if int(record["dynamodb"]["SequenceNumber"]) >= int(first)]
            else:
                delivery.given_up.extend(record["dynamodb"]["SequenceNumber"] for record in batch)
                self._report_stream_failure(function, properties, stream_arn, shard_id, batch, retries + 1)
        delivery.records_delivered = len(passed)
        return delivery

    def _report_stream_failure(self, function: LocalFunction, properties: dict[str, Any], stream_arn: str,
                               shard_id: str, batch: list[dict[str, Any]], invocations: int) -> None:
        destination = properties.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        if not destination:
            return
        queue_name = destination.rsplit(":", 1)[1]
        queue_url = self.client("sqs").get_queue_url(QueueName=queue_name)["QueueUrl"]
        arrivals = [record["dynamodb"].get("ApproximateCreationDateTime", 0) for record in batch]
        self.client("sqs").send_message(QueueUrl=queue_url, MessageBody=json.dumps({
            "requestContext": {"requestId": str(uuid.uuid4()), "functionArn": function.arn,
                               "condition": "RetryAttemptsExhausted", "approximateInvokeCount": invocations},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": ""},
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": batch[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": batch[-1]["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": datetime.fromtimestamp(min(arrivals), UTC).isoformat(),
                "approximateArrivalOfLastRecord": datetime.fromtimestamp(max(arrivals), UTC).isoformat(),
                "batchSize": len(batch),
                "streamArn": stream_arn,
            },
        }))

    # -------------------------------------------------------------- executions
    def executions(self) -> list[dict[str, Any]]:
        paginator = self.client("stepfunctions").get_paginator("list_executions")
        return [
            execution
            for page in paginator.paginate(stateMachineArn=self.state_machine_arn)
            for execution in page["executions"]
        ]

    def describe_execution(self, execution_arn: str) -> dict[str, Any]:
        return self.client("stepfunctions").describe_execution(executionArn=execution_arn)

    def wait_for_execution(self, execution_arn: str, timeout: float = 60.0) -> dict[str, Any]:
        """Poll until the execution leaves RUNNING (moto runs it on a background thread)."""
        description = self.wait_until(
            lambda: (d := self.describe_execution(execution_arn))["status"] in FINISHED and d,
            timeout=timeout,
            what=f"execution {execution_arn} to finish",
        )
        return description

    def wait_for_executions(self, timeout: float = 120.0) -> list[dict[str, Any]]:
        """Wait until every execution has finished or waits for an officer with its review stored as
        pending (so that an officer's decision finds it); their descriptions."""

        def settled(execution_arn: str, pending: set[str]) -> bool:
            status = self.describe_execution(execution_arn)["status"]
            return status in FINISHED or (execution_arn in pending and self.is_waiting_for_review(execution_arn))

        def all_settled() -> bool:
            pending = self.pending_review_executions()
            return all(settled(arn, pending) for arn in arns)

        arns = [execution["executionArn"] for execution in self.executions()]
        self.wait_until(all_settled, timeout=timeout, what="the executions to settle")
        return [self.describe_execution(arn) for arn in arns]

    def pending_review_executions(self) -> set[str]:
        """The executions whose review waits in the officers' queue (up to a local run's thousand)."""
        queue = ReviewsRepository(self.client("dynamodb"), self.name("ReviewsTable")).pending(limit=1000)
        return {review["execution_arn"] for review in queue if review.get("execution_arn")}

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        paginator = self.client("stepfunctions").get_paginator("get_execution_history")
        return [event for page in paginator.paginate(executionArn=execution_arn) for event in page["events"]]

    def is_waiting_for_review(self, execution_arn: str) -> bool:
        """True once RequestReview's handler has run and the task waits for its token."""
        events = self.history(execution_arn)
        entered = [e for e in events if e["type"] == "TaskStateEntered"
                   and e["stateEnteredEventDetails"]["name"] == "RequestReview"]
        exited = [e for e in events if e["type"] == "TaskStateExited"
                  and e["stateExitedEventDetails"]["name"] == "RequestReview"]
        submitted = [e for e in events if e["type"] == "TaskSubmitted"]
        return bool(entered) and not exited and bool(submitted) and \
            self.describe_execution(execution_arn)["status"] == "RUNNING"

    def diagnosis(self) -> str:
        """What each frame went through, for a failing test's report: every execution's status and,
        where it failed, the failed event's error and cause; the frames' and reviews' statuses; and
        each recognition's decision."""
        from murur.local.operator import table_items

        lines = []
        for execution in self.executions():
            line = f"execution {execution['name']}: {execution['status']}"
            failures = [e for e in self.history(execution["executionArn"]) if e["type"].endswith("Failed")]
            for event in failures[-2:]:
                details = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
                line += f"; {event['type']} {details.get('error', '')}: {str(details.get('cause', ''))[:300]}"
            lines.append(line)
        for table, fields in (("FramesTable", ("frame_id", "status", "reason_code")),
                              ("ReviewsTable", ("frame_id", "status"))):
            for item in table_items(self, table):
                lines.append(f"{table}: " + " ".join(str(item.get(field, "-")) for field in fields))
        for invocation in self.functions.invocations:
            if invocation.function != "RecognizePlateFunction":
                continue
            result = invocation.result or {}
            best = result.get("best") or {}
            frame_id = (invocation.event.get("frame") or {}).get("frame_id", "?")
            lines.append(f"recognition {frame_id}: {invocation.error_type or result.get('decision')}"
                         f" best={best.get('text')} {best.get('confidence')} threshold={result.get('threshold')}"
                         f" in {invocation.seconds:.2f} s")
        return "\n".join(lines)

    @staticmethod
    def wait_until(condition: Callable[[], Any], *, timeout: float = 60.0, what: str = "a condition",
                   max_delay: float = 0.1) -> Any:
        deadline = time.monotonic() + timeout
        delay = min(0.005, max_delay)
        while True:
            result = condition()
            if result:
                return result
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(delay)
            delay = min(delay * 2, max_delay)
