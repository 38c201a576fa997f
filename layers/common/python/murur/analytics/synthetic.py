"""Generated offence histories, for the demo's report and the analytics benchmark. Not used in Lambda.

A camera's offences per day follow a Poisson law whose mean is the camera's base rate, higher in the
first weeks after installation (drivers learn where the camera stands: the effect the trend lines
are meant to show), shaped by an hour-of-day profile (morning and evening peaks) and a quieter
weekend. Every offence is labelled with the `SYN-` violation id prefix, so generated data can never
be mistaken for, or collide with, a real violation (`MR..`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from murur.analytics.aggregates import Offence
from murur.cameras import Camera

# Relative weight of each hour of day (UTC = Nouakchott time): the commuting peaks, a quiet night.
HOUR_PROFILE = [0.2, 0.1, 0.1, 0.1, 0.2, 0.4, 0.9, 1.8, 2.0, 1.4, 1.1, 1.1,
                1.3, 1.2, 1.0, 1.1, 1.4, 1.9, 2.1, 1.6, 1.1, 0.8, 0.5, 0.3]
WEEKEND_FACTOR = 0.7  # Saturday and Sunday
TYPES = [("SPEEDING", 0.62), ("RED_LIGHT", 0.18), ("NO_SEATBELT", 0.1), ("PHONE_WHILE_DRIVING", 0.1)]
AMOUNTS = {"SPEEDING": 4000, "RED_LIGHT": 5000, "NO_SEATBELT": 1000, "PHONE_WHILE_DRIVING": 2000}


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method for small means, a rounded normal above (the stdlib has no Poisson sampler)."""
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def daily_mean(base_per_day: float, day: date, installed: date | None) -> float:
    weekend = WEEKEND_FACTOR if day.isoweekday() >= 6 else 1.0
    if installed is None:
        return base_per_day * weekend
    weeks_since = (day - installed).days / 7
    # Twice the base rate at installation, halving the excess every 4 weeks.
    return base_per_day * weekend * (1 + 2 ** (-weeks_since / 4))


def generate_offences(cameras: list[Camera], start: date, end: date, *, base_per_day: dict[str, float],
                      seed: int = 2026) -> Iterator[Offence]:
    """Offences at each camera with a base rate, each day from start to end (none before installation)."""
    rng = random.Random(seed)
    hours = list(range(24))
    number = 0
    for camera in cameras:
        base = base_per_day.get(camera.camera_id, 0.0)
        installed = camera.installed_at.astimezone(UTC).date() if camera.installed_at else None
        day = start if installed is None else max(start, installed)
        while day <= end:
            for _ in range(_poisson(rng, daily_mean(base, day, installed))):
                number += 1
                hour = rng.choices(hours, weights=HOUR_PROFILE)[0]
                captured_at = datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60),
                                       tzinfo=UTC)
                violation_type = rng.choices([name for name, _ in TYPES], weights=[w for _, w in TYPES])[0]
                speeding = violation_type == "SPEEDING" and camera.speed_limit_kmh
                yield Offence(
                    violation_id=f"SYN-{seed}-{number:08d}", captured_at=captured_at,
                    issued_at=captured_at + timedelta(seconds=rng.randrange(20, 90)), camera_id=camera.camera_id,
                    place=camera.place, region_code=camera.region_code, violation_type=violation_type,
                    amount_mru=AMOUNTS[violation_type],
                    measured_speed_kmh=(camera.speed_limit_kmh + rng.randrange(6, 45)) if speeding else None,
                    speed_limit_kmh=camera.speed_limit_kmh if speeding else None,
                    lane=rng.randrange(1, 4), read_source="model")
            day += timedelta(days=1)
