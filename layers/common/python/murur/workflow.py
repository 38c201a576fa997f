"""The payloads that travel between the states of the frame state machine.

statemachine/frame_pipeline.asl.json moves these documents from state to state; each Lambda task
parses its input with the model named here and returns the model named here. Changing a field means
changing the ASL's JSONPaths too (tests/test_workflow_contract.py checks the two against each other).
Every Lambda task gets the whole state document ("Payload.$": "$"), except RequestReview, which gets
{"state": <the document>, "task_token": $$.Task.Token}.

State document, as it grows along the chain:
    {"frame": FrameRef}                                   <- ingest_frame starts the execution
    + "execution_arn", "review": null                     <- first state, a Pass ($$.Execution.Id)
    + "recognition": RecognitionResult                    <- RecognizePlate (ResultPath $.recognition)
    + "review": ReviewDecision                            <- RequestReview, only for UNSURE reads
    + "violation": IssueResult                            <- IssueViolation (ResultPath $.violation)
    + "notification": NotifyResult                        <- Notify (ResultPath $.notification)
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ViolationType(StrEnum):
    SPEEDING = "SPEEDING"
    RED_LIGHT = "RED_LIGHT"
    NO_SEATBELT = "NO_SEATBELT"
    PHONE_WHILE_DRIVING = "PHONE_WHILE_DRIVING"
    WRONG_WAY = "WRONG_WAY"
    BUS_LANE = "BUS_LANE"
    STOP_LINE = "STOP_LINE"
    # Average speed between two cameras (murur.sections). A section camera's frame is a passage of
    # any vehicle, not yet an offence: SectionControl decides once both passages are known.
    SECTION_SPEEDING = "SECTION_SPEEDING"


class FrameRef(_Payload):
    """A validated frame, as ingest_frame hands it to the state machine."""

    frame_id: str = Field(description="'{camera_id}-{vendor frame id}'; unique per uploaded frame")
    bucket: str
    key: str
    etag: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size_bytes: int
    width: int
    height: int
    content_type: str
    camera_id: str
    captured_at: AwareDatetime
    received_at: AwareDatetime
    violation_type: ViolationType
    measured_speed_kmh: float | None = None
    speed_limit_kmh: float | None = None
    lane: int | None = None
    signal_phase: str | None = None
    # Where the camera stood when the frame was ingested (from CamerasTable), kept with the frame so
    # the evidence and the notice name the place even if the camera is later moved or retired.
    place: str | None = None
    region_code: str | None = None
    latitude: float | None = None
    longitude: float | None = None


class Decision(StrEnum):
    CONFIDENT = "CONFIDENT"  # auto-issue: confidence >= the calibrated threshold
    UNSURE = "UNSURE"  # a plate was found but the read may be wrong: a human decides
    NO_PLATE = "NO_PLATE"  # nothing readable: recorded as unreadable


class PlateReadPayload(_Payload):
    text: str
    confidence: float = Field(ge=0.0, le=1.0)
    char_confidences: list[float] = []
    box: tuple[int, int, int, int]
    layout: str | None = None
    model_version: str


class RecognitionResult(_Payload):
    decision: Decision
    best: PlateReadPayload | None = None
    plates: list[PlateReadPayload] = []
    threshold: float
    model_version: str


class ReviewOutcome(StrEnum):
    CONFIRMED = "CONFIRMED"  # the officer agrees with the model's read
    CORRECTED = "CORRECTED"  # the officer typed the right plate
    DISCARDED = "DISCARDED"  # no violation from this frame


class ReviewDecision(_Payload):
    """What an officer's decision sends back with SendTaskSuccess."""

    outcome: ReviewOutcome
    plate_text: str | None = None
    reviewer: str
    decided_at: AwareDatetime


class IssueOutcome(StrEnum):
    ISSUED = "ISSUED"
    ALREADY_ISSUED = "ALREADY_ISSUED"  # a retried task found its own earlier write
    UNKNOWN_PLATE = "UNKNOWN_PLATE"  # not in the registry: recorded for follow-up, nobody to notify
    # SectionControl only (murur.sections): a passage with no partner within the window (yet), and a
    # pair whose average speed is within the section's limit and tolerance. Nothing issued.
    SECTION_PASSAGE = "SECTION_PASSAGE"
    WITHIN_LIMIT = "WITHIN_LIMIT"


class IssueResult(_Payload):
    outcome: IssueOutcome
    violation_id: str | None = None
    plate_text: str
    notify: bool


class NotifyResult(_Payload):
    violation_id: str
    sms_sent: bool
    sms_message_id: str | None = None
    sms_segments: int | None = None
    language: str | None = None
    portal_event_sent: bool
    notified_at: datetime


class ExecutionStarted(_Payload):
    """What ingest_frame passes to StartExecution."""

    frame: FrameRef


class FrameInput(_Payload):
    """Input of RecognizePlate."""

    frame: FrameRef
    execution_arn: str


class ReviewRequestInput(_Payload):
    """Input of RequestReview: the state so far and the token that resumes the execution."""

    state: "IssueInput"
    task_token: str


class IssueInput(_Payload):
    frame: FrameRef
    execution_arn: str
    recognition: RecognitionResult
    review: ReviewDecision | None = None

    def plate_text(self) -> str | None:
        """An officer's decision wins over the model's read."""
        if self.review is not None and self.review.outcome is not ReviewOutcome.DISCARDED:
            return self.review.plate_text or (self.recognition.best.text if self.recognition.best else None)
        return self.recognition.best.text if self.recognition.best else None


class NotifyInput(_Payload):
    frame: FrameRef
    execution_arn: str
    violation: IssueResult


class UndeliveredNotice(_Payload):
    """The message ParkUndeliveredNotice puts in the undelivered-notices queue when Notify fails after
    its retries; murur.ops.redrive sends the notice again from it. No personal data: the violation
    record has the rest."""

    violation_id: str
    frame_id: str
    execution_arn: str
    error: str
    failed_at: AwareDatetime


ReviewRequestInput.model_rebuild()
