"""Section (average-speed) control: two cameras a known distance apart on one road.

A camera of a section photographs every vehicle that passes (camera contract: violation type
SECTION_SPEEDING); each frame runs through the frame pipeline like any other, so its plate is
decided the same way (a confident read, or an officer's confirmed or corrected read). Only then
does the SectionControl task see it: the passage is stored (SectionPassagesTable, with a TTL), and
the plate's passage at the section's other camera, if one is stored within the plausible time
window, completes the pair. Either passage may be decided first (officers work their queue in any
order), so whichever of the two arrives second makes the match.

Times are the cameras' own `captured-at` readings (the camera contract), never S3 or Murur's
clocks. Each camera of a section is trusted to within `clock_skew_seconds`; that allowance is added
twice to the elapsed time (one camera early, the other late), which lowers the average speed: the
doubt goes to the driver. The average is then rounded down to 0.1 km/h, and a violation needs it
to be strictly above limit + tolerance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from botocore.exceptions import ClientError
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, NonNegativeFloat, NonNegativeInt, PositiveInt, model_validator

from murur.dynamo import model_from_item, to_item, to_values, write_if
from murur.errors import ConfigurationError, InvalidPayload, TransientError
from murur.frames import FramesRepository, FrameStatus
from murur.registry import normalise_plate
from murur.workflow import FrameRef, IssueInput, IssueOutcome, IssueResult, ViolationType

# A stored passage outlives the section's time window by this much, so that a partner still waiting
# for an officer (ReviewTimeoutSeconds, 3 days by default) can still be matched when decided.
PASSAGE_GRACE = timedelta(days=4)
ENTRY_CAMERA_INDEX = "entry-camera-index"
EXIT_CAMERA_INDEX = "exit-camera-index"
_MICROSECONDS = 1_000_000


class SectionStatus(StrEnum):
    ACTIVE = "ACTIVE"
    RETIRED = "RETIRED"


class Section(BaseModel):
    """A SectionsTable item: a pair of cameras on one road, in the direction of travel."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    section_id: str = Field(pattern=r"^[A-Z0-9][A-Z0-9-]{1,47}$")
    status: SectionStatus = SectionStatus.ACTIVE
    name: str
    road: str
    entry_camera_id: str
    exit_camera_id: str
    distance_m: PositiveInt = Field(description="along the road, from the entry camera to the exit camera")
    limit_kmh: PositiveInt
    tolerance_kmh: NonNegativeInt = 0
    # The plausible time window between the two passages: a shorter one means a speed no vehicle
    # reaches (a misread or a cloned plate), a longer one a stop on the way.
    min_seconds: PositiveInt
    max_seconds: PositiveInt
    clock_skew_seconds: NonNegativeFloat = 1.0

    @model_validator(mode="after")
    def _coherent(self) -> "Section":
        if self.entry_camera_id == self.exit_camera_id:
            raise ValueError("a section needs two different cameras")
        if self.min_seconds >= self.max_seconds:
            raise ValueError("min_seconds must be below max_seconds")
        return self

    def role_of(self, camera_id: str) -> "Role":
        return Role.ENTRY if camera_id == self.entry_camera_id else Role.EXIT

    def partner_of(self, camera_id: str) -> str:
        return self.exit_camera_id if camera_id == self.entry_camera_id else self.entry_camera_id


class Role(StrEnum):
    ENTRY = "ENTRY"
    EXIT = "EXIT"


class Verdict(StrEnum):
    OVER_LIMIT = "OVER_LIMIT"
    WITHIN_LIMIT = "WITHIN_LIMIT"
    OUT_OF_WINDOW = "OUT_OF_WINDOW"


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    elapsed_seconds: float  # exit captured-at minus entry captured-at, as the cameras stamped them
    credited_seconds: float  # elapsed + 2 x clock allowance: the time the speed is computed from
    average_speed_kmh: float | None  # rounded down to 0.1 km/h; None out of the window


def judge(section: Section, entry_at: datetime, exit_at: datetime) -> Judgement:
    """The pure rule: window on the cameras' times, then the average speed in the driver's favour.

    Integer microseconds and tenths of km/h, so the rounding is exact: v = d / (elapsed + 2 skew),
    rounded down; a violation when v > limit + tolerance.
    """
    elapsed = exit_at - entry_at
    elapsed_us = elapsed // timedelta(microseconds=1)
    credited_us = elapsed_us + 2 * round(section.clock_skew_seconds * _MICROSECONDS)
    elapsed_seconds, credited_seconds = elapsed_us / _MICROSECONDS, credited_us / _MICROSECONDS
    if not section.min_seconds * _MICROSECONDS <= elapsed_us <= section.max_seconds * _MICROSECONDS:
        return Judgement(Verdict.OUT_OF_WINDOW, elapsed_seconds, credited_seconds, None)
    # km/h in tenths = m / s * 3.6 * 10 = m * 36 * 1e6 / us
    tenths = section.distance_m * 36 * _MICROSECONDS // credited_us
    over = tenths > (section.limit_kmh + section.tolerance_kmh) * 10
    return Judgement(Verdict.OVER_LIMIT if over else Verdict.WITHIN_LIMIT, elapsed_seconds, credited_seconds,
                     tenths / 10)


