"""Section (average-speed) control on the local stack: two cameras of the demo section on the RN2
(Nouakchott-Rosso, km 12 and km 17, 5 200 m, limit 90 km/h, tolerance 5 km/h, 1 s clock allowance
per camera), frames uploaded as the cameras would, the real state machine and handlers."""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import murur
from murur.local import LocalStack
from murur.local.camera import CameraUpload, camera_metadata, frame_key, scene_jpeg
from murur.local.operator import decide_review, table_items, wait_after_decision
from murur.local.seed import SECTIONS, vehicle
from murur.workflow import ViolationType

pytestmark = pytest.mark.skipif(
    not (Path(murur.__file__).parent / "alpr" / "models" / "model_card.json").exists(),
    reason="the plate reader's models are not in the tree",
)

SECTION = SECTIONS[0]
ENTRY, EXIT = SECTION["entry_camera_id"], SECTION["exit_camera_id"]
# Yesterday, not a fixed day: a stored passage expires PASSAGE_GRACE after its section's window, and
# the pairing ignores expired passages, so a fixed date stops pairing a few days after it was written.
ENTERED_AT = (datetime.now(UTC) - timedelta(days=1)).replace(hour=10, minute=0, second=5, microsecond=400000)
# A deployment's validated threshold, as in test_chain.py: the confident path without an officer.
DEPLOYMENT_THRESHOLD = "0.95"
PLATE = "1907KN00"


@functools.cache
def confident_scenes(plate: str) -> tuple[bytes, bytes]:
    """Two different clean scenes of `plate` the shipped reader reads right and confidently (so the
    chain takes the confident path; the reader's accuracy is measured elsewhere)."""
    from murur.alpr import PlateReader

    reader, found = PlateReader.default(), []
    for seed in range(80):
        body = scene_jpeg(seed, [plate], clean=True)
        reads = reader.read(body)
        if reads and reads[0].text == plate and reads[0].confidence >= float(DEPLOYMENT_THRESHOLD):
            found.append(body)
            if len(found) == 2:
                return found[0], found[1]
    pytest.fail(f"fewer than two of 80 clean scenes of {plate} are read right and confidently")


def passage(camera_id: str, at: datetime, body: bytes, vendor_frame_id: str) -> CameraUpload:
    return CameraUpload(frame_key(camera_id, at, vendor_frame_id), body,
                        camera_metadata(at, ViolationType.SECTION_SPEEDING, lane=1))


def drive(stack: LocalStack, seconds: float, *, plate: str = PLATE, entry: bool = True) -> tuple[CameraUpload, ...]:
    """One vehicle through the section in `seconds` (camera clocks), entry then exit."""
    entry_body, exit_body = confident_scenes(plate)
    uploads = []
    if entry:
        uploads.append(passage(ENTRY, ENTERED_AT, entry_body, "P000001"))
    uploads.append(passage(EXIT, ENTERED_AT + timedelta(seconds=seconds), exit_body, "P000001"))
    for upload in uploads:
        stack.upload_frame(upload.body, key=upload.key, metadata=upload.metadata)
        for execution in stack.wait_for_executions():
            assert execution["status"] == "SUCCEEDED", execution
    return tuple(uploads)


def frames_by_camera(stack: LocalStack) -> dict[str, dict[str, Any]]:
    return {frame["camera_id"]: frame for frame in table_items(stack, "FramesTable")}


@pytest.fixture
def stack(make_stack: Any) -> LocalStack:
    return make_stack(AutoIssueThreshold=DEPLOYMENT_THRESHOLD)


