from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

import murur
from murur.errors import ConfigurationError
from murur.fines import FineSchedule
from murur.workflow import ViolationType

DEFAULT = json.loads((Path(murur.__file__).parent / "fines_default.json").read_text())


def schedule(**rules: list[dict]) -> FineSchedule:
    return FineSchedule.model_validate({**DEFAULT, "rules": rules})


SPEEDING_BANDS = [{"over_kmh_min": 0, "over_kmh_max": 20, "amount_mru": 2000},
                  {"over_kmh_min": 20, "over_kmh_max": 40, "amount_mru": 4000},
                  {"over_kmh_min": 40, "amount_mru": 8000}]


@pytest.mark.parametrize(("excess", "amount"), [(1, 2000), (20, 2000), (20.5, 4000), (40, 4000), (41, 8000), (150, 8000)])
def test_speeding_is_priced_by_the_band_of_the_excess(excess: float, amount: int) -> None:
    assert schedule(SPEEDING=SPEEDING_BANDS).amount_mru(ViolationType.SPEEDING, excess) == amount


def test_bands_are_found_whatever_their_order_in_the_document() -> None:
    assert schedule(SPEEDING=SPEEDING_BANDS[::-1]).amount_mru(ViolationType.SPEEDING, 30) == 4000


def test_other_offences_have_one_amount() -> None:
    assert schedule(RED_LIGHT=[{"amount_mru": 5000}]).amount_mru(ViolationType.RED_LIGHT) == 5000


def test_an_offence_the_schedule_does_not_price_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        schedule(RED_LIGHT=[{"amount_mru": 5000}]).amount_mru(ViolationType.WRONG_WAY)
    with pytest.raises(ConfigurationError):
        schedule(SPEEDING=SPEEDING_BANDS).amount_mru(ViolationType.SPEEDING, None)


@pytest.mark.parametrize("bands", [
    [{"over_kmh_min": 0, "over_kmh_max": 20, "amount_mru": 2000}, {"over_kmh_min": 25, "amount_mru": 4000}],  # gap
    [{"over_kmh_min": 0, "over_kmh_max": 20, "amount_mru": 2000}],  # not open-ended
    [{"over_kmh_min": 5, "amount_mru": 2000}],  # does not start at 0
    [{"amount_mru": 0}],  # free
    [{"amount_mru": 1500.5}],  # money is whole MRU
    [],
])
def test_a_schedule_with_holes_or_bad_amounts_is_refused(bands: list[dict]) -> None:
    with pytest.raises(ValidationError):
        schedule(SPEEDING=bands)


def test_only_mru_and_known_offences() -> None:
    with pytest.raises(ValidationError):
        FineSchedule.model_validate({**DEFAULT, "currency": "EUR"})
    with pytest.raises(ValidationError):
        FineSchedule.model_validate({**DEFAULT, "rules": {"LOITERING": [{"amount_mru": 100}]}})


def test_the_deadline_is_the_payment_period_after_issue() -> None:
    issued = datetime(2026, 11, 28, 9, 31, tzinfo=UTC)
    assert FineSchedule.default().deadline(issued) == issued + timedelta(days=DEFAULT["payment_days"])


def test_the_shipped_default_prices_every_violation_type() -> None:
    default = FineSchedule.default()
    assert set(default.rules) == set(ViolationType)
    for violation_type in ViolationType:
        assert default.amount_mru(violation_type, 10) > 0


class FailingSsm:
    """An SSM client whose GetParameter fails with the given code."""

    def __init__(self, code: str) -> None:
        self.code = code

    def get_parameter(self, **_: object) -> dict:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": self.code, "Message": "m"}}, "GetParameter")


def test_a_missing_parameter_is_a_configuration_error_and_throttling_is_transient() -> None:
    from murur.errors import TransientError
    from murur.fines import SsmFineSchedule

    with pytest.raises(ConfigurationError, match="ParameterNotFound"):
        SsmFineSchedule(FailingSsm("ParameterNotFound"), "/murur/dev/fine-schedule").get()
    with pytest.raises(TransientError):
        SsmFineSchedule(FailingSsm("ThrottlingException"), "/murur/dev/fine-schedule").get()


class DocumentSsm:
    def __init__(self, value: str) -> None:
        self.value = value
        self.calls = 0

    def get_parameter(self, **_: object) -> dict:
        self.calls += 1
        return {"Parameter": {"Value": self.value}}


def test_the_schedule_is_read_once_and_cached_and_a_bad_document_is_a_configuration_error() -> None:
    from murur.fines import SsmFineSchedule

    ssm = DocumentSsm(json.dumps(DEFAULT))
    source = SsmFineSchedule(ssm, "/murur/dev/fine-schedule")
    assert source.get() == source.get() == FineSchedule.default()
    assert ssm.calls == 1
    with pytest.raises(ConfigurationError):
        SsmFineSchedule(DocumentSsm('{"currency": "MRU"}'), "/murur/dev/fine-schedule").get()
