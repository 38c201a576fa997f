"""`make demo`: generated camera frames through the whole chain on the local stack.

Seeds the demo registry, generates a few dozen camera frames (synthetic plates composed into road
scenes, plus the bad uploads a real camera fleet produces), uploads each as a camera would, lets
the real state machine and handlers process it, and prints what came out: reads, violations,
reviews, rejections, unknown plates and the SMS text. The evidence the chain stored (annotated
pictures included) is copied to the output folder.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from murur.alpr import PlateReader
from murur.dynamo import from_item
from murur.frames import FrameStatus
from murur.local.analytics_demo import analytics_at_the_end
from murur.local.api_demo import citizens_object_and_an_officer_rules
from murur.local.camera import CameraUpload, camera_metadata, frame_key, scene_upload
from murur.local.functions import FunctionError
from murur.local.operator import decide_review, table_items, wait_after_decision
from murur.local.payments_demo import owners_pay_by_wallet
from murur.local.section_demo import run_section_demo
from murur.local.seed import CAMERAS, UNKNOWN_PLATES, VEHICLES, seed_registry
from murur.local.stack import LocalStack
from murur.workflow import Decision, ViolationType

ACTIVE_CAMERAS = [camera for camera in CAMERAS if camera.status == "ACTIVE"]
RETIRED_CAMERA = next(camera for camera in CAMERAS if camera.status == "RETIRED")
SENSOR_TYPES = [ViolationType.SPEEDING, ViolationType.SPEEDING, ViolationType.RED_LIGHT, ViolationType.SPEEDING,
                ViolationType.NO_SEATBELT, ViolationType.PHONE_WHILE_DRIVING]


@dataclass(frozen=True)
class PlannedFrame:
    upload: CameraUpload
    story: str  # what this frame is meant to show, for the progress line
    truth: str | None = None  # the plate drawn in the frame, which the demo's officer can see


@dataclass
class FrameOutcome:
    planned: PlannedFrame
    seconds: float
    status: str
    execution: dict[str, Any] | None = None
    record: dict[str, Any] = field(default_factory=dict)

    recognition: dict[str, Any] = field(default_factory=dict)

    @property
    def output(self) -> dict[str, Any]:
        if self.execution and self.execution.get("output"):
            return json.loads(self.execution["output"])
        return {}


def plan_frames(count: int, seed: int, *, start: datetime | None = None) -> list[PlannedFrame]:
    """`count` frames: mostly registered vehicles, some unknown plates, one empty road, bad uploads."""
    rng = np.random.default_rng(seed)
    start = start or datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    planned: list[PlannedFrame] = []
    bad = _bad_uploads(start, rng)
    good_count = max(count - len(bad) - len(UNKNOWN_PLATES) - 1, 1)
    for number in range(good_count):
        owner = VEHICLES[number % len(VEHICLES)]
        camera = ACTIVE_CAMERAS[number % len(ACTIVE_CAMERAS)]
        violation_type = SENSOR_TYPES[number % len(SENSOR_TYPES)]
        captured_at = start + timedelta(minutes=3 * number, seconds=int(rng.integers(0, 60)))
        limit = camera.speed_limit_kmh
        sensor: dict[str, Any] = {"lane": int(rng.integers(1, 4))}
        if violation_type is ViolationType.SPEEDING:
            sensor |= {"speed_limit_kmh": float(limit), "measured_speed_kmh": float(limit + int(rng.integers(8, 55)))}
        planned.append(PlannedFrame(
            scene_upload(camera.camera_id, f"V{number + 1:05d}", captured_at, [owner.plate],
                         seed=int(rng.integers(1 << 31)), violation_type=violation_type, **sensor),
            f"{violation_type.value.lower()} by a registered vehicle",
            owner.plate,
        ))
    for number, plate in enumerate(UNKNOWN_PLATES):
        camera = ACTIVE_CAMERAS[number % len(ACTIVE_CAMERAS)]
        captured_at = start + timedelta(minutes=7 * number + 1)
        planned.append(PlannedFrame(
            scene_upload(camera.camera_id, f"U{number + 1:05d}", captured_at, [plate], seed=int(rng.integers(1 << 31))),
            "a plate the registry does not know",
            plate,
        ))
    captured_at = start + timedelta(minutes=5)
    planned.append(PlannedFrame(
        scene_upload(ACTIVE_CAMERAS[0].camera_id, "E00001", captured_at, [], seed=int(rng.integers(1 << 31))),
        "an empty road (sensor false alarm)",
    ))
    planned.extend(bad)
    order = rng.permutation(len(planned))
    return [planned[index] for index in order]


def _bad_uploads(start: datetime, rng: np.random.Generator) -> list[PlannedFrame]:
    camera = ACTIVE_CAMERAS[1].camera_id
    captured_at = start + timedelta(minutes=11)
    metadata = camera_metadata(captured_at, ViolationType.SPEEDING, measured_speed_kmh=97.0, speed_limit_kmh=60.0, lane=2)
    picture = scene_upload(camera, "B00000", captured_at, [VEHICLES[0].plate], seed=int(rng.integers(1 << 31))).body
    truncated = picture[: len(picture) // 3]
    without_time = {name: value for name, value in metadata.items() if name != "captured-at"}
    return [
        PlannedFrame(CameraUpload(frame_key(camera, captured_at, "B00001"), truncated, metadata), "a truncated JPEG"),
        PlannedFrame(CameraUpload(frame_key(camera, captured_at, "B00002"), b"", metadata), "a zero-byte upload"),
        PlannedFrame(CameraUpload(frame_key("NKC-XXX-77", captured_at, "B00003"), picture, metadata),
                     "a camera nobody registered"),
        PlannedFrame(CameraUpload(frame_key(RETIRED_CAMERA.camera_id, captured_at, "B00004"), picture, metadata),
                     "a retired camera"),
        PlannedFrame(CameraUpload(frame_key(camera, captured_at, "B00005"), picture, without_time),
                     "metadata without captured-at"),
    ]


def process(stack: LocalStack, planned: PlannedFrame, *, timeout: float = 120.0,
            max_poll_delay: float = 0.05) -> FrameOutcome:
    """Upload one frame and follow it until its execution ends or waits for an officer."""
    started = time.perf_counter()
    upload = planned.upload
    delivered = stack.upload_frame(upload.body, key=upload.key, metadata=upload.metadata,
                                   content_type=upload.content_type)
    errors = [str(result) for result in delivered if isinstance(result, FunctionError)]
    # ingest_frame answers with the frame id and, when it started one, the execution's ARN.
    answers = [result for result in delivered if isinstance(result, dict)]
    frame_id = next((answer["frame_id"] for answer in answers if answer.get("frame_id")), None)
    arn = next((answer["execution_arn"] for answer in answers if answer.get("execution_arn")), None)
    execution = None
    if arn:
        stack.wait_until(
            lambda: stack.describe_execution(arn)["status"] != "RUNNING" or _review_pending(stack, frame_id),
            timeout=timeout, what=f"{upload.key} to be processed", max_delay=max_poll_delay,
        )
        execution = stack.describe_execution(arn)
    seconds = time.perf_counter() - started
    record = _item(stack, "FramesTable", frame_id) if frame_id else {}
    recognition = _recognition(stack, execution) if execution else {}
    status = record.get("status") or (f"INGEST FAILED ({'; '.join(errors)[:160]})" if errors else "NOT RECORDED")
    return FrameOutcome(planned, seconds, status, execution, record, recognition)


def _item(stack: LocalStack, table: str, frame_id: str | None) -> dict[str, Any]:
    item = stack.client("dynamodb").get_item(TableName=stack.name(table), Key={"frame_id": {"S": str(frame_id)}})
    return from_item(item.get("Item", {}))


def _review_pending(stack: LocalStack, frame_id: str | None) -> bool:
    # The frame's status is written after the review record (murur.reviews.request_review): waiting for
    # it means the outcome read next is the frame's final one, not RECEIVED caught in between.
    return _item(stack, "FramesTable", frame_id).get("status") == FrameStatus.REVIEW_PENDING


def _recognition(stack: LocalStack, execution: dict[str, Any]) -> dict[str, Any]:
    """What RecognizePlate returned, also for an execution still waiting for an officer."""
    for event in stack.history(execution["executionArn"]):
        details = event.get("stateExitedEventDetails") or {}
        if event["type"] == "TaskStateExited" and details.get("name") == "RecognizePlate":
            return json.loads(details.get("output") or "{}").get("recognition") or {}
    return {}


def officer_reviews(stack: LocalStack, planned: list[PlannedFrame], say: Any, leave_pending: int = 3) -> Counter:
    """An officer works through the review queue, looking at each frame as a person would.

    The demo knows what each frame shows, so it stands in for the officer: a right read is confirmed,
    a wrong one corrected, a frame without a plate discarded. A few are left in the queue to show it.
    """
    truth_by_key = {frame.upload.key: frame.truth for frame in planned}
    pending = sorted((r for r in table_items(stack, "ReviewsTable") if r["status"] == "PENDING"),
                     key=lambda review: review["requested_at"])
    to_decide = pending[: max(len(pending) - leave_pending, 0)]
    decisions: Counter = Counter()
    if not to_decide:
        return decisions
    say(f"An officer reviews {len(to_decide)} of the {len(pending)} unsure reads; each decision resumes "
        "its execution ...")
    for review in to_decide:
        state = review.get("state") or {}
        truth = truth_by_key.get((state.get("frame") or {}).get("key", ""))
        read = ((state.get("recognition") or {}).get("best") or {}).get("text")
        if truth is None:
            outcome, plate = "DISCARDED", None
        elif read == truth:
            outcome, plate = "CONFIRMED", None
        else:
            outcome, plate = "CORRECTED", truth
        wait_after_decision(stack, decide_review(stack, review["frame_id"], outcome, plate_text=plate,
                                                 reviewer="officer-demo"))
        decisions[outcome] += 1
    say("  " + ", ".join(f"{outcome.lower()} {count}" for outcome, count in sorted(decisions.items())))
    return decisions


# ------------------------------------------------------------------ the report
def _describe(outcome: FrameOutcome) -> str:
    output, status = outcome.output, outcome.status
    best = outcome.recognition.get("best") or {}
    read = f"read {best['text']} ({best['confidence']:.4f})" if best else ""
    if status == "REJECTED":
        return f"rejected: {outcome.record.get('reason_code')}"
    if status == "VIOLATION_ISSUED":
        return f"{read} -> violation {(output.get('violation') or {}).get('violation_id', '')}".strip()
    if status == "REVIEW_PENDING":
        return f"{read} -> waiting for an officer"
    if status == "FAILED":
        return f"FAILED: {outcome.record.get('reason_code')}"
    return f"{read} -> {status.lower().replace('_', ' ')}".strip(" ->")


def report(stack: LocalStack, outcomes: list[FrameOutcome], out: Path, stream: TextIO,
           section_control: dict[str, Any] | None = None, citizens_api: dict[str, Any] | None = None,
           payments: dict[str, Any] | None = None) -> dict[str, Any]:
    def say(text: str = "") -> None:
        print(text, file=stream)

    # Section passages are counted in their own block (section_control), not among the offence frames.
    frames = [f for f in table_items(stack, "FramesTable") if f.get("violation_type") != ViolationType.SECTION_SPEEDING]
    violations = sorted(table_items(stack, "ViolationsTable"), key=lambda v: v["violation_id"])
    reviews = [r for r in table_items(stack, "ReviewsTable")
               if ((r.get("state") or {}).get("frame") or {}).get("violation_type") != ViolationType.SECTION_SPEEDING]
    outbox = stack.sms_outbox()
    portal = stack.portal_events()
    statuses = Counter(frame["status"] for frame in frames)
    decisions = Counter(o.recognition.get("decision", "-") for o in outcomes if o.execution)
    by_key = {o.planned.upload.key: o for o in outcomes}

    say("\n" + "=" * 78)
    say(f"Frames in: {len(outcomes)}   executions: {sum(1 for o in outcomes if o.execution)}")
    say("Frame outcomes: " + ", ".join(f"{status} {count}" for status, count in sorted(statuses.items())))
    say("Plate reads: " + ", ".join(f"{decision} {count}" for decision, count in sorted(decisions.items())))

    say(f"\nViolations issued: {len(violations)}")
    for violation in violations:
        say(f"  {violation['violation_id']}  {violation['plate']:<9} {violation['violation_type']:<20} "
            f"{violation['amount_mru']:>6} MRU  {violation.get('status', '')}")

    if section_control:
        over = [pair for pair in section_control["pairs"] if pair["violation_id"]]
        say(f"\nSection control {section_control['section_id']}: {len(section_control['pairs'])} pairs, "
            f"{len(over)} over the average limit ({', '.join(p['violation_id'] for p in over) or 'none'})")

    if citizens_api and citizens_api["objections"]:
        say("\nObjections through the citizens' API: " + ", ".join(
            f"{violation_id} {o.get('decision', '?')} -> {o.get('status')}"
            for violation_id, o in citizens_api["objections"].items()))

    if payments and payments["payments"]:
        say(f"\nWallet payments: {payments['deliveries']} signed deliveries -> " + ", ".join(
            f"{p['payment_id']} {p['outcome']}" for p in payments["payments"]) + f"; receipts {payments['receipts']}")

    unknown = [frame for frame in frames if frame["status"] == "UNKNOWN_PLATE"]
    say(f"\nUnknown plates recorded for follow-up: {len(unknown)}")
    for frame in unknown:
        outcome = by_key.get(frame.get("key", ""))
        best = (outcome.recognition.get("best") or {}) if outcome else {}
        say(f"  {frame['frame_id']}  read {best.get('text', '?')}")

    pending = [review for review in reviews if review["status"] == "PENDING"]
    say(f"\nReviews pending for an officer: {len(pending)}")
    for review in pending:
        best = ((review.get("state") or {}).get("recognition") or {}).get("best") or {}
        say(f"  {review['frame_id']}  model read {best.get('text', '?')} ({float(best.get('confidence', 0)):.4f})")
    decided = [review for review in reviews if review["status"] == "DECIDED"]
    if decided:
        say(f"Reviews decided: {len(decided)}")

    rejected = [frame for frame in frames if frame["status"] == "REJECTED"]
    say(f"\nRejected uploads: {len(rejected)}")
    for frame in rejected:
        say(f"  {frame.get('key', frame['frame_id'])}\n      {frame.get('reason_code')}: {frame.get('reason')}")

    failed = [frame for frame in frames if frame["status"] == "FAILED"]
    if failed:
        say(f"\nFAILED frames: {len(failed)}")
        for frame in failed:
            say(f"  {frame['frame_id']}  {frame.get('reason_code')}: {_error_message(frame.get('reason'))[:200]}")

    # Notify parks what it cannot deliver (murur.ops.redrive sends it again): none should be here.
    undelivered = [v for v in violations if v.get("notice_undelivered_at") and not v.get("notified_at")]
    say(f"\nSMS sent: {len(outbox)}   portal events: {len(portal)}   notices parked as undelivered: {len(undelivered)}")
    for sms in outbox:
        say(f"  to {sms['phone_number'][:7]}****** :")
        for line in sms["message"].splitlines():
            say(f"      {line}")

    stored = _download_evidence(stack, out)
    pictures = sorted(out.glob("evidence/*/annotated.*"))
    say(f"\nEvidence: {stored} files copied from the evidence bucket to {(out / 'evidence').resolve()}/")
    say(f"  annotated pictures: {len(pictures)}" + (f", e.g. {pictures[0].resolve()}" if pictures else ""))

    latencies = sorted(o.seconds for o in outcomes if o.execution)
    summary = {
        "frames_in": len(outcomes),
        "frame_statuses": dict(statuses),
        "read_decisions": dict(decisions),
        "violations": sum(v["violation_type"] != ViolationType.SECTION_SPEEDING for v in violations),
        "section_control": section_control,
        # Objections filed through the HTTP API and the officer's rulings (murur.local.api_demo).
        "citizens_api": citizens_api,
        # Owners paying through the signed wallet webhooks, and the day's reconciliation (murur.local.payments_demo).
        "payments": payments,
        "reviews_pending": len(pending),
        "reviews_decided": len(decided),
        # Reads at or above the auto-issue threshold (the model card's unless AutoIssueThreshold is set) go straight on.
        "issued_without_review": decisions.get(Decision.CONFIDENT, 0),
        "rejections": {frame["frame_id"]: frame.get("reason_code") for frame in rejected},
        "unknown_plates": len(unknown),
        "sms_sent": len(outbox),
        "portal_events": len(portal),
        "notices_undelivered": len(undelivered),
        "latency_seconds": latencies,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    (out / "sms_outbox.json").write_text(json.dumps(outbox, indent=2, ensure_ascii=False))
    say(f"Summary: {(out / 'summary.json').resolve()}")
    return summary


def template_decimal(value: float) -> str:
    """A number in 0..1 as the template's AllowedPattern takes it: plain decimals, no exponent."""
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"an auto-issue threshold lies in 0..1, not {value}")
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _error_message(cause: Any) -> str:
    """A Lambda task's cause is its error payload (JSON); its message is what an operator reads."""
    try:
        return str(json.loads(cause)["errorMessage"])
    except (TypeError, ValueError, KeyError):
        return str(cause)


