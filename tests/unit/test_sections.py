"""Section control (murur.sections): the average-speed rule, its window, clock allowance and tolerance,
and the pairing of passages in SectionPassagesTable (moto)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pydantic import ValidationError

from murur.dynamo import to_item
from murur.errors import ConfigurationError, InvalidPayload
from murur.frames import FramesRepository
from murur.sections import (
    DynamoDBSectionDirectory,
    PassagesRepository,
    Section,
    SectionControl,
    SectionOffence,
    Verdict,
    judge,
    passage_time,
)
from murur.workflow import (
    Decision,
    FrameRef,
    IssueInput,
    IssueOutcome,
    IssueResult,
    PlateReadPayload,
    RecognitionResult,
    ReviewDecision,
    ReviewOutcome,
    ViolationType,
)

T0 = datetime(2026, 11, 28, 9, 30, 12, tzinfo=UTC)
ENTRY, EXIT = "RSO-RN2-K12", "RSO-RN2-K17"
PLATE = "4821AB00"


def section(**changes: Any) -> Section:
    values = {"section_id": "RN2-K12-K17", "name": "RN2 km 12-17", "road": "RN2", "entry_camera_id": ENTRY,
              "exit_camera_id": EXIT, "distance_m": 5000, "limit_kmh": 90, "tolerance_kmh": 5,
              "min_seconds": 90, "max_seconds": 1800, "clock_skew_seconds": 1.0}
    return Section.model_validate(values | changes)


# ------------------------------------------------------------------ the rule (pure)
def test_the_average_speed_is_distance_over_elapsed_time_plus_twice_the_clock_allowance() -> None:
    # 5 000 m in 178 s by the cameras' clocks; credited 180 s: 100.0 km/h.
    judgement = judge(section(), T0, T0 + timedelta(seconds=178))
    assert judgement.elapsed_seconds == 178
    assert judgement.credited_seconds == 180
    assert judgement.average_speed_kmh == 100.0
    assert judgement.verdict is Verdict.OVER_LIMIT


def test_the_average_is_rounded_down_to_a_tenth() -> None:
    # 5 000 m in 179 s credited: 100.5586... km/h -> 100.5
    judgement = judge(section(), T0, T0 + timedelta(seconds=177))
    assert judgement.average_speed_kmh == 100.5


@pytest.mark.parametrize(("elapsed_seconds", "average_kmh", "verdict"), [
    (360, 95.0, Verdict.WITHIN_LIMIT),  # exactly limit + tolerance: not over
    (359.6, 95.1, Verdict.OVER_LIMIT),  # 95.105 km/h
    (371.7, 92.0, Verdict.WITHIN_LIMIT),  # over the limit, within the tolerance
])
def test_tolerance_edge(elapsed_seconds: float, average_kmh: float, verdict: Verdict) -> None:
    judgement = judge(section(clock_skew_seconds=0, distance_m=9500), T0, T0 + timedelta(seconds=elapsed_seconds))
    assert judgement.average_speed_kmh == average_kmh
    assert judgement.verdict is verdict


def test_the_clock_allowance_turns_a_borderline_pair_in_the_drivers_favour() -> None:
    # 5 000 m in 189 s is 95.2 km/h on the cameras' clocks; with 1 s allowance per camera, 94.2: within.
    elapsed = T0 + timedelta(seconds=189)
    assert judge(section(clock_skew_seconds=0), T0, elapsed).verdict is Verdict.OVER_LIMIT
    with_allowance = judge(section(clock_skew_seconds=1.0), T0, elapsed)
    assert with_allowance.verdict is Verdict.WITHIN_LIMIT
    assert with_allowance.average_speed_kmh == 94.2


@pytest.mark.parametrize(("elapsed_seconds", "verdict"), [
    (89.999, Verdict.OUT_OF_WINDOW),  # faster than any vehicle: a misread or a cloned plate
    (90, Verdict.OVER_LIMIT),  # the window's edges are inside it
    (1800, Verdict.WITHIN_LIMIT),
    (1800.001, Verdict.OUT_OF_WINDOW),  # a stop on the way
    (-10, Verdict.OUT_OF_WINDOW),  # exit before entry
])
def test_window_edges_are_on_the_cameras_times(elapsed_seconds: float, verdict: Verdict) -> None:
    judgement = judge(section(), T0, T0 + timedelta(seconds=elapsed_seconds))
    assert judgement.verdict is verdict
    assert (judgement.average_speed_kmh is None) is (verdict is Verdict.OUT_OF_WINDOW)


def test_sub_second_camera_times_count() -> None:
    judgement = judge(section(clock_skew_seconds=0.25), T0 + timedelta(microseconds=250_000),
                      T0 + timedelta(seconds=179, microseconds=750_000))
    assert judgement.elapsed_seconds == 179.5
    assert judgement.credited_seconds == 180.0
    assert judgement.average_speed_kmh == 100.0


@pytest.mark.parametrize("bad", [{"exit_camera_id": ENTRY}, {"min_seconds": 1800}, {"distance_m": 0},
                                 {"section_id": "lower case"}])
def test_an_incoherent_section_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        section(**bad)


def test_passage_times_sort_as_times() -> None:
    moments = [T0 + timedelta(seconds=12), T0 + timedelta(seconds=12, microseconds=500_000), T0 + timedelta(seconds=13)]
    assert sorted(passage_time(m) for m in moments) == [passage_time(m) for m in moments]


# ------------------------------------------------------------------ pairing on moto
class RecordingIssuer:
    def __init__(self) -> None:
        self.offences: list[SectionOffence] = []

    def issue_section(self, offence: SectionOffence, task: IssueInput) -> IssueResult:
        self.offences.append(offence)
        return IssueResult(outcome=IssueOutcome.ISSUED, violation_id=f"V{len(self.offences)}", plate_text=offence.plate,
                           notify=True)


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="sections", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"}
                                  for a in ("section_id", "entry_camera_id", "exit_camera_id")],
            KeySchema=[{"AttributeName": "section_id", "KeyType": "HASH"}],
            GlobalSecondaryIndexes=[
                {"IndexName": f"{role}-camera-index", "Projection": {"ProjectionType": "ALL"},
                 "KeySchema": [{"AttributeName": f"{role}_camera_id", "KeyType": "HASH"}]}
                for role in ("entry", "exit")
            ],
        )
        client.create_table(
            TableName="passages", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("camera_plate", "passed_at")],
            KeySchema=[{"AttributeName": "camera_plate", "KeyType": "HASH"},
                       {"AttributeName": "passed_at", "KeyType": "RANGE"}],
        )
        client.create_table(
            TableName="frames", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "frame_id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "frame_id", "KeyType": "HASH"}],
        )
        client.put_item(TableName="sections", Item=to_item(section().model_dump(mode="json")))
        yield client


class Rig:
    def __init__(self, dynamodb: Any, now: datetime) -> None:
        self.dynamodb = dynamodb
        self.issuer = RecordingIssuer()
        self.now = now
        self.control = SectionControl(
            DynamoDBSectionDirectory(dynamodb, "sections"),
            PassagesRepository(dynamodb, "passages", clock=lambda: self.now),
            FramesRepository(dynamodb, "frames"), self.issuer, clock=lambda: self.now,
        )

    def passage(self, camera_id: str, at: datetime, *, plate: str = PLATE, frame: str | None = None,
                officer_plate: str | None = None) -> tuple[IssueResult, Any]:
        frame_id = f"{camera_id}-{frame or at.strftime('%H%M%S%f')}"
        ref = FrameRef(frame_id=frame_id, bucket="frames", key=f"frames/{camera_id}/{frame_id}.jpg", etag="e",
                       sha256=hashlib.sha256(frame_id.encode()).hexdigest(), size_bytes=1, width=640, height=360,
                       content_type="image/jpeg", camera_id=camera_id, captured_at=at, received_at=at,
                       violation_type=ViolationType.SECTION_SPEEDING)
        read = PlateReadPayload(text=plate, confidence=0.99, box=(1, 2, 3, 4), model_version="m")
        review = (ReviewDecision(outcome=ReviewOutcome.CORRECTED, plate_text=officer_plate, reviewer="officer-7",
                                 decided_at=at) if officer_plate else None)
        task = IssueInput(frame=ref, execution_arn=f"arn:{frame_id}", review=review,
                          recognition=RecognitionResult(decision=Decision.CONFIDENT, best=read, plates=[read],
                                                        threshold=0.9, model_version="m"))
        return self.control.control(task)


@pytest.fixture
def rig(dynamodb: Any) -> Rig:
    return Rig(dynamodb, now=T0 + timedelta(hours=1))


def test_an_exit_within_the_window_after_an_entry_completes_the_pair(rig: Rig) -> None:
    first, _ = rig.passage(ENTRY, T0)
    assert first.outcome is IssueOutcome.SECTION_PASSAGE and not first.notify
    result, judgement = rig.passage(EXIT, T0 + timedelta(seconds=150))
    assert result.outcome is IssueOutcome.ISSUED
    (offence,) = rig.issuer.offences
    assert offence.entry.camera_id == ENTRY and offence.exit.camera_id == EXIT
    assert judgement is not None and judgement.average_speed_kmh == offence.judgement.average_speed_kmh == 118.4


def test_under_the_limit_nothing_is_issued(rig: Rig) -> None:
    rig.passage(ENTRY, T0)
    result, judgement = rig.passage(EXIT, T0 + timedelta(seconds=250), frame="F2")  # 72 km/h
    assert result.outcome is IssueOutcome.WITHIN_LIMIT and not result.notify
    assert judgement is not None and judgement.verdict is Verdict.WITHIN_LIMIT
    assert rig.issuer.offences == []
    frame = rig.dynamodb.get_item(TableName="frames", Key={"frame_id": {"S": f"{EXIT}-F2"}})["Item"]
    assert frame["status"]["S"] == "SECTION_PASSAGE"


def test_a_plate_seen_at_the_exit_only_gives_nothing(rig: Rig) -> None:
    result, judgement = rig.passage(EXIT, T0)
    assert result.outcome is IssueOutcome.SECTION_PASSAGE and judgement is None
    other, _ = rig.passage(ENTRY, T0 - timedelta(seconds=150), plate="1907KN00")  # another vehicle
    assert other.outcome is IssueOutcome.SECTION_PASSAGE
    assert rig.issuer.offences == []


def test_an_entry_decided_after_its_exit_still_completes_the_pair(rig: Rig) -> None:
    """Officers decide reviews in any order: the second passage decided makes the match."""
    rig.passage(EXIT, T0 + timedelta(seconds=150))
    result, _ = rig.passage(ENTRY, T0)
    assert result.outcome is IssueOutcome.ISSUED
    (offence,) = rig.issuer.offences
    assert offence.entry.captured_at == T0


def test_an_officers_corrected_plate_is_the_one_paired(rig: Rig) -> None:
    rig.passage(ENTRY, T0)
    result, _ = rig.passage(EXIT, T0 + timedelta(seconds=150), plate="4821A800", officer_plate="4821 AB 00")
    assert result.outcome is IssueOutcome.ISSUED
    assert rig.issuer.offences[0].exit.reviewer == "officer-7"


def test_an_exit_pairs_with_the_latest_entry_in_the_window(rig: Rig) -> None:
    rig.passage(ENTRY, T0 - timedelta(seconds=1000))
    rig.passage(ENTRY, T0)
    rig.passage(EXIT, T0 + timedelta(seconds=150))
    (offence,) = rig.issuer.offences
    assert offence.entry.captured_at == T0


def test_a_burst_of_two_frames_at_the_exit_is_fined_once(rig: Rig) -> None:
    rig.passage(ENTRY, T0)
    first, _ = rig.passage(EXIT, T0 + timedelta(seconds=150))
    second, _ = rig.passage(EXIT, T0 + timedelta(seconds=150, microseconds=300_000))
    assert first.outcome is IssueOutcome.ISSUED
    assert second.outcome is IssueOutcome.SECTION_PASSAGE and not second.notify
    assert len(rig.issuer.offences) == 1


def test_an_older_entry_decided_after_the_trip_was_paired_is_not_fined_again(rig: Rig) -> None:
    rig.passage(ENTRY, T0)
    rig.passage(EXIT, T0 + timedelta(seconds=150))
    late, _ = rig.passage(ENTRY, T0 - timedelta(seconds=20))
    assert late.outcome is IssueOutcome.SECTION_PASSAGE
    assert len(rig.issuer.offences) == 1


def test_the_same_pair_claimed_again_is_the_same_trip(rig: Rig) -> None:
    """A retried task claims its own trip again and goes on to the (idempotent) issue."""
    rig.passage(ENTRY, T0, frame="F1")
    rig.passage(EXIT, T0 + timedelta(seconds=150), frame="F2")
    again, _ = rig.passage(EXIT, T0 + timedelta(seconds=150), frame="F2")
    assert again.outcome is IssueOutcome.ISSUED
    first, second = rig.issuer.offences
    assert (first.entry.frame_id, first.exit.frame_id) == (second.entry.frame_id, second.exit.frame_id)
    partners = {item["camera_plate"]["S"].split("#")[0]: item["trip_partner"]["S"]
                for item in rig.dynamodb.scan(TableName="passages")["Items"]}
    assert partners == {ENTRY: f"{EXIT}-F2", EXIT: f"{ENTRY}-F1"}


def test_passages_outside_the_window_or_expired_do_not_pair(rig: Rig) -> None:
    rig.passage(ENTRY, T0)
    too_soon, _ = rig.passage(EXIT, T0 + timedelta(seconds=60))
    too_late, _ = rig.passage(EXIT, T0 + timedelta(seconds=1801))
    assert too_soon.outcome is too_late.outcome is IssueOutcome.SECTION_PASSAGE
    # DynamoDB deletes expired items lazily: an expired entry still in the table is ignored.
    rig.now = T0 + timedelta(days=5)
    expired, _ = rig.passage(EXIT, T0 + timedelta(seconds=150))
    assert expired.outcome is IssueOutcome.SECTION_PASSAGE
    assert rig.issuer.offences == []


def test_a_passage_processed_twice_is_stored_once(rig: Rig) -> None:
    rig.passage(ENTRY, T0, frame="F1")
    rig.passage(ENTRY, T0, frame="F1")
    assert rig.dynamodb.scan(TableName="passages")["Count"] == 1
    item = rig.dynamodb.scan(TableName="passages")["Items"][0]
    assert int(item["expires_at"]["N"]) == int((T0 + timedelta(seconds=1800, days=4)).timestamp())


def test_a_camera_in_no_section_or_two_is_a_configuration_error(rig: Rig) -> None:
    with pytest.raises(ConfigurationError, match="in no active section"):
        rig.passage("NKC-TVZ-01", T0)
    rig.dynamodb.put_item(TableName="sections", Item=to_item(
        section(section_id="RN2-K17-K25", entry_camera_id=EXIT, exit_camera_id="RSO-RN2-K25").model_dump(mode="json")))
    with pytest.raises(ConfigurationError, match="2 active sections"):
        rig.passage(EXIT, T0)


def test_the_cameras_of_a_retired_section_serve_no_section(rig: Rig) -> None:
    rig.dynamodb.put_item(TableName="sections", Item=to_item(section(status="RETIRED").model_dump(mode="json")))
    with pytest.raises(ConfigurationError):
        rig.passage(ENTRY, T0)


def test_only_section_passages_are_taken(rig: Rig) -> None:
    ref = FrameRef(frame_id="X-1", bucket="b", key="k", etag="e", sha256="0" * 64, size_bytes=1, width=1, height=1,
                   content_type="image/jpeg", camera_id=ENTRY, captured_at=T0, received_at=T0,
                   violation_type=ViolationType.SPEEDING, measured_speed_kmh=90, speed_limit_kmh=60)
    read = PlateReadPayload(text=PLATE, confidence=0.99, box=(1, 2, 3, 4), model_version="m")
    task = IssueInput(frame=ref, execution_arn="arn", recognition=RecognitionResult(
        decision=Decision.CONFIDENT, best=read, plates=[read], threshold=0.9, model_version="m"))
    with pytest.raises(InvalidPayload):
        rig.control.control(task)


def test_the_demo_sections_are_valid_and_their_cameras_are_seeded() -> None:
    from murur.local.seed import SECTION_CAMERAS, SECTIONS

    cameras = {camera.camera_id for camera in SECTION_CAMERAS}
    for item in SECTIONS:
        configured = Section.model_validate(item)
        assert {configured.entry_camera_id, configured.exit_camera_id} <= cameras
        # The window holds the trip at the limit, and its shortest trip is faster than any vehicle.
        at_limit = configured.distance_m * 3.6 / configured.limit_kmh
        assert configured.min_seconds < at_limit < configured.max_seconds
        assert configured.distance_m * 3.6 / configured.min_seconds >= 200