def test_a_pair_over_the_average_limit_is_one_violation_with_both_frames_as_evidence(stack: LocalStack) -> None:
    entry_upload, exit_upload = drive(stack, 160)  # 5 200 m in 160 s (+2 s allowance): 115.5 km/h

    (violation,) = table_items(stack, "ViolationsTable")
    owner = vehicle(PLATE)
    assert violation["violation_type"] == "SECTION_SPEEDING"
    assert violation["plate"] == PLATE and violation["owner_nni"] == owner.owner_nni
    assert violation["measured_speed_kmh"] == 115.5 and violation["speed_limit_kmh"] == 90
    assert violation["amount_mru"] == 4000  # 25.5 km/h over: the 20-40 band
    record = violation["section"]
    assert record["section_id"] == SECTION["section_id"]
    assert (record["elapsed_seconds"], record["credited_seconds"], record["average_speed_kmh"]) == (160, 162, 115.5)
    assert violation["history"][0]["actor"] == "system:section_control"

    # Both originals, byte for byte what the cameras uploaded, with their SHA-256; the picture shows both.
    s3 = stack.client("s3")

    def stored(key: str) -> bytes:
        return s3.get_object(Bucket=violation["evidence_bucket"], Key=key)["Body"].read()

    entry_bytes, exit_bytes = stored(record["evidence_entry_frame_key"]), stored(violation["evidence_frame_key"])
    assert entry_bytes == entry_upload.body and exit_bytes == exit_upload.body
    assert hashlib.sha256(entry_bytes).hexdigest() == record["evidence_entry_frame_sha256"] == record["entry_frame_sha256"]
    assert hashlib.sha256(exit_bytes).hexdigest() == violation["evidence_frame_sha256"] == violation["frame_sha256"]
    annotated = stored(violation["evidence_annotated_key"])
    assert hashlib.sha256(annotated).hexdigest() == violation["evidence_annotated_sha256"]

    frames = frames_by_camera(stack)
    assert {frames[ENTRY]["status"], frames[EXIT]["status"]} == {"VIOLATION_ISSUED"}
    assert frames[ENTRY]["violation_id"] == frames[EXIT]["violation_id"] == violation["violation_id"]
    (sms,) = stack.sms_outbox()
    assert sms["phone_number"] == owner.owner_phone and violation["violation_id"] in sms["message"]
    assert "115.5" in sms["message"]


def test_a_pair_within_the_limit_and_tolerance_issues_nothing(stack: LocalStack) -> None:
    drive(stack, 196)  # 5 200 m in 198 s credited: 94.5 km/h, under 90 + 5

    assert table_items(stack, "ViolationsTable") == []
    assert stack.sms_outbox() == []
    frames = frames_by_camera(stack)
    assert {frames[ENTRY]["status"], frames[EXIT]["status"]} == {"SECTION_PASSAGE"}
    assert frames[EXIT]["average_speed_kmh"] == 94.5


def test_the_same_pair_processed_twice_is_one_violation_and_one_sms(stack: LocalStack) -> None:
    drive(stack, 150)
    exit_execution = next(e for e in stack.executions() if EXIT in e["name"])
    started = stack.describe_execution(exit_execution["executionArn"])["input"]
    # The exit frame's pipeline run a second time (a redriven or manually restarted execution).
    again = stack.client("stepfunctions").start_execution(stateMachineArn=stack.state_machine_arn,
                                                          name="exit-again", input=started)
    assert stack.wait_for_execution(again["executionArn"])["status"] == "SUCCEEDED"

    (violation,) = table_items(stack, "ViolationsTable")
    assert violation["section"]["entry_frame_id"].startswith(ENTRY)
    assert len(stack.sms_outbox()) == 1


def test_a_plate_seen_at_the_exit_only_issues_nothing(stack: LocalStack) -> None:
    drive(stack, 150, entry=False)

    assert table_items(stack, "ViolationsTable") == []
    assert stack.sms_outbox() == []
    (frame,) = table_items(stack, "FramesTable")
    assert frame["status"] == "SECTION_PASSAGE"
    (stored,) = table_items(stack, "SectionPassagesTable")
    assert stored["camera_plate"] == f"{EXIT}#{PLATE}" and stored["expires_at"] > ENTERED_AT.timestamp()


def test_unsure_reads_wait_for_an_officer_and_the_pair_matches_in_whatever_order_they_are_decided(
        make_stack: Any) -> None:
    stack = make_stack(AutoIssueThreshold="1")  # auto-issue off: every read goes to an officer first
    entry_body, exit_body = confident_scenes(PLATE)
    for upload in (passage(ENTRY, ENTERED_AT, entry_body, "P000009"),
                   passage(EXIT, ENTERED_AT + timedelta(seconds=140), exit_body, "P000009")):
        stack.upload_frame(upload.body, key=upload.key, metadata=upload.metadata)
    stack.wait_for_executions()
    assert table_items(stack, "SectionPassagesTable") == []  # nothing is paired before a plate is decided
    assert {frame["status"] for frame in table_items(stack, "FramesTable")} == {"REVIEW_PENDING"}

    # The exit is decided first (nothing to pair yet), then the entry, with the plate typed by the officer.
    wait_after_decision(stack, decide_review(stack, f"{EXIT}-P000009", "CONFIRMED", reviewer="officer-12"))
    assert table_items(stack, "ViolationsTable") == []
    wait_after_decision(stack, decide_review(stack, f"{ENTRY}-P000009", "CORRECTED", plate_text="1907 KN 00",
                                             reviewer="officer-12"))

    (violation,) = table_items(stack, "ViolationsTable")
    assert violation["plate"] == PLATE
    assert violation["read_source"] == "officer" and violation["reviewer"] == "officer-12"
    assert violation["history"][0]["actor"] == "officer:officer-12"
    assert violation["section"]["entry_read_source"] == "officer"
    assert len(stack.sms_outbox()) == 1


