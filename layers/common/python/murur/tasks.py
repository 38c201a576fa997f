"""Parsing a Step Functions task's input: a payload that breaks its workflow model is InvalidPayload."""

from __future__ import annotations

from typing import Any, TypeVar

from aws_lambda_powertools.utilities.parser import ValidationError, parse
from pydantic import BaseModel

from murur.errors import InvalidPayload

Payload = TypeVar("Payload", bound=BaseModel)


def parse_task(event: Any, model: type[Payload]) -> Payload:
    try:
        return parse(event=event, model=model)
    except ValidationError as error:
        # Field locations only, and no chained error: the values may hold plate text or other personal data.
        where = sorted({".".join(str(part) for part in e["loc"]) for e in error.errors()})
        raise InvalidPayload(f"not a {model.__name__}: invalid {', '.join(where)}") from None
