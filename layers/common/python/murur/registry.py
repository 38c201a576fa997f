"""The vehicle registry: who owns a plate. VehiclesTable stands in for the transport ministry's registry;
anything with `lookup(plate) -> Vehicle | None` (an HTTP client of the real registry) can replace it.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from murur.dynamo import model_from_item

_NOT_PLATE_CHARACTERS = re.compile(r"[^A-Z0-9]")


def normalise_plate(text: str) -> str:
    """The registry's key: upper-case Latin letters and ASCII digits only ("1234 ab-00" -> "1234AB00").

    Officers may type Arabic-Indic digits; they become ASCII. (murur.alpr.formats has the reader's own
    normalisation, but importing murur.alpr loads numpy, which only recognize_plate ships.)
    """
    ascii_digits = "".join(str(unicodedata.digit(c)) if c.isdigit() else c for c in unicodedata.normalize("NFKC", text))
    return _NOT_PLATE_CHARACTERS.sub("", ascii_digits.upper())


class Vehicle(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    plate: str
    owner_name: str
    owner_nni: str
    owner_phone: str | None = None
    # As the registry has it; the notice falls back to Arabic for anything but "ar" or "fr".
    language: str | None = None
    make: str | None = None
    model: str | None = None
    colour: str | None = None


class VehicleRegistry(Protocol):
    def lookup(self, plate: str) -> Vehicle | None: ...


class DynamoDBVehicleRegistry:
    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table = table_name

    def lookup(self, plate: str) -> Vehicle | None:
        key = normalise_plate(plate)
        if not key:
            return None
        item = self._dynamodb.get_item(TableName=self._table, Key={"plate": {"S": key}}).get("Item")
        return model_from_item(Vehicle, item, "the vehicle record") if item else None