def _download_evidence(stack: LocalStack, target: Path) -> int:
    s3 = stack.client("s3")
    count = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=stack.name("EvidenceBucket")):
        for entry in page.get("Contents", []):
            path = target / entry["Key"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(s3.get_object(Bucket=stack.name("EvidenceBucket"), Key=entry["Key"])["Body"].read())
            count += 1
    return count


def run_demo(out: Path, frame_count: int = 36, seed: int = 2026, stream: TextIO = sys.stdout,
             auto_issue_threshold: float | None = None) -> dict[str, Any]:
    """`auto_issue_threshold`: the template's AutoIssueThreshold for this run (default: the model card's)."""
    def say(text: str) -> None:
        print(text, file=stream, flush=True)

    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    parameters = {} if auto_issue_threshold is None else {"AutoIssueThreshold": template_decimal(auto_issue_threshold)}
    say("Provisioning the stack from template.yaml on moto (in-process) ...")
    with LocalStack(parameters, log_level="CRITICAL") as stack:
        if parameters:
            say(f"  AutoIssueThreshold {parameters['AutoIssueThreshold']}: reads at least this sure skip the officer")
        else:
            say(f"  AutoIssueThreshold unset: the model card's {PlateReader.default().auto_issue_threshold:.4f}; reads at least this sure "
                f"skip the officer")
        seed_registry(stack)
        say(f"  {len(stack.template.resources)} template resources; seeded {len(CAMERAS)} cameras "
            f"({sum(c.status == 'RETIRED' for c in CAMERAS)} retired) and {len(VEHICLES)} vehicles")
        say(f"Generating {frame_count} camera frames (synthetic plates in road scenes, and bad uploads) ...")
        planned = plan_frames(frame_count, seed)
        say("Uploading each frame as a camera would; each runs through the state machine:")
        outcomes = []
        for number, frame in enumerate(planned, start=1):
            outcome = process(stack, frame)
            outcomes.append(outcome)
            parts = frame.upload.key.split("/")
            say(f"  [{number:>2}/{len(planned)}] {parts[1] + '/' + parts[-1]:<24} {frame.story:<44} "
                f"{_describe(outcome)}  ({outcome.seconds * 1000:.0f} ms)")
        officer_reviews(stack, planned, say)
        section_control = run_section_demo(stack, datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1), say)
        citizens_api = citizens_object_and_an_officer_rules(stack, say)
        payments = owners_pay_by_wallet(stack, say)
        summary = report(stack, outcomes, out, stream, section_control, citizens_api, payments)
        summary["analytics"] = analytics_at_the_end(stack, out, say)
        (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    say(f"Done in {time.perf_counter() - started:.1f} s.")
    return summary
