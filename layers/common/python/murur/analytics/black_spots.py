"""Black spots: cameras whose offence rate stands far above the rest of the network's.

The rule, applied every night to the last 28 complete days (UTC):

1. Exposure. Each ACTIVE camera's days in the window on or after its installation day. A camera with
   fewer than 7 days of exposure is not assessed (too little to say) and is no one's reference.
2. Rate. Offences in the window / exposure days = offences per day.
3. Reference. For each camera, the rates of every OTHER assessed camera (leave-one-out: one extreme
   camera must not raise its own bar). With fewer than 2 other cameras there is no distribution to
   compare with, and nobody is listed.
4. Threshold. The highest of the reference's 90th percentile (linear interpolation), its mean + 2
   standard deviations (population), and 1.5 times its mean. On a small network the percentile sits
   on the busiest other camera; on a large one mean + 2 sd keeps a long tail out; on a network of
   very even cameras (a small sd) the 1.5 x mean keeps a camera 20 % busier than the rest from being
   called a black spot.
5. Black spot. Rate above the threshold AND at least 20 offences in the window (a handful of
   offences at a quiet camera is chance, not a pattern).

Every listed camera carries the figures that put it there (offences, exposure, rate, the reference's
size, mean, sd, percentile, threshold, and its rate as a multiple of the reference mean), so an
officer can see why, and re-check it from the counters.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from murur.analytics.aggregates import AnalyticsRepository, Dimension
from murur.cameras import Camera, CameraStatus, DynamoDBCameraDirectory
from murur.dynamo import iso_time


@dataclass(frozen=True)
class BlackSpotRule:
    window_days: int = 28
    min_offences: int = 20
    min_exposure_days: int = 7
    min_reference_cameras: int = 2
    percentile: int = 90
    sd_multiple: float = 2.0
    min_times_mean: float = 1.5


@dataclass(frozen=True)
class Reference:
    """The other assessed cameras' rates (offences per day), as the threshold saw them."""

    cameras: int
    mean: float
    sd: float
    percentile: float
    threshold: float


@dataclass(frozen=True)
class CameraFigures:
    camera_id: str
    place: str
    region_code: str
    latitude: float
    longitude: float
    offences: int
    exposure_days: int
    rate_per_day: float


@dataclass(frozen=True)
class BlackSpot(CameraFigures):
    reference: Reference
    times_reference_mean: float | None  # None when the other cameras had no offences at all


@dataclass(frozen=True)
class Assessment:
    computed_at: datetime
    window_start: date
    window_end: date
    rule: BlackSpotRule
    cameras_assessed: int
    cameras_not_assessed: list[str]  # active, but too few days of exposure in the window
    black_spots: list[BlackSpot] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        """The stored and served form: plain JSON values, rates rounded for reading."""
        plain = asdict(self)
        plain["computed_at"] = iso_time(self.computed_at)
        plain["window_start"], plain["window_end"] = self.window_start.isoformat(), self.window_end.isoformat()
        for spot in plain["black_spots"]:
            spot["rate_per_day"] = round(spot["rate_per_day"], 3)
            spot["reference"] = {name: round(value, 3) if isinstance(value, float) else value
                                 for name, value in spot["reference"].items()}
            if spot["times_reference_mean"] is not None:
                spot["times_reference_mean"] = round(spot["times_reference_mean"], 2)
        return plain


def window(today: date, rule: BlackSpotRule) -> tuple[date, date]:
    """The last `window_days` complete days before `today`."""
    end = today - timedelta(days=1)
    return end - timedelta(days=rule.window_days - 1), end


def exposure_days(camera: Camera, start: date, end: date) -> int:
    first = max(start, camera.installed_at.astimezone(UTC).date()) if camera.installed_at else start
    return max((end - first).days + 1, 0)


def assess(cameras: list[Camera], daily: dict[str, dict[date, int]], *, today: date, now: datetime | None = None,
           rule: BlackSpotRule = BlackSpotRule()) -> Assessment:
    """Apply the rule to the cameras' daily offences (AnalyticsTable's camera counters). Pure."""
    start, end = window(today, rule)
    figures: list[CameraFigures] = []
    too_new: list[str] = []
    for camera in cameras:
        if camera.status != CameraStatus.ACTIVE:
            continue
        exposure = exposure_days(camera, start, end)
        if exposure < rule.min_exposure_days:
            too_new.append(camera.camera_id)
            continue
        offences = sum(count for day, count in daily.get(camera.camera_id, {}).items() if start <= day <= end
                       and (camera.installed_at is None or day >= camera.installed_at.astimezone(UTC).date()))
        figures.append(CameraFigures(camera.camera_id, camera.place, camera.region_code, camera.latitude,
                                     camera.longitude, offences, exposure, offences / exposure))
    spots = []
    for candidate in figures:
        others = [other.rate_per_day for other in figures if other.camera_id != candidate.camera_id]
        if len(others) < rule.min_reference_cameras or candidate.offences < rule.min_offences:
            continue
        reference = _reference(others, rule)
        if candidate.rate_per_day > reference.threshold:
            times = candidate.rate_per_day / reference.mean if reference.mean > 0 else None
            spots.append(BlackSpot(**asdict(candidate), reference=reference, times_reference_mean=times))
    spots.sort(key=lambda spot: (-spot.rate_per_day, spot.camera_id))
    return Assessment(computed_at=now or datetime.now(UTC), window_start=start, window_end=end, rule=rule,
                      cameras_assessed=len(figures), cameras_not_assessed=sorted(too_new), black_spots=spots)


def _reference(rates: list[float], rule: BlackSpotRule) -> Reference:
    mean = statistics.fmean(rates)
    sd = statistics.pstdev(rates)
    # quantiles(n=100)[p - 1] is the p-th percentile; "inclusive" interpolates between the observed rates.
    percentile = statistics.quantiles(rates, n=100, method="inclusive")[rule.percentile - 1]
    return Reference(cameras=len(rates), mean=mean, sd=sd, percentile=percentile,
                     threshold=max(percentile, mean + rule.sd_multiple * sd, rule.min_times_mean * mean))


class BlackSpotJob:
    """The nightly assessment: the camera register and the camera counters in, the assessment stored."""

    def __init__(self, cameras: DynamoDBCameraDirectory, analytics: AnalyticsRepository,
                 rule: BlackSpotRule = BlackSpotRule()) -> None:
        self._cameras = cameras
        self._analytics = analytics
        self._rule = rule

    def run(self, now: datetime | None = None) -> Assessment:
        now = now or datetime.now(UTC)
        start, end = window(now.date(), self._rule)
        daily = self._analytics.daily(Dimension.CAMERA, start, end)
        assessment = assess(self._cameras.all(), daily, today=now.date(), now=now, rule=self._rule)
        self._analytics.save_black_spots(assessment.document())
        return assessment
