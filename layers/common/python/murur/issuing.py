"""IssueViolation: from a plate (the officer's, else the model's) to one priced violation with its evidence.

Idempotent: the violation id is derived from the frame and written with a conditional put, so a
retried task finds its own earlier write (ALREADY_ISSUED) instead of issuing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from murur import evidence
from murur.errors import InvalidPayload, TransientError, ViolationIdClash
from murur.frames import FramesRepository, FrameStatus, FrameStore
from murur.fines import FineScheduleSource, SsmFineSchedule
from murur.lifecycle import ISSUE_ACTOR, SECTION_ACTOR, officer_actor
from murur.registry import DynamoDBVehicleRegistry, VehicleRegistry, normalise_plate
from murur.sections import SectionOffence
from murur.violations import (
    SectionRecord,
    Violation,
    ViolationsRepository,
    ViolationStatus,
    section_violation_id_for,
    violation_id_for,
)
from murur.settings import Settings
from murur.workflow import FrameRef, IssueInput, IssueOutcome, IssueResult, ViolationType


class ViolationIssuer:
    def __init__(
        self,
        registry: VehicleRegistry,
        fines: FineScheduleSource,
        violations: ViolationsRepository,
        frames: FramesRepository,
        frame_store: FrameStore,
        evidence_store: evidence.EvidenceStore,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._registry = registry
        self._fines = fines
        self._violations = violations
        self._frames = frames
        self._frame_store = frame_store
        self._evidence = evidence_store
        self._clock = clock

    def issue(self, task: IssueInput) -> IssueResult:
        plate = normalise_plate(task.plate_text() or "")
        if not plate:
            raise InvalidPayload("IssueViolation needs a plate: neither a read nor an officer's decision has one")
        frame = task.frame
        violation_id = violation_id_for(frame)

        earlier = self._violations.get(violation_id)
        if earlier is not None:
            return self._already_issued(earlier, task)

        vehicle = self._registry.lookup(plate)
        if vehicle is None:
            self._frames.set_status(frame.frame_id, FrameStatus.UNKNOWN_PLATE, self._clock(), plate=plate,
                                    read_source=_read_source(task))
            return IssueResult(outcome=IssueOutcome.UNKNOWN_PLATE, plate_text=plate, notify=False)

        schedule = self._fines.get()
        excess = (frame.measured_speed_kmh - frame.speed_limit_kmh
                  if frame.measured_speed_kmh is not None and frame.speed_limit_kmh is not None else None)
        amount = schedule.amount_mru(frame.violation_type, excess if frame.violation_type is ViolationType.SPEEDING else None)

        image = self._frame_store.read_frame(frame)
        box = task.recognition.best.box if task.recognition.best else None
        original = self._evidence.put(violation_id, f"frame.{_extension(frame)}", image, frame.content_type)
        annotated = self._evidence.put(
            violation_id, "annotated.jpg",
            evidence.annotate(image, frame=frame, violation_id=violation_id, plate_text=plate,
                              read_source=_read_source(task), box=box),
            "image/jpeg",
        )
        crop = self._evidence.put(violation_id, "plate.jpg", evidence.plate_crop(image, box), "image/jpeg") if box else None

        issued_at = self._clock()
        best = task.recognition.best
        violation = Violation(
            violation_id=violation_id,
            status=ViolationStatus.ISSUED,
            violation_type=frame.violation_type,
            plate=plate,
            owner_nni=vehicle.owner_nni,
            amount_mru=amount,
            issued_at=issued_at,
            deadline_at=schedule.deadline(issued_at),
            captured_at=frame.captured_at,
            camera_id=frame.camera_id,
            place=frame.place,
            region_code=frame.region_code,
            measured_speed_kmh=frame.measured_speed_kmh,
            speed_limit_kmh=frame.speed_limit_kmh,
            signal_phase=frame.signal_phase,
            lane=frame.lane,
            **self._evidence_fields(frame, original, annotated, crop),
            model_version=task.recognition.model_version,
            read_confidence=best.confidence if best else None,
            read_source=_read_source(task),
            reviewer=task.review.reviewer if task.review else None,
            execution_arn=task.execution_arn,
        )
        # Who decided the plate is who issued: the officer whose review named it, else the system.
        actor = officer_actor(task.review.reviewer) if task.review is not None else ISSUE_ACTOR
        if not self._violations.put_new(violation, actor=actor):
            # A concurrent attempt won the conditional put between our get and put.
            earlier = self._violations.get(violation_id)
            if earlier is None:
                raise TransientError(f"violation {violation_id} was neither written nor readable; retry")
            return self._already_issued(earlier, task)
        self._frames.set_status(frame.frame_id, FrameStatus.VIOLATION_ISSUED, issued_at, violation_id=violation_id)
        return IssueResult(outcome=IssueOutcome.ISSUED, violation_id=violation_id, plate_text=plate, notify=True)

    def _evidence_fields(self, frame: FrameRef, original: evidence.StoredEvidence,
                         annotated: evidence.StoredEvidence, crop: evidence.StoredEvidence | None) -> dict[str, Any]:
        """The violation's frame and evidence references, the same for every kind of violation."""
        return {
            "frame_id": frame.frame_id, "frame_bucket": frame.bucket, "frame_key": frame.key,
            "frame_sha256": frame.sha256, "evidence_bucket": self._evidence.bucket,
            "evidence_frame_key": original.key, "evidence_frame_sha256": original.sha256,
            "evidence_annotated_key": annotated.key, "evidence_annotated_sha256": annotated.sha256,
            "evidence_plate_key": crop.key if crop else None, "evidence_plate_sha256": crop.sha256 if crop else None,
        }

    def issue_section(self, offence: SectionOffence, task: IssueInput) -> IssueResult:
        """A section's pair over the limit: one violation on the exit frame, both frames as evidence.

        The id comes from the section and the exit frame (section_violation_id_for), written with the
        same conditional put as any violation: the pair processed twice gives one violation.
        """
        section, entry, exit_ = offence.section, offence.entry, offence.exit
        frame = exit_.frame
        violation_id = section_violation_id_for(section.section_id, frame)
        plate = offence.plate
        earlier = self._violations.get(violation_id)
        if earlier is not None:
            return self._section_already_issued(earlier, offence, task)

        vehicle = self._registry.lookup(plate)
        if vehicle is None:
            self._frames.set_status(task.frame.frame_id, FrameStatus.UNKNOWN_PLATE, self._clock(), plate=plate,
                                    read_source=_read_source(task), section_id=section.section_id)
            return IssueResult(outcome=IssueOutcome.UNKNOWN_PLATE, plate_text=plate, notify=False)

        schedule = self._fines.get()
        average = offence.judgement.average_speed_kmh
        if average is None:
            raise InvalidPayload("a section offence needs an average speed")
        amount = schedule.amount_mru(ViolationType.SECTION_SPEEDING, average - section.limit_kmh)
        # An officer who decided either plate had a hand in the read.
        officer = exit_.reviewer or entry.reviewer
        read_source = "officer" if officer else "model"

        entry_image = self._frame_store.read_frame(entry.frame)
        exit_image = self._frame_store.read_frame(frame)
        entry_original = self._evidence.put(violation_id, f"entry.{_extension(entry.frame)}", entry_image,
                                            entry.frame.content_type)
        original = self._evidence.put(violation_id, f"frame.{_extension(frame)}", exit_image, frame.content_type)
        annotated = self._evidence.put(
            violation_id, "annotated.jpg",
            evidence.annotate_section(entry_image, exit_image, offence=offence, violation_id=violation_id,
                                      read_source=read_source),
            "image/jpeg",
        )
        crop = (self._evidence.put(violation_id, "plate.jpg", evidence.plate_crop(exit_image, exit_.box), "image/jpeg")
                if exit_.box else None)
        confidences = [c for c in (entry.read_confidence, exit_.read_confidence) if c is not None]

        issued_at = self._clock()
        violation = Violation(
            violation_id=violation_id,
            status=ViolationStatus.ISSUED,
            violation_type=ViolationType.SECTION_SPEEDING,
            plate=plate,
            owner_nni=vehicle.owner_nni,
            amount_mru=amount,
            issued_at=issued_at,
            deadline_at=schedule.deadline(issued_at),
            captured_at=frame.captured_at,
            camera_id=frame.camera_id,
            place=section.name,
            region_code=frame.region_code,
            measured_speed_kmh=average,
            speed_limit_kmh=section.limit_kmh,
            lane=frame.lane,
            **self._evidence_fields(frame, original, annotated, crop),
            model_version=exit_.model_version,
            read_confidence=min(confidences) if confidences else None,
            read_source=read_source,
            reviewer=officer,
            execution_arn=task.execution_arn,
            section=SectionRecord(
                section_id=section.section_id, name=section.name, distance_m=section.distance_m,
                limit_kmh=section.limit_kmh, tolerance_kmh=section.tolerance_kmh,
                clock_skew_seconds=section.clock_skew_seconds, entry_camera_id=section.entry_camera_id,
                exit_camera_id=section.exit_camera_id, entry_frame_id=entry.frame_id,
                entry_captured_at=entry.captured_at, entry_frame_bucket=entry.frame.bucket,
                entry_frame_key=entry.frame.key, entry_frame_sha256=entry.frame.sha256,
                entry_read_source="officer" if entry.reviewer else "model", entry_reviewer=entry.reviewer,
                evidence_entry_frame_key=entry_original.key, evidence_entry_frame_sha256=entry_original.sha256,
                elapsed_seconds=offence.judgement.elapsed_seconds,
                credited_seconds=offence.judgement.credited_seconds, average_speed_kmh=average,
            ),
        )
        actor = officer_actor(officer) if officer else SECTION_ACTOR
        frame_ids = (frame.frame_id, entry.frame_id)
        if not self._violations.put_new(violation, actor=actor):
            earlier = self._violations.get(violation_id)
            if earlier is None:
                raise TransientError(f"violation {violation_id} was neither written nor readable; retry")
            return self._section_already_issued(earlier, offence, task)
        for frame_id in frame_ids:
            self._frames.set_status(frame_id, FrameStatus.VIOLATION_ISSUED, issued_at, violation_id=violation_id)
        return IssueResult(outcome=IssueOutcome.ISSUED, violation_id=violation_id, plate_text=plate, notify=True)

    def _section_already_issued(self, earlier: Violation, offence: SectionOffence, task: IssueInput) -> IssueResult:
        exit_id, entry_id = offence.exit.frame_id, offence.entry.frame_id
        if earlier.frame_id == exit_id and earlier.section is not None and earlier.section.entry_frame_id != entry_id:
            # The exit already ended a trip paired with another entry passage (one decided earlier):
            # this entry is not part of it, and one trip is fined once.
            self._frames.set_status(task.frame.frame_id, FrameStatus.SECTION_PASSAGE, self._clock(),
                                    section_id=offence.section.section_id)
            return IssueResult(outcome=IssueOutcome.SECTION_PASSAGE, plate_text=offence.plate, notify=False)
        return self._already_issued(earlier, task, frame_ids=(exit_id, entry_id))

    def _already_issued(self, earlier: Violation, task: IssueInput,
                        frame_ids: tuple[str, ...] | None = None) -> IssueResult:
        """`frame_ids`: the frames the violation is made of, its own frame first (default: the task's)."""
        frame_ids = frame_ids or (task.frame.frame_id,)
        if earlier.frame_id != frame_ids[0]:
            raise ViolationIdClash(f"reference {earlier.violation_id} already belongs to another frame")
        # The earlier attempt may have stopped before marking the frames; marking again changes nothing.
        for frame_id in frame_ids:
            self._frames.set_status(frame_id, FrameStatus.VIOLATION_ISSUED, earlier.issued_at,
                                    violation_id=earlier.violation_id)
        # Notify checks for itself whether the owner was already told.
        return IssueResult(outcome=IssueOutcome.ALREADY_ISSUED, violation_id=earlier.violation_id,
                           plate_text=earlier.plate, notify=True)


def _extension(frame: FrameRef) -> str:
    return "png" if frame.content_type == "image/png" else "jpg"


def _read_source(task: IssueInput) -> str:
    return "officer" if task.review is not None else "model"


def deployed_issuer(config: Settings, *, dynamodb: Any, s3: Any, ssm: Any) -> ViolationIssuer:
    """The issuer on the stack's tables, buckets and fine schedule: IssueViolation's and SectionControl's."""
    return ViolationIssuer(
        registry=DynamoDBVehicleRegistry(dynamodb, config.vehicles_table),
        fines=SsmFineSchedule(ssm, config.fine_schedule_parameter),
        violations=ViolationsRepository(dynamodb, config.violations_table),
        frames=FramesRepository(dynamodb, config.frames_table),
        frame_store=FrameStore(s3),
        evidence_store=evidence.EvidenceStore(s3, config.evidence_bucket),
    )