def passage_time(moment: datetime) -> str:
    """Sort key of a passage: UTC with microseconds always written, so strings sort in time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Passage(BaseModel):
    """A decided plate at a section camera, as SectionPassagesTable keeps it until its TTL."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    camera_id: str
    plate: str
    captured_at: AwareDatetime
    frame: FrameRef
    box: tuple[int, int, int, int] | None = None
    read_source: str  # "model" or "officer"
    reviewer: str | None = None
    read_confidence: float | None = None
    model_version: str
    execution_arn: str
    section_id: str
    expires_at: int  # epoch seconds: the table's TTL attribute

    @classmethod
    def of(cls, task: IssueInput, plate: str, section: Section) -> "Passage":
        frame, best = task.frame, task.recognition.best
        expires = frame.captured_at + timedelta(seconds=section.max_seconds) + PASSAGE_GRACE
        return cls(
            camera_id=frame.camera_id, plate=plate, captured_at=frame.captured_at, frame=frame,
            box=best.box if best else None,
            read_source="officer" if task.review is not None else "model",
            reviewer=task.review.reviewer if task.review is not None else None,
            read_confidence=best.confidence if best else None,
            model_version=task.recognition.model_version, execution_arn=task.execution_arn,
            section_id=section.section_id, expires_at=int(expires.timestamp()),
        )

    @property
    def frame_id(self) -> str:
        return self.frame.frame_id


@dataclass(frozen=True)
class SectionOffence:
    """A pair of passages whose average speed is over the section's limit: what the violation is built from."""

    section: Section
    entry: Passage
    exit: Passage
    judgement: Judgement

    @property
    def plate(self) -> str:
        return self.exit.plate


class SectionDirectory(Protocol):
    def for_camera(self, camera_id: str) -> Section | None: ...


class DynamoDBSectionDirectory:
    """SectionsTable, found by camera through its two camera indexes (never a scan)."""

    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table = table_name

    def for_camera(self, camera_id: str) -> Section | None:
        """The active section this camera belongs to; a camera serves at most one (ConfigurationError)."""
        found: dict[str, Section] = {}
        for index, attribute in ((ENTRY_CAMERA_INDEX, "entry_camera_id"), (EXIT_CAMERA_INDEX, "exit_camera_id")):
            paginator = self._dynamodb.get_paginator("query")
            for page in paginator.paginate(TableName=self._table, IndexName=index,
                                           KeyConditionExpression=f"{attribute} = :camera",
                                           ExpressionAttributeValues=to_values({":camera": camera_id})):
                for item in page.get("Items", []):
                    section = model_from_item(Section, item, f"section {item.get('section_id', {}).get('S', '?')}")
                    if section.status is SectionStatus.ACTIVE:
                        found[section.section_id] = section
        if len(found) > 1:
            raise ConfigurationError(f"camera {camera_id} belongs to {len(found)} active sections "
                                     f"({', '.join(sorted(found))}); a camera may serve one")
        return next(iter(found.values()), None)


class PassagesRepository:
    """SectionPassagesTable: partition `camera_plate` ("{camera_id}#{plate}"), sort `passed_at`."""

    def __init__(self, dynamodb: Any, table_name: str, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._dynamodb = dynamodb
        self._table = table_name
        self._clock = clock

    @staticmethod
    def _key(passage: Passage) -> dict[str, str]:
        return {"camera_plate": f"{passage.camera_id}#{passage.plate}",
                "passed_at": f"{passage_time(passage.captured_at)}#{passage.frame_id}"}

    def record(self, passage: Passage) -> bool:
        """Store the passage once (False: already stored, e.g. a retried task or the same frame twice)."""
        item = passage.model_dump(mode="json") | self._key(passage)
        return write_if(self._dynamodb.put_item, TableName=self._table, Item=to_item(item),
                        ConditionExpression="attribute_not_exists(camera_plate)")

    def claim_trip(self, entry: Passage, exit_: Passage) -> bool:
        """Bind the two passages to each other as one trip, both or neither (one transaction).

        False when either already belongs to a trip with another passage: a second frame of one
        passage (a burst), or an entry decided late that would pair with an exit already paired.
        One entry passage starts one trip and one exit passage ends one: a trip is fined once.
        True again for the same two (a retried task).
        """
        def bind(passage: Passage, partner: Passage) -> dict[str, Any]:
            return {"Update": {
                "TableName": self._table, "Key": to_item(self._key(passage)),
                "UpdateExpression": "SET trip_partner = :partner",
                "ConditionExpression": "attribute_exists(camera_plate) AND "
                                       "(attribute_not_exists(trip_partner) OR trip_partner = :partner)",
                "ExpressionAttributeValues": to_values({":partner": partner.frame_id}),
            }}

        try:
            self._dynamodb.transact_write_items(TransactItems=[bind(entry, exit_), bind(exit_, entry)])
        except ClientError as error:
            reasons = {reason.get("Code") for reason in error.response.get("CancellationReasons", [])}
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            if "ConditionalCheckFailed" in reasons:
                return False
            raise TransientError(f"claiming a section trip was cancelled ({', '.join(sorted(map(str, reasons)))})") \
                from error
        return True

    def between(self, camera_id: str, plate: str, earliest: datetime, latest: datetime) -> list[Passage]:
        """The plate's passages at a camera captured in [earliest, latest], oldest first, unexpired.

        DynamoDB deletes expired items lazily (within about two days), so expiry is checked here too.
        """
        now = int(self._clock().timestamp())
        paginator = self._dynamodb.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table, ConsistentRead=True,
            KeyConditionExpression="camera_plate = :key AND passed_at BETWEEN :earliest AND :latest",
            # "~" sorts after "#": the bound includes every frame captured at `latest`.
            ExpressionAttributeValues=to_values({":key": f"{camera_id}#{plate}", ":earliest": passage_time(earliest),
                                                 ":latest": passage_time(latest) + "~"}),
        )
        passages = [model_from_item(Passage, item, "section passage") for page in pages for item in page.get("Items", [])]
        return [passage for passage in passages if passage.expires_at > now]


