"""DynamoDB items from and to plain Python values, for gateways that use the low-level client.

boto3's TypeSerializer refuses floats and TypeDeserializer returns Decimal; the tables hold money as
integers and speeds as decimals, so numbers go through Decimal on the way in and come back as int
when whole, float otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError
from pydantic import BaseModel, ValidationError

from murur.errors import CorruptRecord

Model = TypeVar("Model", bound=BaseModel)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def iso_time(moment: datetime) -> str:
    """UTC, ISO 8601 with "Z", as pydantic and Step Functions write it: such strings sort in time order."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _json_default(value: Any) -> Any:
    return iso_time(value) if isinstance(value, datetime) else str(value)


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item; None values are left out (absent attribute = unknown)."""
    plain = json.loads(json.dumps(values, default=_json_default), parse_float=Decimal)
    return {name: _serializer.serialize(value) for name, value in plain.items() if value is not None}


def to_values(values: dict[str, Any]) -> dict[str, Any]:
    """Expression attribute values (":name" -> typed value) from plain values."""
    plain = json.loads(json.dumps(values, default=_json_default), parse_float=Decimal)
    return {name: _serializer.serialize(value) for name, value in plain.items()}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _plain(_deserializer.deserialize(value)) for name, value in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | set):
        return [_plain(item) for item in value]
    return value


def is_conditional_check_failure(error: ClientError) -> bool:
    """A conditional write found its condition false: for idempotent writes, "already done"."""
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def write_if(write: Callable[..., Any], **request: Any) -> bool:
    """Run a conditional write; False when its condition was false (an idempotent write already done)."""
    try:
        write(**request)
    except ClientError as error:
        if is_conditional_check_failure(error):
            return False
        raise
    return True


def model_from_item(model: type[Model], item: dict[str, Any], what: str) -> Model:
    """The record as its model, or CorruptRecord naming the bad fields (pydantic's message shows values)."""
    try:
        return model.model_validate(from_item(item))
    except ValidationError as error:
        fields = sorted({".".join(str(part) for part in e["loc"]) for e in error.errors()})
        raise CorruptRecord(f"{what} does not match {model.__name__}: invalid {', '.join(fields)}") from None
