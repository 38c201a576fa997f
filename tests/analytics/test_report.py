"""The report: one HTML page with the four charts and the black spots, from the stack or an export."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from murur.analytics.aggregates import Dimension
from murur.analytics.export import CAMERAS_KEY, camera_record, json_lines_gzip, offence_lines, partition_key
from murur.analytics.report import main
from murur.analytics.synthetic import generate_offences
from murur.cameras import Camera
from murur.local.analytics_demo import add_demo_history, analytics_at_the_end
from murur.local.seed import CAMERAS, SECTION_CAMERAS

from .conftest import analytics, at, violation, write_violations

REGISTER = [Camera.model_validate(camera.__dict__) for camera in CAMERAS + SECTION_CAMERAS]


def svg_labels(page: str) -> list[str]:
    return re.findall(r'<svg [^>]*aria-label="([^"]+)"', page)


def test_the_demo_report_is_written_from_the_stacks_counters(stack: Any, tmp_path: Path) -> None:
    captured = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    write_violations(stack, [violation(1, "NKC-TVZ-01", captured), violation(2, "NKC-KSR-02", captured)])
    said: list[str] = []

    result = analytics_at_the_end(stack, tmp_path, said.append, history_days=35)

    assert result["violations_counted"] == 2 and result["history_offences"] > 200
    assert result["black_spots"] == ["NKC-TVZ-01"]
    page = (tmp_path / "report" / "index.html").read_text()
    labels = svg_labels(page)
    assert labels[:2] == ["Offences by weekday and hour", "Cameras sized by offences"]
    # A trend per camera with offences, each marked with its installation day.
    active = [camera for camera in REGISTER if camera.status == "ACTIVE"]
    assert all(any(label.startswith(camera.camera_id) for label in labels) for camera in active)
    assert page.count("installed 20") == len(active)
    figures = json.loads((tmp_path / "report" / "report.json").read_text())
    assert figures["offences"] == result["history_offences"] + 2
    assert sum(figures["by_weekday_hour"].values()) == figures["offences"]
    assert figures["black_spots"]["black_spots"][0]["camera_id"] == "NKC-TVZ-01"
    assert "BLACK SPOT" in page and f"Report: {tmp_path / 'report' / 'index.html'}" in said[-1]


def test_the_demo_history_leaves_the_days_the_stream_counted_alone(stack: Any) -> None:
    # A demo run just after midnight: the run's violations were captured the day before.
    today = date(2026, 11, 30)
    write_violations(stack, [violation(1, "NKC-TVZ-01", at("2026-11-29", 23, 10)),
                             violation(2, "NKC-KSR-02", at("2026-11-29", 23, 40))])
    stack.deliver_streams()

    added = add_demo_history(stack, days=5, today=today)

    counters = analytics(stack)
    assert counters.daily(Dimension.NETWORK, date(2026, 11, 29), date(2026, 11, 29)) == {"all": {date(2026, 11, 29): 2}}
    history = counters.daily(Dimension.NETWORK, date(2026, 11, 25), date(2026, 11, 28))["all"]
    assert sorted(history) == [date(2026, 11, 25) + timedelta(days=n) for n in range(4)]
    assert sum(history.values()) == added


def test_the_report_command_reads_an_exported_history(tmp_path: Path, capsys: Any) -> None:
    export, out = tmp_path / "export", tmp_path / "out"
    end = date(2026, 11, 28)
    rows = list(generate_offences([c for c in REGISTER if c.status == "ACTIVE"], end - timedelta(days=59), end,
                                  base_per_day={"NKC-TVZ-01": 1.0, "NKC-KSR-02": 1.0, "NDB-RN2-01": 12.0,
                                                "RSO-RN2-K12": 1.2, "RSO-RN2-K17": 0.8}))
    by_day: dict[date, list[Any]] = {}
    for row in rows:
        by_day.setdefault(row.day, []).append(row.row())
    for day, day_rows in by_day.items():
        (export / partition_key(day)).parent.mkdir(parents=True, exist_ok=True)
        (export / partition_key(day)).write_bytes(offence_lines(day_rows))
    (export / CAMERAS_KEY).parent.mkdir(parents=True)
    (export / CAMERAS_KEY).write_bytes(json_lines_gzip(camera_record(camera) for camera in REGISTER))

    assert main(["--out", str(out), "--export", str(export)]) == 0

    assert "Report:" in capsys.readouterr().out
    figures = json.loads((out / "report.json").read_text())
    assert figures["offences"] == len(rows)
    assert (figures["start"], figures["end"]) == ((end - timedelta(days=59)).isoformat(), end.isoformat())
    (spot,) = figures["black_spots"]["black_spots"]
    assert spot["camera_id"] == "NDB-RN2-01" and figures["black_spots"]["window_end"] == end.isoformat()
    assert len(svg_labels((out / "index.html").read_text())) >= 2 + 5


def test_the_operators_analytics_command_counts_new_violations_and_writes_the_report(stack: Any, tmp_path: Path) -> None:
    import io

    from murur.local.__main__ import OperatorShell

    write_violations(stack, [violation(1, "NKC-TVZ-01", datetime.now(UTC) - timedelta(minutes=5))])
    printed = io.StringIO()
    shell = OperatorShell(stack, stdout=printed)

    shell.onecmd(f"analytics {tmp_path}")
    shell.onecmd(f"analytics {tmp_path}")

    first, second = printed.getvalue().split("Report:")[0], printed.getvalue().split("Report:")[1]
    assert first.startswith("1 new violations counted") and "0 new violations counted" in second
    assert json.loads((tmp_path / "report.json").read_text())["by_camera"] == {"NKC-TVZ-01": 1}


def test_the_installation_effect_compares_a_cameras_first_weeks_with_the_last() -> None:
    from murur.analytics.aggregates import Aggregates, Dimension
    from murur.analytics.report import ReportData, installation_effect

    start, end = date(2026, 1, 1), date(2026, 6, 30)
    installed_in_period = Camera.model_validate({**REGISTER[0].model_dump(), "camera_id": "NEW-01",
                                                 "installed_at": datetime(2026, 2, 1, 8, tzinfo=UTC)})
    aggregates = Aggregates()
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        if day >= date(2026, 2, 1):
            aggregates.add(Dimension.CAMERA, "NEW-01", day, 10 if day < date(2026, 3, 1) else 4)
        aggregates.add(Dimension.CAMERA, REGISTER[0].camera_id, day, 3)
    data = ReportData(start, end, aggregates, [installed_in_period, REGISTER[0]], None, "test")

    # Only the camera installed inside the period (REGISTER[0] was installed in 2025).
    assert installation_effect(data) == [{"camera_id": "NEW-01", "installed": "2026-02-01", "first_weeks_per_day": 10.0,
                                          "last_weeks_per_day": 4.0, "change_percent": -60}]
