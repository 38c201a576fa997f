"""Send again the notices parked in the undelivered-notices queue.

    python -m murur.ops.redrive --stack murur-prod [--region eu-west-3] [--max 100]

When Notify fails after its last retry (SNS down or refusing SMS, the portal bus refusing events),
the state machine parks an UndeliveredNotice in the queue and marks the violation
(notice_undelivered_at); UndeliveredNoticesAlarm calls an operator. Once the cause is fixed, this
command takes each parked notice and runs it through the same Notifier as Notify:

* a violation whose notice is already recorded (notified_at) is not sent again, so a notice parked
  twice, or redriven twice, reaches its owner once;
* a notice that still cannot be delivered stays in the queue (it comes back after the queue's
  visibility timeout), as does a message that is not an UndeliveredNotice: nothing is dropped
  unless it was delivered or had been delivered before.

SQS's own redrive (StartMessageMoveTask) moves messages back to a source queue; these came from a
state machine, not a queue, hence this command.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from murur.errors import MururError
from murur.notifications import Notifier, PortalEvents, SmsGateway
from murur.registry import DynamoDBVehicleRegistry
from murur.violations import ViolationsRepository
from murur.workflow import UndeliveredNotice

logger = logging.getLogger(__name__)


class ParkedMessage(NamedTuple):
    receipt_handle: str
    body: str


class UndeliveredNotices:
    """The undelivered-notices queue (UndeliveredNoticesQueue)."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._url = queue_url

    def receive(self, max_messages: int = 10) -> list[ParkedMessage]:
        response = self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=max(1, min(max_messages, 10)))
        return [ParkedMessage(message["ReceiptHandle"], message["Body"]) for message in response.get("Messages", [])]

    def delete(self, message: ParkedMessage) -> None:
        self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=message.receipt_handle)

    def park(self, notice: UndeliveredNotice) -> None:
        """What ParkUndeliveredNotice does in the state machine (for tests and hand-made repairs)."""
        self._sqs.send_message(QueueUrl=self._url, MessageBody=notice.model_dump_json())


@dataclass
class RedriveReport:
    """Counts only: which violations were told is on their records, not in this report."""

    delivered: int = 0  # sent now
    already_notified: int = 0  # recorded before this run: removed from the queue, nothing sent
    still_undelivered: int = 0  # failed again: left in the queue
    unreadable: int = 0  # not an UndeliveredNotice: left in the queue for a person to look at


def redrive(queue: UndeliveredNotices, notifier: Notifier, *, limit: int | None = None) -> RedriveReport:
    """Work through the queue once (messages left in it stay invisible until the next run)."""
    report = RedriveReport()
    handled = 0
    while limit is None or handled < limit:
        batch = queue.receive(10 if limit is None else min(10, limit - handled))
        if not batch:
            break
        for message in batch:
            handled += 1
            try:
                notice = UndeliveredNotice.model_validate_json(message.body)
            except ValidationError:
                report.unreadable += 1
                continue
            try:
                delivery = notifier.notify_violation(notice.violation_id)
            except (MururError, ClientError, BotoCoreError) as error:
                # Named by violation id and error class only: no phone number, no plate.
                logger.warning("notice still undelivered", extra={"violation_id": notice.violation_id,
                                                                  "error": type(error).__name__})
                report.still_undelivered += 1
                continue
            queue.delete(message)
            if delivery.sent_now:
                report.delivered += 1
            else:
                report.already_notified += 1
    return report


@dataclass(frozen=True)
class StackNames:
    queue_url: str
    violations_table: str
    vehicles_table: str
    portal_event_bus: str
    portal_base_url: str


def redrive_stack(client: Callable[[str], Any], names: StackNames, *, limit: int | None = None) -> RedriveReport:
    """Re-drive with clients from `client(service)` (a deployed account's, or the local stack's)."""
    dynamodb = client("dynamodb")
    notifier = Notifier(
        violations=ViolationsRepository(dynamodb, names.violations_table),
        registry=DynamoDBVehicleRegistry(dynamodb, names.vehicles_table),
        sms=SmsGateway(client("sns")),
        portal=PortalEvents(client("events"), names.portal_event_bus),
        portal_base_url=names.portal_base_url,
    )
    return redrive(UndeliveredNotices(client("sqs"), names.queue_url), notifier, limit=limit)


def redrive_local(stack: Any) -> RedriveReport:
    """The same re-drive on the local stack (murur.local.LocalStack)."""
    names = StackNames(
        queue_url=stack.template.queue_url("UndeliveredNoticesQueue"),
        violations_table=stack.name("ViolationsTable"),
        vehicles_table=stack.name("VehiclesTable"),
        portal_event_bus=stack.name("PortalEventBus"),
        portal_base_url=stack.template.parameters.get("PortalBaseUrl") or "https://khidmati.gov.mr/murur",
    )
    return redrive_stack(stack.client, names)


_OUTPUTS_NEEDED = ("UndeliveredNoticesQueueUrl", "ViolationsTableName", "VehiclesTableName", "PortalEventBusName")


def names_of_stack(cloudformation: Any, stack_name: str) -> StackNames:
    """The queue, tables, bus and portal URL of a deployed stack, from its outputs and parameters."""
    (stack,) = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    parameters = {parameter["ParameterKey"]: parameter.get("ParameterValue", "")
                  for parameter in stack.get("Parameters", [])}
    missing = sorted(set(_OUTPUTS_NEEDED) - set(outputs))
    if missing:
        raise ValueError(f"stack {stack_name} has no output {', '.join(missing)}: deploy the current template first")
    return StackNames(
        queue_url=outputs["UndeliveredNoticesQueueUrl"],
        violations_table=outputs["ViolationsTableName"],
        vehicles_table=outputs["VehiclesTableName"],
        portal_event_bus=outputs["PortalEventBusName"],
        portal_base_url=parameters.get("PortalBaseUrl") or "https://khidmati.gov.mr/murur",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m murur.ops.redrive", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", required=True, help="the deployed CloudFormation stack's name")
    parser.add_argument("--region", help="its region (default: the AWS configuration's)")
    parser.add_argument("--max", type=int, default=None, help="handle at most this many parked notices")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    session = boto3.session.Session(region_name=args.region)
    try:
        names = names_of_stack(session.client("cloudformation"), args.stack)
    except ValueError as error:
        parser.error(str(error))
    report = redrive_stack(session.client, names, limit=args.max)
    print(json.dumps(asdict(report)))
    return 0 if report.still_undelivered == 0 and report.unreadable == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
