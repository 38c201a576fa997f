"""The report's four charts as inline SVG, written by hand.

Why by hand: four simple charts (a grid, a scatter, line series, a legend) need about two hundred
lines of SVG; matplotlib would add some 40 MB to the environment for them, render much slower on
100 000 offences' aggregates, and make the HTML depend on a rasteriser. Text is escaped; every mark
carries a <title> with its figure, so a reader can hover for the number behind it.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from html import escape

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
# A sequential palette (light to dark red): offences are counts, more is worse.
_STOPS = [(255, 245, 240), (252, 187, 161), (251, 106, 74), (203, 24, 29), (103, 0, 13)]
LINE_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]


def _colour(fraction: float) -> str:
    fraction = min(max(fraction, 0.0), 1.0) * (len(_STOPS) - 1)
    low = min(int(fraction), len(_STOPS) - 2)
    mix = fraction - low
    rgb = [round(a + (b - a) * mix) for a, b in zip(_STOPS[low], _STOPS[low + 1])]
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _svg(width: float, height: float, body: list[str], label: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" '
            f'height="{height:.0f}" role="img" aria-label="{escape(label)}" font-family="sans-serif" font-size="11">'
            + "".join(body) + "</svg>")


def heat_map(counts: dict[tuple[int, int], int]) -> str:
    """Offences per (ISO weekday 1-7, hour 0-23)."""
    cell_w, cell_h, left, top = 26, 24, 40, 22
    peak = max(counts.values(), default=0) or 1
    body = []
    for hour in range(24):
        body.append(f'<text x="{left + hour * cell_w + cell_w / 2}" y="{top - 6}" text-anchor="middle">{hour:02d}</text>')
    for row, weekday in enumerate(range(1, 8)):
        y = top + row * cell_h
        body.append(f'<text x="{left - 6}" y="{y + cell_h / 2 + 4}" text-anchor="end">{WEEKDAYS[row]}</text>')
        for hour in range(24):
            value = counts.get((weekday, hour), 0)
            body.append(f'<rect x="{left + hour * cell_w}" y="{y}" width="{cell_w - 1}" height="{cell_h - 1}" '
                        f'fill="{_colour(value / peak)}"><title>{WEEKDAYS[row]} {hour:02d}:00-{hour:02d}:59 UTC: '
                        f'{value} offences</title></rect>')
    legend_y = top + 7 * cell_h + 14
    for step in range(50):
        body.append(f'<rect x="{left + step * 4}" y="{legend_y}" width="4" height="10" fill="{_colour(step / 49)}"/>')
    body.append(f'<text x="{left}" y="{legend_y + 24}">0</text>'
                f'<text x="{left + 200}" y="{legend_y + 24}" text-anchor="end">{peak} offences</text>')
    return _svg(left + 24 * cell_w + 10, legend_y + 32, body, "Offences by weekday and hour")


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / ticks
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def camera_map(points: list[dict[str, object]], *, min_span_degrees: float = 0.5, label: str = "Cameras sized by offences",
               peak: int | None = None) -> str:
    """Cameras at their latitude/longitude, area proportional to offences; black spots ringed in red.

    points: {camera_id, place, latitude, longitude, offences, black_spot, active}. Equirectangular,
    the longitude scaled by cos(latitude), which is true enough at Mauritania's latitudes; no tiles.
    """
    width, height, margin = 680, 460, 50
    lats = [float(p["latitude"]) for p in points] or [18.0]
    lons = [float(p["longitude"]) for p in points] or [-15.9]
    mid = math.radians((min(lats) + max(lats)) / 2)
    lat_span = max(max(lats) - min(lats), min_span_degrees) * 1.3
    lon_span = max(max(lons) - min(lons), min_span_degrees) * 1.3
    scale = min((width - 2 * margin) / (lon_span * math.cos(mid)), (height - 2 * margin) / lat_span)
    centre_lat, centre_lon = (min(lats) + max(lats)) / 2, (min(lons) + max(lons)) / 2

    def x(lon: float) -> float:
        return width / 2 + (lon - centre_lon) * math.cos(mid) * scale

    def y(lat: float) -> float:
        return height / 2 - (lat - centre_lat) * scale

    body = [f'<rect x="0" y="0" width="{width}" height="{height}" fill="#f7fbff"/>']
    step = _nice_step(max((width / (math.cos(mid) * scale)), height / scale), 6)
    lon = math.floor((centre_lon - width / (2 * math.cos(mid) * scale)) / step) * step
    while x(lon) < width:
        body.append(f'<line x1="{x(lon):.1f}" y1="0" x2="{x(lon):.1f}" y2="{height}" stroke="#dde6ee"/>'
                    f'<text x="{x(lon) + 3:.1f}" y="{height - 4}" fill="#789">{abs(lon):.4g}°{"W" if lon < 0 else "E"}</text>')
        lon += step
    lat = math.floor((centre_lat - height / (2 * scale)) / step) * step
    while y(lat) > 0:
        body.append(f'<line x1="0" y1="{y(lat):.1f}" x2="{width}" y2="{y(lat):.1f}" stroke="#dde6ee"/>'
                    f'<text x="3" y="{y(lat) - 3:.1f}" fill="#789">{abs(lat):.4g}°{"N" if lat >= 0 else "S"}</text>')
        lat += step
    peak = peak or max((int(p["offences"]) for p in points), default=0) or 1
    for point in sorted(points, key=lambda p: -int(p["offences"])):  # small circles drawn over big ones
        px, py = x(float(point["longitude"])), y(float(point["latitude"]))
        radius = 3 + 27 * math.sqrt(int(point["offences"]) / peak)
        fill = "#4682b4" if point["active"] else "#999999"
        stroke = 'stroke="#d62728" stroke-width="3"' if point["black_spot"] else 'stroke="#234" stroke-width="0.8"'
        body.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="{radius:.1f}" fill="{fill}" fill-opacity="0.55" {stroke}>'
                    f'<title>{escape(str(point["camera_id"]))} - {escape(str(point["place"]))}: '
                    f'{point["offences"]} offences{" (black spot)" if point["black_spot"] else ""}</title></circle>'
                    f'<text x="{px + radius + 3:.1f}" y="{py + 4:.1f}">{escape(str(point["camera_id"]))}</text>')
    return _svg(width, height, body, label)


def trend(series: dict[date, int], start: date, end: date, *, installed: date | None, title: str,
          colour: str = LINE_COLOURS[0]) -> str:
    """Offences per day, as a weekly mean over a period longer than 8 weeks; the installation day marked.

    A week is plotted at its Monday; the first and last weeks of the period may be partial, hence the
    mean per day (of the week's days inside the period, and from the installation day on).
    """
    width, height, left, right, top, bottom = 520, 200, 44, 12, 36, 28
    weekly = (end - start).days > 56
    if weekly:
        first = start - timedelta(days=start.weekday())
        sums: dict[date, int] = {first + timedelta(weeks=n): 0 for n in range((end - first).days // 7 + 1)}
        day_counts: dict[date, int] = dict.fromkeys(sums, 0)
        for offset in range((end - start).days + 1):
            day = start + timedelta(days=offset)
            if installed is None or day >= installed:
                day_counts[day - timedelta(days=day.weekday())] += 1
                sums[day - timedelta(days=day.weekday())] += series.get(day, 0)
        buckets = {week: sums[week] / day_counts[week] for week in sums if day_counts[week]}
    else:
        buckets = {start + timedelta(days=n): series.get(start + timedelta(days=n), 0)
                   for n in range((end - start).days + 1)}
    peak = max(buckets.values(), default=0) or 1
    total_days = max((end - start).days, 1)

    def x(day: date) -> float:
        return left + (min(max(day, start), end) - start).days / total_days * (width - left - right)

    def y(value: float) -> float:
        return top + (1 - value / peak) * (height - top - bottom)

    shown = title if len(title) <= 72 else title[:71] + "…"
    unit = "offences per day, weekly mean" if weekly else "offences per day"
    body = [f'<text x="{left}" y="14" font-weight="bold">{escape(shown)}<title>{escape(title)}</title></text>',
            f'<text x="{left}" y="28" fill="#666">{unit}</text>']
    for value in (0, peak / 2, peak):
        body.append(f'<line x1="{left}" y1="{y(value):.1f}" x2="{width - right}" y2="{y(value):.1f}" stroke="#eee"/>'
                    f'<text x="{left - 4}" y="{y(value) + 4:.1f}" text-anchor="end">{value:.3g}</text>')
    month = date(start.year, start.month, 1)
    while month <= end:
        if month >= start:
            body.append(f'<text x="{x(month):.1f}" y="{height - 10}" text-anchor="middle" fill="#666">{month:%b %y}</text>')
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    points = " ".join(f"{x(day):.1f},{y(count):.1f}" for day, count in sorted(buckets.items()))
    body.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.8">'
                f'<title>{unit}</title></polyline>')
    if installed is not None and start <= installed <= end:
        body.append(f'<line x1="{x(installed):.1f}" y1="{top}" x2="{x(installed):.1f}" y2="{height - bottom}" '
                    f'stroke="#333" stroke-dasharray="4 3"/><text x="{x(installed) + 4:.1f}" y="{top + 10}">'
                    f'installed {installed.isoformat()}</text>')
    elif installed is not None:
        body.append(f'<text x="{width - right}" y="28" text-anchor="end" fill="#666">installed {installed.isoformat()}, '
                    f'{"before" if installed < start else "after"} this period</text>')
    return _svg(width, height, body, title)