class SectionIssuing(Protocol):
    """The issuing path (murur.issuing.ViolationIssuer.issue_section)."""

    def issue_section(self, offence: SectionOffence, task: IssueInput) -> IssueResult: ...


class SectionControl:
    """The SectionControl task: store the passage, look for its partner, issue when the pair is too fast."""

    def __init__(self, sections: SectionDirectory, passages: PassagesRepository, frames: FramesRepository,
                 issuer: SectionIssuing, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._sections = sections
        self._passages = passages
        self._frames = frames
        self._issuer = issuer
        self._clock = clock

    def control(self, task: IssueInput) -> tuple[IssueResult, Judgement | None]:
        frame = task.frame
        if frame.violation_type is not ViolationType.SECTION_SPEEDING:
            raise InvalidPayload(f"SectionControl takes {ViolationType.SECTION_SPEEDING.value} passages, "
                                 f"not {frame.violation_type.value}")
        plate = normalise_plate(task.plate_text() or "")
        if not plate:
            raise InvalidPayload("SectionControl needs a plate: neither a read nor an officer's decision has one")
        section = self._sections.for_camera(frame.camera_id)
        if section is None:
            raise ConfigurationError(f"camera {frame.camera_id} sends section passages but is in no active section")

        passage = Passage.of(task, plate, section)
        self._passages.record(passage)
        entry, exit_ = self._pair(section, passage)
        if entry is None or exit_ is None:
            self._mark_passage(frame.frame_id, section, None)
            return IssueResult(outcome=IssueOutcome.SECTION_PASSAGE, plate_text=plate, notify=False), None
        judgement = judge(section, entry.captured_at, exit_.captured_at)
        if judgement.verdict is not Verdict.OVER_LIMIT:
            self._mark_passage(frame.frame_id, section, judgement)
            return IssueResult(outcome=IssueOutcome.WITHIN_LIMIT, plate_text=plate, notify=False), judgement
        if not self._passages.claim_trip(entry, exit_):
            # One of the two already ended or began a fined trip with another passage.
            self._mark_passage(frame.frame_id, section, None)
            return IssueResult(outcome=IssueOutcome.SECTION_PASSAGE, plate_text=plate, notify=False), judgement
        return self._issuer.issue_section(SectionOffence(section, entry, exit_, judgement), task), judgement

    def _pair(self, section: Section, passage: Passage) -> tuple[Passage | None, Passage | None]:
        """This passage and its partner: for an exit, the latest entry in the window before it (the
        trip it ends); for an entry decided after its exit, the earliest exit in the window after it."""
        window_min, window_max = timedelta(seconds=section.min_seconds), timedelta(seconds=section.max_seconds)
        at = passage.captured_at
        if section.role_of(passage.camera_id) is Role.EXIT:
            entries = self._passages.between(section.entry_camera_id, passage.plate, at - window_max, at - window_min)
            return (entries[-1] if entries else None), passage
        exits = self._passages.between(section.exit_camera_id, passage.plate, at + window_min, at + window_max)
        return passage, (exits[0] if exits else None)

    def _mark_passage(self, frame_id: str, section: Section, judgement: Judgement | None) -> None:
        paired = {"average_speed_kmh": judgement.average_speed_kmh} if judgement else {}
        self._frames.set_status(frame_id, FrameStatus.SECTION_PASSAGE, self._clock(), section_id=section.section_id,
                                **paired)
