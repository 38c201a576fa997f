"""The fine schedule: configuration (an SSM parameter holding JSON), not code.

Amounts are whole MRU. Speeding is priced by how far over the limit the vehicle was: a band covers
over_kmh_min < excess <= over_kmh_max (no maximum: everything above). Other offences have one band.
The document shipped as the parameter's default is fines_default.json.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from importlib.resources import files
from typing import Any, Literal, Protocol

from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, NonNegativeInt, PositiveInt, ValidationError, model_validator

from murur.errors import ConfigurationError, TransientError
from murur.workflow import ViolationType

DEFAULT_SCHEDULE_FILE = "fines_default.json"
# Fine schedules change rarely; a changed parameter reaches every warm function within this time.
SCHEDULE_MAX_AGE_SECONDS = 300


class FineBand(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    over_kmh_min: NonNegativeFloat = 0
    over_kmh_max: NonNegativeFloat | None = None
    amount_mru: PositiveInt


class FineSchedule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    currency: Literal["MRU"]
    rules: dict[ViolationType, list[FineBand]] = Field(min_length=1)
    payment_days: PositiveInt
    overdue_surcharge_percent: NonNegativeInt
    # One reminder SMS goes out this many days before the deadline (murur.deadlines). The default
    # keeps schedules written before reminders existed valid.
    reminder_days_before: PositiveInt = 3

    @model_validator(mode="after")
    def _bands_leave_no_gap(self) -> "FineSchedule":
        for violation_type, bands in self.rules.items():
            if not bands:
                raise ValueError(f"{violation_type}: no amount")
            ordered = sorted(bands, key=lambda band: band.over_kmh_min)
            if ordered[0].over_kmh_min != 0 or ordered[-1].over_kmh_max is not None:
                raise ValueError(f"{violation_type}: bands must start at 0 km/h over and end open")
            for lower, upper in zip(ordered, ordered[1:]):
                if lower.over_kmh_max != upper.over_kmh_min:
                    raise ValueError(f"{violation_type}: bands must meet ({lower.over_kmh_max} vs {upper.over_kmh_min})")
        return self

    def amount_mru(self, violation_type: ViolationType, excess_kmh: float | None = None) -> int:
        """What the offence costs; ConfigurationError when the schedule does not price it."""
        bands = self.rules.get(violation_type)
        if not bands:
            raise ConfigurationError(f"the fine schedule has no amount for {violation_type}")
        if len(bands) == 1:
            return bands[0].amount_mru
        if excess_kmh is None:
            raise ConfigurationError(f"{violation_type} is priced by speed, and the frame has no measured speed")
        # The bands are contiguous from 0 and end open (checked on load): the first whose maximum is
        # not below the excess is the one with over_kmh_min < excess <= over_kmh_max.
        ordered = sorted(bands, key=lambda band: band.over_kmh_min)
        return next(band.amount_mru for band in ordered if band.over_kmh_max is None or excess_kmh <= band.over_kmh_max)

    def deadline(self, issued_at: datetime) -> datetime:
        return issued_at + timedelta(days=self.payment_days)

    def surcharge_mru(self, amount_mru: int) -> int:
        """The overdue surcharge on `amount_mru`, in whole MRU, rounded half up (2.5 -> 3).

        Integer arithmetic, no float: amount * percent / 100 rounded half up is
        (amount * percent + 50) // 100 for non-negative amounts. Half up rather than Python's
        round() (half to even), so equal fines always carry equal surcharges.
        """
        return (amount_mru * self.overdue_surcharge_percent + 50) // 100

    @classmethod
    def default(cls) -> "FineSchedule":
        return cls.model_validate_json(files("murur").joinpath(DEFAULT_SCHEDULE_FILE).read_text())


class SsmFineSchedule:
    """The schedule from its SSM parameter, cached by Powertools for SCHEDULE_MAX_AGE_SECONDS."""

    def __init__(self, ssm: Any, parameter_name: str) -> None:
        self._provider = SSMProvider(boto3_client=ssm)
        self._name = parameter_name

    def get(self) -> FineSchedule:
        try:
            document = self._provider.get(self._name, max_age=SCHEDULE_MAX_AGE_SECONDS)
        except GetParameterError as error:
            # Powertools wraps the SDK's error without chaining it: the original is the context.
            cause = error.__cause__ or error.__context__
            code = cause.response.get("Error", {}).get("Code") if isinstance(cause, ClientError) else None
            if code in {"ThrottlingException", "InternalServerError"}:
                raise TransientError(f"fine schedule parameter: {code}") from error
            raise ConfigurationError(f"the fine schedule parameter {self._name} cannot be read ({code or error})") from error
        try:
            return FineSchedule.model_validate_json(str(document))
        except ValidationError as error:
            raise ConfigurationError(f"the fine schedule parameter {self._name} is not a valid schedule: {error}") from error


class FineScheduleSource(Protocol):
    """Where the current schedule comes from: SsmFineSchedule deployed, a fixed schedule in tests."""

    def get(self) -> FineSchedule: ...
