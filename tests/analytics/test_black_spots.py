"""Black spots: the rule on crafted counters, the nightly job, and the officers' route."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from murur.analytics.aggregates import Offence
from murur.analytics.black_spots import BlackSpotRule, assess, window
from murur.cameras import Camera

from .conftest import PLACES, analytics

TODAY = date(2026, 11, 29)
START, END = window(TODAY, BlackSpotRule())  # 2026-11-01 .. 2026-11-28


def camera(camera_id: str, *, installed: str | None = "2025-01-01", status: str = "ACTIVE") -> Camera:
    return Camera(camera_id=camera_id, status=status, name=f"Place {camera_id}", road="Route", region_code="00",
                  latitude=18.0, longitude=-15.9,
                  installed_at=datetime.fromisoformat(installed).replace(tzinfo=UTC) if installed else None)


def every_day(per_day: int, start: date = START, end: date = END) -> dict[date, int]:
    return {start + timedelta(days=n): per_day for n in range((end - start).days + 1) if per_day}


def test_the_window_is_the_last_28_complete_days() -> None:
    assert (START, END) == (date(2026, 11, 1), date(2026, 11, 28))


def test_a_camera_far_above_the_others_is_listed_with_the_figures_that_put_it_there() -> None:
    cameras = [camera("HOT"), camera("A"), camera("B"), camera("C")]
    daily = {"HOT": every_day(10), "A": every_day(2), "B": every_day(3), "C": every_day(1)}

    assessment = assess(cameras, daily, today=TODAY)

    assert assessment.cameras_assessed == 4
    (spot,) = assessment.black_spots
    assert (spot.camera_id, spot.offences, spot.exposure_days, spot.rate_per_day) == ("HOT", 280, 28, 10.0)
    # Compared with the three others (1, 2 and 3 offences a day), never with itself.
    assert spot.reference.cameras == 3
    assert spot.reference.mean == pytest.approx(2.0)
    assert spot.reference.sd == pytest.approx((2 / 3) ** 0.5)
    assert spot.reference.percentile == pytest.approx(2.8)
    assert spot.reference.threshold == pytest.approx(2.0 + 2 * (2 / 3) ** 0.5)
    assert spot.times_reference_mean == pytest.approx(5.0)
    document = assessment.document()
    assert document["black_spots"][0]["reference"]["threshold"] == round(2.0 + 2 * (2 / 3) ** 0.5, 3)
    assert document["window_start"] == "2026-11-01" and document["rule"]["min_offences"] == 20


def test_a_camera_above_the_others_but_under_the_minimum_count_is_not_listed() -> None:
    cameras = [camera("BUSIER"), camera("A"), camera("B")]
    # 19 offences where the others have none: far above them, but too few to be a pattern.
    daily = {"BUSIER": {START + timedelta(days=n): 1 for n in range(19)}}
    assert assess(cameras, daily, today=TODAY).black_spots == []
    daily["BUSIER"][END] = 1  # the 20th
    assert [spot.camera_id for spot in assess(cameras, daily, today=TODAY).black_spots] == ["BUSIER"]


def test_a_camera_within_the_spread_of_a_busy_network_is_not_listed() -> None:
    cameras = [camera(name) for name in "ABCDEFGHIJ"]
    daily = {name: every_day(per_day) for name, per_day in zip("ABCDEFGHIJ", [8, 9, 10, 11, 12, 9, 10, 11, 10, 13])}
    assert assess(cameras, daily, today=TODAY).black_spots == []


def test_new_retired_and_not_yet_installed_days_are_left_out() -> None:
    cameras = [
        camera("HOT", installed="2026-11-15"),  # 14 days in the window
        camera("NEW", installed="2026-11-25"),  # 4 days: not assessed
        camera("OLD", status="RETIRED"),
        camera("A"), camera("B"),
    ]
    daily = {"HOT": {**every_day(50, START, date(2026, 11, 14)), **every_day(6, date(2026, 11, 15))},
             "NEW": every_day(40, date(2026, 11, 25)), "OLD": every_day(100), "A": every_day(1), "B": every_day(2)}

    assessment = assess(cameras, daily, today=TODAY)

    assert assessment.cameras_assessed == 3
    assert assessment.cameras_not_assessed == ["NEW"]
    (spot,) = assessment.black_spots
    # Counts from before the installation day are not the camera's (a test rig, a data error).
    assert (spot.camera_id, spot.offences, spot.exposure_days, spot.rate_per_day) == ("HOT", 84, 14, 6.0)
    assert spot.reference.cameras == 2


def test_a_network_too_small_to_compare_lists_nobody() -> None:
    cameras = [camera("HOT"), camera("A")]
    assert assess(cameras, {"HOT": every_day(30), "A": every_day(1)}, today=TODAY).black_spots == []


# ------------------------------------------------------------------ the job and the route on the stack
def offence(number: int, camera_id: str, captured_at: datetime) -> Offence:
    place, region = PLACES[camera_id]
    return Offence(violation_id=f"MR26-B{number:09d}", captured_at=captured_at, issued_at=captured_at,
                   camera_id=camera_id, place=place, region_code=region, violation_type="SPEEDING", amount_mru=4000)


def count_offences(stack: Any, per_day: dict[str, int], days: int = 20) -> None:
    repository, number = analytics(stack), 0
    today = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    for camera_id, count in per_day.items():
        for day in range(1, days + 1):
            for _ in range(count):
                number += 1
                assert repository.record(offence(number, camera_id, today - timedelta(days=day)))


def test_officers_see_the_nightly_black_spots_and_citizens_are_refused(stack: Any) -> None:
    from murur.local.identity import citizen_token, officer_token

    before = stack.http("GET", "/officer/black-spots", token=officer_token("officer-7"))
    assert before.status == 200
    assert before.json()["computed_at"] is None and before.json()["black_spots"] == []

    count_offences(stack, {"NKC-TVZ-01": 3, "NKC-KSR-02": 1})
    summary = stack.functions.invoke("BlackSpotsFunction", {"source": "aws.events", "detail-type": "Scheduled Event"})
    assert summary["black_spots"] == ["NKC-TVZ-01"]

    answer = stack.http("GET", "/officer/black-spots", token=officer_token("officer-7"))
    assert answer.status == 200
    body = answer.json()
    (spot,) = body["black_spots"]
    assert spot["camera_id"] == "NKC-TVZ-01" and spot["offences"] == 60 and spot["exposure_days"] == 28
    assert spot["reference"]["cameras"] == body["cameras_assessed"] - 1
    assert body["rule"]["window_days"] == 28
    assert stack.http("GET", "/officer/black-spots?region=08", token=officer_token("officer-7")).json()["black_spots"] == []

    assert stack.http("GET", "/officer/black-spots", token=citizen_token("2468013579")).status == 401
    refused = stack.http("GET", "/officer/black-spots", token=officer_token("clerk-1", groups=("clerks",)))
    assert (refused.status, refused.json()["code"]) == (403, "NOT_AN_OFFICER")
    assert stack.http("GET", "/officer/black-spots?region=nkc", token=officer_token("officer-7")).status == 422
