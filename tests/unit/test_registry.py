from __future__ import annotations

from typing import Any

import pytest

from murur.registry import DynamoDBVehicleRegistry, Vehicle, normalise_plate


@pytest.mark.parametrize(("typed", "key"), [
    ("4821AB00", "4821AB00"), ("4821 ab 00", "4821AB00"), ("4821-AB-00", "4821AB00"), (" 4821.AB.00 ", "4821AB00"),
    ("٤٨٢١ AB ٠٠", "4821AB00"), ("４８２１ＡＢ００", "4821AB00"), ("", ""),
])
def test_plates_are_looked_up_by_their_normalised_text(typed: str, key: str) -> None:
    assert normalise_plate(typed) == key


class FakeDynamoDB:
    """Only what the registry calls: get_item on one table."""

    def __init__(self, items: dict[str, dict[str, Any]]) -> None:
        self.items = items
        self.keys: list[str] = []

    def get_item(self, *, TableName: str, Key: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 - boto3's names
        plate = Key["plate"]["S"]
        self.keys.append(plate)
        return {"Item": self.items[plate]} if plate in self.items else {}


def test_the_dynamodb_registry_normalises_before_looking_up() -> None:
    dynamodb = FakeDynamoDB({"4821AB00": {"plate": {"S": "4821AB00"}, "owner_name": {"S": "M. Ould Ahmed"},
                                          "owner_nni": {"S": "1234567890"}, "language": {"S": "fr"}}})
    registry = DynamoDBVehicleRegistry(dynamodb, "vehicles")
    vehicle = registry.lookup("4821 ab-00")
    assert vehicle == Vehicle(plate="4821AB00", owner_name="M. Ould Ahmed", owner_nni="1234567890", language="fr")
    assert vehicle.owner_phone is None
    assert registry.lookup("7777 ZZ 05") is None
    assert registry.lookup(" - ") is None
    assert dynamodb.keys == ["4821AB00", "7777ZZ05"]


def test_a_language_the_notices_do_not_speak_is_kept_and_read_as_arabic() -> None:
    from murur.notices import language_of

    vehicle = Vehicle(plate="1", owner_name="x", owner_nni="1", language="en")
    assert vehicle.language == "en" and language_of(vehicle.language) == "ar"
    assert language_of(Vehicle(plate="1", owner_name="x", owner_nni="1").language) == "ar"


def test_a_malformed_vehicle_record_fails_without_showing_its_values() -> None:
    from murur.errors import CorruptRecord

    dynamodb = FakeDynamoDB({"4821AB00": {"plate": {"S": "4821AB00"}, "owner_name": {"S": "Mohamed Ould Ahmed"}}})
    with pytest.raises(CorruptRecord) as raised:
        DynamoDBVehicleRegistry(dynamodb, "vehicles").lookup("4821AB00")
    assert "owner_nni" in str(raised.value)
    assert "Mohamed" not in str(raised.value) and "4821AB00" not in str(raised.value)
