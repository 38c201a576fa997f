"""The officers' black-spot route: the current black spots with the figures that justify each one.

    GET /officer/black-spots[?region=00]     the last nightly assessment (murur.analytics.black_spots)

The assessment is computed by BlackSpotsFunction and stored in AnalyticsTable; this route only reads
it (one GetItem). Before the first assessment it answers an empty list with `computed_at: null`.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from functools import cache
from typing import Annotated

import boto3
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter as Router
from pydantic import AwareDatetime, BaseModel, Field

from murur.analytics.aggregates import AnalyticsRepository
from murur.analytics.black_spots import BlackSpotRule
from murur.api.errors import documented
from murur.api.identity import officer_from
from murur.settings import settings

router = Router()


class ReferenceFigures(BaseModel):
    cameras: int = Field(description="Other assessed cameras the camera is compared with")
    mean: float = Field(description="Their mean offences per day")
    sd: float = Field(description="Their standard deviation (population)")
    percentile: float = Field(description="Their 90th percentile of offences per day")
    threshold: float = Field(description="max(percentile, mean + 2 sd, 1.5 x mean): the rate to exceed")


class BlackSpotFigures(BaseModel):
    camera_id: str
    place: str
    region_code: str
    latitude: float
    longitude: float
    offences: int = Field(description="Offences in the window, from the camera's installation day on")
    exposure_days: int = Field(description="Days of the window the camera was installed")
    rate_per_day: float
    reference: ReferenceFigures
    times_reference_mean: float | None = Field(description="rate_per_day / reference mean; null if that mean is 0")


class Rule(BaseModel):
    window_days: int
    min_offences: int
    min_exposure_days: int
    min_reference_cameras: int
    percentile: int
    sd_multiple: float
    min_times_mean: float


class BlackSpots(BaseModel):
    computed_at: AwareDatetime | None = Field(description="When the assessment ran; null before the first one")
    window_start: date | None = None
    window_end: date | None = None
    rule: Rule
    cameras_assessed: int = 0
    black_spots: list[BlackSpotFigures] = Field(description="Highest rate first")


@cache
def _analytics() -> AnalyticsRepository:
    return AnalyticsRepository(boto3.client("dynamodb"), settings().analytics_table)


@router.get("/officer/black-spots", summary="The current black spots, with the figures behind each one",
            responses=documented(200, BlackSpots, "The latest assessment (empty before the first one)",
                                 {403: "NOT_AN_OFFICER"}))
def black_spots(region: Annotated[str | None, Query(pattern=r"^\d{2}$", description="Only this wilaya (00-12)")] = None,
                ) -> BlackSpots:
    officer_from(router.current_event)
    document = _analytics().current_black_spots()
    if document is None:
        return BlackSpots(computed_at=None, rule=Rule(**asdict(BlackSpotRule())), black_spots=[])
    answer = BlackSpots.model_validate(document)
    if region is not None:
        answer.black_spots = [spot for spot in answer.black_spots if spot.region_code == region]
    return answer
