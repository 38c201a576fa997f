"""Offence counters in AnalyticsTable, kept up to date from ViolationsTable's stream.

Every violation written is one offence, counted once per dimension on the day it was captured:

    daily counter   pk "{dimension}#{YYYY}"      sk "{YYYY-MM-DD}#{value}"   offences (N)
    offence row     pk "offence#{YYYY-MM-DD}"    sk violation_id             row (no personal data), expires_at (TTL)

A year's counters of one dimension share a partition key, so "every camera, every day of this
window" is one query (two across a new year), and nothing ever reads ViolationsTable. A year of
hour counters is 8 760 small items (about half a megabyte: one page). The offence row is both
the "already counted" marker (written in the same transaction as the increments, on condition that
it does not exist, so a redelivered stream record counts nothing more) and what the nightly export
writes to S3. Stream records live 24 hours; rows expire after ROW_RETENTION, well after that.

Offences are counted as recorded when the violation is issued; a later cancellation (an upheld
objection) is not subtracted: where and when offences are detected is the road-safety question,
whether a particular owner pays is not.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError
from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from murur.dynamo import from_item, to_item
from murur.errors import CorruptRecord

# Longer than a stream record lives (24 h) and than the export's re-export window.
ROW_RETENTION = timedelta(days=40)
BLACK_SPOTS_KEY = "black-spots"


class Dimension(StrEnum):
    NETWORK = "network"  # the one value "all": the whole network's offences per day
    CAMERA = "camera"
    PLACE = "place"  # the camera's place, which names the road section
    REGION = "region"  # wilaya code, 00-12
    TYPE = "type"  # violation type
    # Hour of day, "00".."23" (UTC = Nouakchott time). Counted per day, so the weekday comes with
    # the day: hour x weekday needs no counter of its own (Aggregates.weekday_hours).
    HOUR = "hour"


class OffenceRow(BaseModel):
    """What analytics keeps of a violation: where, when, what and how much.

    An allowlist, not a filter: plate, owner (NNI, name, phone), the violation's reference, frame
    and evidence keys, execution and officer ids never get here, and a field added to violations
    later stays out until it is named here.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    captured_at: AwareDatetime
    issued_at: AwareDatetime
    camera_id: str
    place: str | None = None
    region_code: str | None = None
    violation_type: str
    amount_mru: int
    measured_speed_kmh: float | None = None
    speed_limit_kmh: float | None = None
    lane: int | None = None
    signal_phase: str | None = None
    read_source: str | None = None

    @property
    def day(self) -> date:
        return self.captured_at.astimezone(UTC).date()

    def dimension_values(self) -> dict[Dimension, str]:
        """The counters this offence adds one to (its day aside); unknown place or region: not counted there."""
        at = self.captured_at.astimezone(UTC)
        values = {
            Dimension.NETWORK: "all",
            Dimension.CAMERA: self.camera_id,
            Dimension.TYPE: self.violation_type,
            Dimension.HOUR: f"{at.hour:02d}",
        }
        if self.place:
            values[Dimension.PLACE] = self.place
        if self.region_code:
            values[Dimension.REGION] = self.region_code
        return values

    def stored(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class Offence(OffenceRow):
    """A violation as the stream delivers it (NewImage): the row plus the violation's id, for idempotency."""

    violation_id: str

    @classmethod
    def from_image(cls, image: dict[str, Any]) -> "Offence":
        """The stream's NewImage as an offence; CorruptRecord names the bad fields, never their values."""
        try:
            return cls.model_validate(image)
        except ValidationError as error:
            fields = sorted({".".join(str(part) for part in e["loc"]) for e in error.errors()})
            raise CorruptRecord(f"violation image does not match Offence: invalid {', '.join(fields)}") from None

    def row(self) -> OffenceRow:
        return OffenceRow.model_validate(self.model_dump(exclude={"violation_id"}))


@dataclass
class Aggregates:
    """Offences per day for each value of each dimension: {dimension: {value: {day: count}}}."""

    daily: dict[Dimension, dict[str, dict[date, int]]] = field(default_factory=dict)

    def series(self, dimension: Dimension) -> dict[str, dict[date, int]]:
        return self.daily.get(dimension, {})

    def totals(self, dimension: Dimension) -> dict[str, int]:
        return {value: sum(days.values()) for value, days in self.series(dimension).items()}

    def weekday_hours(self) -> dict[tuple[int, int], int]:
        """Offences per (ISO weekday, 1 = Monday; hour of day), from the per-day hour counters."""
        counts: dict[tuple[int, int], int] = defaultdict(int)
        for hour, days_counted in self.series(Dimension.HOUR).items():
            for day, count in days_counted.items():
                counts[day.isoweekday(), int(hour)] += count
        return dict(counts)

    def add(self, dimension: Dimension, value: str, day: date, count: int) -> None:
        days = self.daily.setdefault(dimension, {}).setdefault(value, {})
        days[day] = days.get(day, 0) + count


def tally(rows: Iterable[OffenceRow]) -> Aggregates:
    """The same counters as AnalyticsTable's, computed in memory (from exported rows)."""
    counts: dict[tuple[Dimension, str, date], int] = defaultdict(int)
    for row in rows:
        day = row.day
        for dimension, value in row.dimension_values().items():
            counts[dimension, value, day] += 1
    aggregates = Aggregates()
    for (dimension, value, day), count in counts.items():
        aggregates.add(dimension, value, day, count)
    return aggregates


def partition(dimension: Dimension, day: date) -> str:
    return f"{Dimension(dimension)}#{day:%Y}"


class AnalyticsRepository:
    """AnalyticsTable through the low-level client: counters, offence rows, the black-spot assessment."""

    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table = table_name

    def transaction_items(self, offence: Offence, *, now: datetime) -> list[dict[str, Any]]:
        """The offence row (on condition it is new) and one increment per dimension: one transaction."""
        row = offence.row()
        day = row.day
        expires_at = int((now + ROW_RETENTION).timestamp())
        items: list[dict[str, Any]] = [{"Put": {
            "TableName": self._table,
            "Item": to_item({"pk": f"offence#{day}", "sk": offence.violation_id, "row": row.stored(),
                             "expires_at": expires_at}),
            "ConditionExpression": "attribute_not_exists(pk)",
        }}]
        for dimension, value in row.dimension_values().items():
            items.append({"Update": {
                "TableName": self._table,
                "Key": {"pk": {"S": partition(dimension, day)}, "sk": {"S": f"{day}#{value}"}},
                "UpdateExpression": "ADD offences :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }})
        return items

    def record(self, offence: Offence, *, now: datetime | None = None) -> bool:
        """Count the offence once; False when it was already counted (a redelivered stream record)."""
        items = self.transaction_items(offence, now=now or datetime.now(UTC))
        try:
            self._dynamodb.transact_write_items(TransactItems=items)
        except ClientError as error:
            if _already_counted(error):
                return False
            raise
        return True

    def backfill(self, aggregates: Aggregates) -> int:
        """Set counters to counts tallied elsewhere, for days the stream never counted; the number written.

        For offences that never passed through the stream (a history from before the analytics
        existed, the demo's generated history). Puts, not increments: a rerun writes the same
        counters again, but a day the stream has counted must not be backfilled (it would be replaced).
        """
        requests = [{"PutRequest": {"Item": {
            "pk": {"S": partition(dimension, day)}, "sk": {"S": f"{day}#{value}"},
            "offences": {"N": str(count)}}}}
            for dimension, values in aggregates.daily.items() for value, counted in values.items()
            for day, count in counted.items()]
        for start in range(0, len(requests), 25):
            pending, attempt = {self._table: requests[start:start + 25]}, 0
            while pending:
                # Throttled items come back unprocessed: send them again after a growing pause.
                time.sleep(min(0.05 * (2 ** attempt) - 0.05, 2.0))
                pending = self._dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
                attempt += 1
        return len(requests)

    def daily(self, dimension: Dimension, start: date, end: date) -> dict[str, dict[date, int]]:
        """{value: {day: offences}} for start..end inclusive; days without offences are absent."""
        series: dict[str, dict[date, int]] = {}
        paginator = self._dynamodb.get_paginator("query")
        for year in range(start.year, end.year + 1):
            pages = paginator.paginate(
                TableName=self._table,
                KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
                ExpressionAttributeValues={":pk": {"S": partition(dimension, date(year, 1, 1))},
                                           ":first": {"S": f"{start}#"}, ":last": {"S": f"{end}#\uffff"}},
            )
            for page in pages:
                for item in page.get("Items", []):
                    day_text, value = item["sk"]["S"].split("#", 1)
                    series.setdefault(value, {})[date.fromisoformat(day_text)] = int(item["offences"]["N"])
        return series

    def aggregates(self, start: date, end: date, dimensions: Iterable[Dimension] = tuple(Dimension)) -> Aggregates:
        return Aggregates({Dimension(dimension): self.daily(dimension, start, end) for dimension in dimensions})

    def offence_rows(self, day: date) -> list[OffenceRow]:
        """The day's offences (by capture day), as the export writes them."""
        paginator = self._dynamodb.get_paginator("query")
        pages = paginator.paginate(TableName=self._table, KeyConditionExpression="pk = :pk",
                                   ExpressionAttributeValues={":pk": {"S": f"offence#{day}"}})
        return [OffenceRow.model_validate(from_item(item)["row"]) for page in pages for item in page.get("Items", [])]

    def save_black_spots(self, document: dict[str, Any]) -> None:
        """The assessment as the current one, and kept under its run time for the record."""
        for sort_key in ("current", f"run#{document['computed_at']}"):
            self._dynamodb.put_item(TableName=self._table, Item=to_item(
                {"pk": BLACK_SPOTS_KEY, "sk": sort_key, "document": document}))

    def current_black_spots(self) -> dict[str, Any] | None:
        item = self._dynamodb.get_item(TableName=self._table, Key={"pk": {"S": BLACK_SPOTS_KEY}, "sk": {"S": "current"}},
                                       ConsistentRead=True).get("Item")
        return from_item(item)["document"] if item else None


def _already_counted(error: ClientError) -> bool:
    """The transaction was cancelled by its first item's condition: the offence row exists."""
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return False
    reasons = error.response.get("CancellationReasons") or []
    if reasons:
        return reasons[0].get("Code") == "ConditionalCheckFailed"
    # Some clients leave the reasons out; the message lists them in order.
    message = error.response.get("Error", {}).get("Message", "")
    return "[ConditionalCheckFailed" in message
