"""The road-safety report: one self-contained HTML page with inline SVG charts.

    python -m murur.analytics.report --out out/report --export EXPORT_FOLDER [--days 365]
    python -m murur.analytics.report --out out/report --demo [--days 365]

`--export` reads an export copied from the analytics bucket (`aws s3 sync s3://BUCKET/ FOLDER/`):
the counters are tallied from its offence rows and the black spots assessed with the same rule as
the nightly job. `--demo` provisions a local stack, seeds the demo registry, puts a generated
history through the aggregation (murur.analytics.synthetic), runs the black-spot job and reads
the report from the stack's counters, as `make demo` does at its end with the chain's own violations.

The page: offences per hour x weekday (heat map), the cameras on a map sized by offences, a trend
line per camera with its installation day marked, and the current black spots with their figures.
`report.json` beside it holds the same figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any

from murur.analytics.aggregates import Aggregates, AnalyticsRepository, Dimension, tally
from murur.analytics.black_spots import assess
from murur.analytics.charts import LINE_COLOURS, camera_map, heat_map, trend
from murur.analytics.export import read_export
from murur.cameras import Camera, CameraStatus, DynamoDBCameraDirectory

REPORT_FILE = "index.html"
DEFAULT_DAYS = 365


@dataclass
class ReportData:
    start: date
    end: date
    aggregates: Aggregates
    cameras: list[Camera]
    black_spots: dict[str, Any] | None  # the assessment document (murur.analytics.black_spots)
    source: str


def from_stack(dynamodb: Any, analytics_table: str, cameras_table: str, *, end: date, days: int = DEFAULT_DAYS,
               source: str = "AnalyticsTable") -> ReportData:
    """From the counters (never the violations) and the stored assessment."""
    start = end - timedelta(days=days - 1)
    analytics = AnalyticsRepository(dynamodb, analytics_table)
    aggregates = analytics.aggregates(start, end, (Dimension.CAMERA, Dimension.HOUR, Dimension.TYPE,
                                                   Dimension.REGION, Dimension.NETWORK))
    return ReportData(start, end, aggregates, DynamoDBCameraDirectory(dynamodb, cameras_table).all(),
                      analytics.current_black_spots(), source)


def from_export(folder: Path, *, days: int | None = None) -> ReportData:
    """From an exported history; the black spots are assessed as of the day after its last day."""
    rows, cameras = read_export(folder)
    if not rows:
        raise SystemExit(f"no offences under {folder}/offences/year=*/month=*/day=*/")
    end = max(row.day for row in rows)
    start = end - timedelta(days=days - 1) if days else min(row.day for row in rows)
    aggregates = tally(row for row in rows if start <= row.day <= end)
    assessment = assess(cameras, aggregates.series(Dimension.CAMERA), today=end + timedelta(days=1))
    return ReportData(start, end, aggregates, cameras, assessment.document(), f"export in {folder}")


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _black_spot_section(document: dict[str, Any] | None) -> str:
    if document is None:
        return "<p>No black-spot assessment yet (BlackSpotsFunction runs every night).</p>"
    rule = document["rule"]
    explained = (
        f"<p>Assessed {escape(str(document['computed_at']))} over {escape(document['window_start'])} to "
        f"{escape(document['window_end'])} ({rule['window_days']} days): {document['cameras_assessed']} active cameras "
        f"with at least {rule['min_exposure_days']} days in service"
        + (f" ({len(document['cameras_not_assessed'])} too new)" if document["cameras_not_assessed"] else "")
        + f". A camera is a black spot when its offences per day exceed the highest of the other cameras' "
        f"{rule['percentile']}th percentile, their mean + {rule['sd_multiple']:g} sd, and {rule['min_times_mean']:g} x "
        f"their mean, with at least {rule['min_offences']} offences in the window.</p>")
    if not document["black_spots"]:
        return explained + "<p><strong>No black spot.</strong></p>"
    rows = [[spot["camera_id"], spot["place"], spot["region_code"], spot["offences"], spot["exposure_days"],
             f"{spot['rate_per_day']:.2f}", spot["reference"]["cameras"], f"{spot['reference']['mean']:.2f}",
             f"{spot['reference']['sd']:.2f}", f"{spot['reference']['percentile']:.2f}",
             f"{spot['reference']['threshold']:.2f}",
             "-" if spot["times_reference_mean"] is None else f"{spot['times_reference_mean']:.1f} x"]
            for spot in document["black_spots"]]
    return explained + _table(["camera", "place", "wilaya", "offences", "days", "per day", "other cameras",
                               "their mean", "sd", "p90", "threshold", "vs mean"], rows)


def _detail_map(points: list[dict[str, Any]], radius_degrees: float = 0.3) -> str:
    """The cameras around the busiest one, zoomed in: in a city they stand too close for the overview."""
    if not points:
        return ""
    busiest = max(points, key=lambda point: point["offences"])
    near = [point for point in points
            if abs(point["latitude"] - busiest["latitude"]) <= radius_degrees
            and abs(point["longitude"] - busiest["longitude"]) <= radius_degrees]
    if len(near) < 2 or len(near) == len(points):
        return ""
    peak = max(point["offences"] for point in points)
    return (f'<p class="meta">Detail: the {len(near)} cameras within {radius_degrees:g}° of {escape(busiest["camera_id"])} '
            f'(same scale of circles).</p>' + camera_map(near, min_span_degrees=0.02, peak=peak,
                                                        label="Cameras near the busiest one"))


_STYLE = """
body{font-family:sans-serif;max-width:1120px;margin:24px auto;padding:0 16px;color:#222}
h1{margin-bottom:4px} .meta{color:#666;margin-top:0} section{margin:28px 0}
table{border-collapse:collapse;font-size:13px;margin:8px 0} th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#f2f2f2} .trends{display:flex;flex-wrap:wrap;gap:8px} .figures{display:flex;gap:40px;flex-wrap:wrap}
"""


INSTALLATION_WEEKS = 4


def installation_effect(data: ReportData) -> list[dict[str, Any]]:
    """Offences per day in a camera's first 4 weeks after installation and in the period's last 4,
    for cameras installed inside the period at least 8 weeks before its end."""
    window = timedelta(weeks=INSTALLATION_WEEKS)
    last_start = data.end - window + timedelta(days=1)
    effects = []
    for camera in data.cameras:
        installed = camera.installed_at.astimezone(UTC).date() if camera.installed_at else None
        if installed is None or installed < data.start or installed + 2 * window > data.end + timedelta(days=1):
            continue
        days_counted = data.aggregates.series(Dimension.CAMERA).get(camera.camera_id, {})
        first = sum(count for day, count in days_counted.items() if installed <= day < installed + window)
        last = sum(count for day, count in days_counted.items() if last_start <= day <= data.end)
        first_rate, last_rate = first / window.days, last / window.days
        effects.append({"camera_id": camera.camera_id, "installed": installed.isoformat(),
                        "first_weeks_per_day": round(first_rate, 2), "last_weeks_per_day": round(last_rate, 2),
                        "change_percent": round((last_rate - first_rate) / first_rate * 100) if first else None})
    return effects


def _installation_section(effects: list[dict[str, Any]]) -> str:
    if not effects:
        return ""
    rows = [[effect["camera_id"], effect["installed"], effect["first_weeks_per_day"], effect["last_weeks_per_day"],
             "-" if effect["change_percent"] is None else f"{effect['change_percent']:+d} %"] for effect in effects]
    return ("<p>Cameras installed during the period: offences per day in their first "
            f"{INSTALLATION_WEEKS} weeks and in the period's last {INSTALLATION_WEEKS}.</p>"
            + _table(["camera", "installed", "first weeks, per day", "last weeks, per day", "change"], rows))


def render(data: ReportData) -> str:
    aggregates = data.aggregates
    per_camera = aggregates.totals(Dimension.CAMERA)
    total = sum(aggregates.totals(Dimension.NETWORK).values())
    spots = {spot["camera_id"] for spot in (data.black_spots or {}).get("black_spots", [])}
    known = {camera.camera_id: camera for camera in data.cameras}
    points = [{"camera_id": camera.camera_id, "place": camera.place, "latitude": camera.latitude,
               "longitude": camera.longitude, "offences": per_camera.get(camera.camera_id, 0),
               "black_spot": camera.camera_id in spots, "active": camera.status == CameraStatus.ACTIVE}
              for camera in data.cameras]
    series = aggregates.series(Dimension.CAMERA)
    trends = []
    for number, camera_id in enumerate(sorted(series, key=lambda c: -per_camera.get(c, 0))):
        camera = known.get(camera_id)
        installed = camera.installed_at.astimezone(UTC).date() if camera and camera.installed_at else None
        title = f"{camera_id} - {camera.place if camera else 'not in the register'}" + \
            (" - BLACK SPOT" if camera_id in spots else "")
        trends.append(trend(series[camera_id], data.start, data.end, installed=installed, title=title,
                            colour=LINE_COLOURS[number % len(LINE_COLOURS)]))
    by_type = sorted(aggregates.totals(Dimension.TYPE).items(), key=lambda item: -item[1])
    by_region = sorted(aggregates.totals(Dimension.REGION).items())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Murur - offences {data.start} to {data.end}</title>
<style>{_STYLE}</style></head><body>
<h1>Offences and black spots</h1>
<p class="meta">{data.start} to {data.end} (UTC, which is Nouakchott time) - {total} offences at {len(series)} cameras -
source: {escape(data.source)} - written {datetime.now(UTC):%Y-%m-%d %H:%M} UTC</p>
<section><h2>Current black spots</h2>{_black_spot_section(data.black_spots)}</section>
<section><h2>When: offences by weekday and hour</h2>{heat_map(aggregates.weekday_hours())}</section>
<section><h2>Where: cameras sized by offences</h2>
<p class="meta">Circle area proportional to the camera's offences over the period; red ring: black spot; grey: retired.</p>
{camera_map(points)}{_detail_map(points)}</section>
<section><h2>Trends per camera</h2><p class="meta">The dashed line is the camera's installation day.</p>
{_installation_section(installation_effect(data))}
<div class="trends">{"".join(trends)}</div></section>
<section class="figures"><div><h2>By violation type</h2>{_table(["type", "offences"], by_type)}</div>
<div><h2>By wilaya</h2>{_table(["wilaya", "offences"], by_region)}</div>
<div><h2>By camera</h2>{_table(["camera", "offences"], sorted(per_camera.items(), key=lambda item: -item[1]))}</div>
</section></body></html>
"""


def write_report(data: ReportData, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    page = out / REPORT_FILE
    page.write_text(render(data), encoding="utf-8")
    figures = {
        "start": data.start.isoformat(), "end": data.end.isoformat(), "source": data.source,
        "offences": sum(data.aggregates.totals(Dimension.NETWORK).values()),
        "by_camera": data.aggregates.totals(Dimension.CAMERA),
        "by_type": data.aggregates.totals(Dimension.TYPE),
        "by_region": data.aggregates.totals(Dimension.REGION),
        "by_weekday_hour": {f"{weekday}-{hour:02d}": count
                            for (weekday, hour), count in sorted(data.aggregates.weekday_hours().items())},
        "black_spots": data.black_spots,
        "installation_effect": installation_effect(data),
    }
    (out / "report.json").write_text(json.dumps(figures, indent=2, ensure_ascii=False, sort_keys=True))
    return page


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m murur.analytics.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for index.html and report.json")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--export", type=Path, help="a local copy of the analytics bucket (offences/, cameras/)")
    source.add_argument("--demo", action="store_true", help="a local stack with a generated history")
    parser.add_argument("--days", type=int, default=None, help=f"period ending on the last day (default: "
                        f"the whole export; {DEFAULT_DAYS} for --demo)")
    arguments = parser.parse_args(argv)
    started = time.perf_counter()
    if arguments.export:
        page = write_report(from_export(arguments.export, days=arguments.days), arguments.out)
    else:
        from murur.local import LocalStack
        from murur.local.analytics_demo import add_demo_history, demo_report
        from murur.local.seed import seed_registry

        with LocalStack(log_level="CRITICAL") as stack:
            seed_registry(stack)
            added = add_demo_history(stack, days=arguments.days or DEFAULT_DAYS)
            print(f"Generated history: {added} offences counted in the local stack's AnalyticsTable")
            page, _ = demo_report(stack, arguments.out, days=arguments.days or DEFAULT_DAYS)
    print(f"Report: {page.resolve()} ({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
