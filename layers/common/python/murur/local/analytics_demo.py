"""The demo's last part: the run's violations counted from the stream, a generated history, the report.

The chain's own violations of the run (a few dozen, all of today) reach AnalyticsTable as they would
on AWS: LocalStack.deliver_streams() hands the ViolationsTable stream to AggregateViolationsFunction.
A report needs months to show trends, so a generated history (murur.analytics.synthetic, ids
`SYN-...`) is loaded into the counters as a backfill, never as violations; then the nightly
black-spot job runs and the report is written from the stack's counters.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from murur.analytics.aggregates import AnalyticsRepository, Dimension, tally
from murur.analytics.report import DEFAULT_DAYS, ReportData, from_stack, write_report
from murur.analytics.synthetic import generate_offences
from murur.cameras import CameraStatus, DynamoDBCameraDirectory

# Offences per day at each demo camera (murur.local.seed): NKC-TVZ-01 stands out.
DEMO_BASE_RATES = {"NKC-TVZ-01": 9.0, "NKC-KSR-02": 2.5, "NDB-RN2-01": 1.8, "RSO-RN2-K12": 2.0, "RSO-RN2-K17": 2.2}
# Long enough for the section cameras' installation (2026-01-15) to show in their trend lines.
DEMO_HISTORY_DAYS = 330


def add_demo_history(stack: Any, *, days: int, seed: int = 2026, today: date | None = None) -> int:
    """Generated offences at the active demo cameras over `days` days before today, into the counters.

    Loaded as a backfill (AnalyticsRepository.backfill), not as violations: the history is for the
    report to have trends to show, and must not pass for violations anyone owes. Days the stream has
    already counted (violations captured before midnight, in a run just after it) get no history:
    a backfill would replace their counts.
    """
    today = today or datetime.now(UTC).date()
    first, last = today - timedelta(days=days), today - timedelta(days=1)
    dynamodb = stack.client("dynamodb")
    analytics = AnalyticsRepository(dynamodb, stack.name("AnalyticsTable"))
    counted = {day for series in analytics.daily(Dimension.NETWORK, first, last).values() for day in series}
    cameras = [camera for camera in DynamoDBCameraDirectory(dynamodb, stack.name("CamerasTable")).all()
               if camera.status == CameraStatus.ACTIVE]
    offences = [offence for offence in generate_offences(cameras, first, last, base_per_day=DEMO_BASE_RATES, seed=seed)
                if offence.day not in counted]
    analytics.backfill(tally(offences))
    return len(offences)


def demo_report(stack: Any, out: Path, *, days: int = DEFAULT_DAYS) -> tuple[Path, ReportData]:
    """Run the nightly black-spot job now, then write the report from the stack's counters."""
    stack.functions.invoke("BlackSpotsFunction", {"source": "aws.events", "detail-type": "Scheduled Event"})
    data = from_stack(stack.client("dynamodb"), stack.name("AnalyticsTable"), stack.name("CamerasTable"),
                      end=datetime.now(UTC).date(), days=days, source="the local stack's AnalyticsTable")
    return write_report(data, out), data


def analytics_at_the_end(stack: Any, out: Path, say: Callable[[str], None],
                         history_days: int = DEMO_HISTORY_DAYS) -> dict[str, Any]:
    say("\nAnalytics: the ViolationsTable stream goes to AggregateViolationsFunction ...")
    deliveries = stack.deliver_streams()
    counted = sum(delivery.records_delivered for delivery in deliveries)
    given_up = sum(len(delivery.given_up) for delivery in deliveries)
    say(f"  {counted} new violations counted (by camera, place, wilaya, type, hour, day)"
        + (f"; {given_up} records sent to the dead-letter queue" if given_up else ""))
    added = add_demo_history(stack, days=history_days)
    say(f"  plus a generated {history_days}-day history of {added} offences, loaded into the counters "
        "(ids SYN-..., no violations) so the trends have months to show")
    page, data = demo_report(stack, out / "report", days=history_days + 1)
    spots = (data.black_spots or {}).get("black_spots", [])
    say("  black spots (last 28 days): " + (", ".join(
        f"{spot['camera_id']} ({spot['rate_per_day']:.1f} offences/day"
        + (f", {spot['times_reference_mean']:.1f} x the other cameras' mean)" if spot["times_reference_mean"] else ")")
        for spot in spots) or "none"))
    say(f"Report: {page.resolve()}")
    return {"violations_counted": counted, "records_given_up": given_up, "history_offences": added,
            "black_spots": [spot["camera_id"] for spot in spots], "report": str(page.resolve())}
