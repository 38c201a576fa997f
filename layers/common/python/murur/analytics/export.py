"""The nightly export: offences without personal data to S3, for Athena and the report.

    offences/year=YYYY/month=MM/day=DD/offences.json.gz   one JSON object per line (OffenceRow), by capture day
    cameras/cameras.json.gz                               the camera register (no personal data in it)

Rows come from AnalyticsTable's offence rows (written by the aggregation from the stream), so the
export reads no violation and cannot carry a field OffenceRow does not name: no plate (dropped, not
hashed: a keyed hash would still let anyone holding the key follow a vehicle, and no analysis here
needs to), no owner NNI, name or phone, no violation reference, frame or evidence key, officer id.

Each run rewrites the last EXPORT_DAYS complete days whole: a record that reached the stream late,
or a frame captured before midnight and issued after, lands in its day on a later run. A file's
content is sorted and gzipped without a timestamp, so rewriting an unchanged day writes the same bytes.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from murur.analytics.aggregates import AnalyticsRepository, OffenceRow
from murur.cameras import Camera, DynamoDBCameraDirectory

EXPORT_DAYS = 7
OFFENCES_PREFIX = "offences"
CAMERAS_KEY = "cameras/cameras.json.gz"
CAMERA_COLUMNS = ("camera_id", "status", "name", "road", "region_code", "latitude", "longitude", "speed_limit_kmh",
                  "installed_at")


def partition_key(day: date) -> str:
    return f"{OFFENCES_PREFIX}/year={day:%Y}/month={day:%m}/day={day:%d}/offences.json.gz"


def json_lines_gzip(records: Iterable[dict[str, Any]]) -> bytes:
    text = "".join(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n" for record in records)
    buffer = io.BytesIO()
    # mtime=0: the same rows give the same bytes (the header would otherwise carry the time of writing).
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as archive:
        archive.write(text.encode("utf-8"))
    return buffer.getvalue()


def read_json_lines_gzip(data: bytes) -> Iterator[dict[str, Any]]:
    for line in gzip.decompress(data).decode("utf-8").splitlines():
        if line.strip():
            yield json.loads(line)


def offence_lines(rows: Iterable[OffenceRow]) -> bytes:
    stored = sorted((row.stored() for row in rows), key=lambda row: (row["captured_at"], row["camera_id"],
                                                                      json.dumps(row, sort_keys=True)))
    return json_lines_gzip(stored)


def camera_record(camera: Camera) -> dict[str, Any]:
    return camera.model_dump(mode="json", include=set(CAMERA_COLUMNS))


@dataclass(frozen=True)
class ExportReport:
    days: list[str]
    rows: int
    files: list[str]


class OffenceExport:
    def __init__(self, analytics: AnalyticsRepository, cameras: DynamoDBCameraDirectory, s3: Any, bucket: str) -> None:
        self._analytics = analytics
        self._cameras = cameras
        self._s3 = s3
        self._bucket = bucket

    def run(self, now: datetime | None = None, days: int = EXPORT_DAYS) -> ExportReport:
        today = (now or datetime.now(UTC)).astimezone(UTC).date()
        exported_days, files, total = [], [], 0
        for offset in range(days, 0, -1):
            day = today - timedelta(days=offset)
            rows = self._analytics.offence_rows(day)
            if not rows:
                continue
            key = partition_key(day)
            self._put(key, offence_lines(rows))
            exported_days.append(day.isoformat())
            files.append(key)
            total += len(rows)
        self._put(CAMERAS_KEY, json_lines_gzip(camera_record(camera) for camera in self._cameras.all()))
        files.append(CAMERAS_KEY)
        return ExportReport(days=exported_days, rows=total, files=files)

    def _put(self, key: str, body: bytes) -> None:
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType="application/x-ndjson",
                            ContentEncoding="gzip", ServerSideEncryption="AES256")


# ------------------------------------------------------------------ reading an export back (the report)
def read_export(folder: Path) -> tuple[list[OffenceRow], list[Camera]]:
    """An export copied locally (e.g. `aws s3 sync s3://BUCKET/ folder/`): its offence rows and cameras."""
    rows = [OffenceRow.model_validate(record)
            for path in sorted((folder / OFFENCES_PREFIX).glob("year=*/month=*/day=*/*.json.gz"))
            for record in read_json_lines_gzip(path.read_bytes())]
    cameras_file = folder / CAMERAS_KEY
    cameras = ([Camera.model_validate(record) for record in read_json_lines_gzip(cameras_file.read_bytes())]
               if cameras_file.is_file() else [])
    return rows, cameras
