"""The domain objects the citizens' and rulings routes use, built once per container on first use
(not at import: the local stack and the tests start moto first)."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from murur.fines import SsmFineSchedule
from murur.notifications import PortalEvents, SmsGateway
from murur.objections import AttachmentStore, ObjectionDesk
from murur.registry import DynamoDBVehicleRegistry
from murur.settings import settings
from murur.violations import ViolationsRepository

# Presigned GETs (evidence picture, attachments) live this long: enough to open the page, short
# enough that a forwarded link soon stops working.
PICTURE_URL_SECONDS = 300


@cache
def _dynamodb() -> Any:
    return boto3.client("dynamodb")


@cache
def s3() -> Any:
    # SigV4 for every presigned URL and POST form (SigV2 is deprecated and refused in newer regions).
    return boto3.client("s3", config=Config(signature_version="s3v4"))


@cache
def violations() -> ViolationsRepository:
    return ViolationsRepository(_dynamodb(), settings().violations_table)


@cache
def objection_desk() -> ObjectionDesk:
    config = settings()
    return ObjectionDesk(
        violations(),
        attachments=AttachmentStore(s3(), config.objection_attachments_bucket),
        schedule=SsmFineSchedule(boto3.client("ssm"), config.fine_schedule_parameter),
        registry=DynamoDBVehicleRegistry(_dynamodb(), config.vehicles_table),
        sms=SmsGateway(boto3.client("sns")),
        portal=PortalEvents(boto3.client("events"), config.portal_event_bus),
        portal_base_url=config.portal_base_url,
    )


def presigned_get(bucket: str, key: str) -> str:
    return s3().generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key},
                                       ExpiresIn=PICTURE_URL_SECONDS)


def attachments_bucket() -> str:
    return settings().objection_attachments_bucket