def test_one_exit_passage_ends_one_trip_even_when_an_older_entry_is_decided_last(make_stack: Any) -> None:
    """Two entry passages of one plate 30 s apart, one exit: the exit pairs with the later entry, and
    the older entry, decided last and also too fast with that exit, is not fined again for the trip."""
    stack = make_stack(AutoIssueThreshold="1")  # auto-issue off: the officer decides in the order the test needs
    entry_body, exit_body = confident_scenes(PLATE)
    first, second = ENTERED_AT - timedelta(seconds=30), ENTERED_AT
    uploads = [passage(ENTRY, first, entry_body, "P000021"), passage(ENTRY, second, exit_body, "P000022"),
               passage(EXIT, second + timedelta(seconds=150), exit_body, "P000023")]
    for upload in uploads:  # one at a time: this test is about the order of the decisions, not of the reads
        stack.upload_frame(upload.body, key=upload.key, metadata=upload.metadata)
        stack.wait_for_executions()
    frame_ids = (f"{ENTRY}-P000022", f"{EXIT}-P000023", f"{ENTRY}-P000021")
    # Every review stored before the first decision (a decision finds nothing to decide otherwise).
    stack.wait_until(lambda: {r["frame_id"] for r in table_items(stack, "ReviewsTable") if r["status"] == "PENDING"}
                     >= set(frame_ids), timeout=30,
                     what="the three reviews to be pending")
    for frame_id in frame_ids:
        wait_after_decision(stack, decide_review(stack, frame_id, "CORRECTED", plate_text=PLATE, reviewer="officer-3"))

    (violation,) = table_items(stack, "ViolationsTable")
    assert violation["section"]["entry_frame_id"] == f"{ENTRY}-P000022"
    assert len(stack.sms_outbox()) == 1
    statuses = {frame["frame_id"]: frame["status"] for frame in table_items(stack, "FramesTable")}
    assert statuses == {f"{ENTRY}-P000021": "SECTION_PASSAGE", f"{ENTRY}-P000022": "VIOLATION_ISSUED",
                        f"{EXIT}-P000023": "VIOLATION_ISSUED"}
    older = next(e for e in stack.executions() if "P000021" in e["name"])
    output = json.loads(stack.describe_execution(older["executionArn"])["output"])
    assert output["violation"] == {"outcome": "SECTION_PASSAGE", "violation_id": None, "plate_text": PLATE,
                                   "notify": False}


def test_the_demo_drives_one_vehicle_over_and_one_under_the_sections_average_limit(tmp_path: Path) -> None:
    import io

    from murur.local.demo import run_demo

    printed = io.StringIO()
    summary = run_demo(tmp_path, frame_count=7, seed=3, stream=printed)

    over, under = summary["section_control"]["pairs"]
    assert over["violation_id"] and over["average_speed_kmh"] > 95
    assert over["frame_statuses"] == ["VIOLATION_ISSUED", "VIOLATION_ISSUED"]
    assert under["violation_id"] is None and under["average_speed_kmh"] <= 95
    assert under["frame_statuses"] == ["SECTION_PASSAGE", "SECTION_PASSAGE"]
    assert f"1 over the average limit ({over['violation_id']})" in printed.getvalue()
    assert (tmp_path / "evidence" / over["violation_id"] / "entry.jpg").exists()


def test_a_passage_from_a_camera_in_no_section_is_rejected_at_ingestion(stack: LocalStack) -> None:
    upload = passage("NKC-TVZ-01", ENTERED_AT, b"not even read", "P000031")
    stack.upload_frame(upload.body, key=upload.key, metadata=upload.metadata)

    assert stack.executions() == []
    (frame,) = table_items(stack, "FramesTable")
    assert (frame["status"], frame["reason_code"]) == ("REJECTED", "NOT_A_SECTION_CAMERA")
    tags = stack.client("s3").get_object_tagging(Bucket=stack.name("FramesBucket"), Key=upload.key)["TagSet"]
    assert {"Key": "murur-reason", "Value": "NOT_A_SECTION_CAMERA"} in tags
