"""The demo's section control: two vehicles through the RN2 section, one over the average limit, one under.

Each passes the entry camera, then the exit camera (murur.local.seed.SECTIONS); every frame goes
through the frame pipeline like any other: a read at or above the auto-issue threshold is decided
at once, the others wait for an officer, whom the demo stands in for (it knows which plate it drew).
The second decision of each pair completes it: one violation with both frames as evidence, and one
passage pair within the limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from murur.local.camera import CameraUpload, camera_metadata, frame_key, scene_jpeg
from murur.local.operator import decide_review, table_items, wait_after_decision
from murur.local.seed import SECTIONS, VEHICLES
from murur.local.stack import LocalStack
from murur.workflow import ViolationType


@dataclass(frozen=True)
class Drive:
    plate: str
    seconds: float  # from the entry camera to the exit camera, as their clocks stamp it
    story: str


DRIVES = [
    Drive(VEHICLES[1].plate, 150.0, "over the average limit"),
    Drive(VEHICLES[3].plate, 232.0, "within the average limit"),
]


def _readable_scene(plate: str, first_seed: int) -> bytes:
    """A clean scene in which the reader finds a plate (right or wrong: the officer checks it)."""
    from murur.alpr import PlateReader

    reader = PlateReader.default()
    for seed in range(first_seed, first_seed + 40):
        body = scene_jpeg(seed, [plate], clean=True)
        if reader.read(body):
            return body
    return scene_jpeg(first_seed, [plate], clean=True)


def _uploads(start: datetime) -> list[tuple[CameraUpload, str]]:
    section = SECTIONS[0]
    uploads = []
    for number, drive in enumerate(DRIVES):
        entered = start + timedelta(minutes=4 * number, microseconds=350_000)
        for camera_id, at, seed in ((section["entry_camera_id"], entered, 100 * number),
                                    (section["exit_camera_id"], entered + timedelta(seconds=drive.seconds),
                                     100 * number + 50)):
            key = frame_key(camera_id, at, f"S{number + 1:05d}")
            metadata = camera_metadata(at, ViolationType.SECTION_SPEEDING, lane=1)
            uploads.append((CameraUpload(key, _readable_scene(drive.plate, seed), metadata), drive.plate))
    return uploads


def run_section_demo(stack: LocalStack, start: datetime, say: Callable[[str], None]) -> dict[str, Any]:
    """Drive, decide, and report the section's pairs; returns the summary's `section_control` block."""
    section = SECTIONS[0]
    say(f"Section control on {section['name']} ({section['distance_m']} m, limit {section['limit_kmh']} km/h, "
        f"tolerance {section['tolerance_kmh']} km/h): {len(DRIVES)} vehicles pass both cameras ...")
    uploads = _uploads(start)
    truth = {upload.key: plate for upload, plate in uploads}
    for upload, _ in uploads:  # each passage read before the next arrives, as a car takes minutes between cameras
        stack.upload_frame(upload.body, key=upload.key, metadata=upload.metadata, content_type=upload.content_type)
        stack.wait_for_executions()

    decided = 0
    for review in sorted(table_items(stack, "ReviewsTable"), key=lambda r: r["requested_at"]):
        key = ((review.get("state") or {}).get("frame") or {}).get("key", "")
        if review["status"] != "PENDING" or key not in truth:
            continue
        read = (((review.get("state") or {}).get("recognition") or {}).get("best") or {}).get("text")
        outcome, plate = ("CONFIRMED", None) if read == truth[key] else ("CORRECTED", truth[key])
        wait_after_decision(stack, decide_review(stack, review["frame_id"], outcome, plate_text=plate,
                                                 reviewer="officer-demo"))
        decided += 1
    say(f"  an officer decided the {decided} section reads; the second passage of each pair completes it")

    frames = {frame["key"]: frame for frame in table_items(stack, "FramesTable") if frame.get("key") in truth}
    violations = {v["section"]["entry_frame_id"]: v for v in table_items(stack, "ViolationsTable")
                  if v.get("violation_type") == ViolationType.SECTION_SPEEDING.value}
    pairs = []
    for number, drive in enumerate(DRIVES):
        entry_upload, exit_upload = uploads[2 * number][0], uploads[2 * number + 1][0]
        entry_frame, exit_frame = frames.get(entry_upload.key, {}), frames.get(exit_upload.key, {})
        violation = violations.get(entry_frame.get("frame_id", ""))
        # The pair's average is on whichever passage was decided second (an entry can be read after its exit).
        average = (violation["section"]["average_speed_kmh"] if violation
                   else exit_frame.get("average_speed_kmh", entry_frame.get("average_speed_kmh")))
        pair = {"plate": drive.plate, "elapsed_seconds": drive.seconds, "average_speed_kmh": average,
                "violation_id": violation["violation_id"] if violation else None,
                "amount_mru": violation["amount_mru"] if violation else None,
                "frame_statuses": [entry_frame.get("status"), exit_frame.get("status")]}
        pairs.append(pair)
        if average is None:  # the pair did not complete: say so with the frames' statuses instead of an average
            say(f"  {drive.plate:<9} {drive.story:<26} {drive.seconds:g} s -> not paired "
                f"(entry {entry_frame.get('status')}, exit {exit_frame.get('status')})")
            continue
        verdict = (f"violation {violation['violation_id']}, {violation['amount_mru']} MRU, both frames as evidence"
                   if violation else "within the limit: nothing issued")
        say(f"  {drive.plate:<9} {drive.story:<26} {drive.seconds:g} s -> average {average:g} km/h -> {verdict}")
    return {"section_id": section["section_id"], "limit_kmh": section["limit_kmh"],
            "tolerance_kmh": section["tolerance_kmh"], "distance_m": section["distance_m"], "pairs": pairs}
