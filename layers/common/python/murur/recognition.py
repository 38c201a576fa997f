"""From the plate reader's reads to the pipeline's decision: issue, ask an officer, or record unreadable.

A fine is issued without an officer only when the best read is calibrated-confident, fits a known
plate layout, and no other plate in the frame is as confident (which car did the camera catch?).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from murur.workflow import Decision, PlateReadPayload, RecognitionResult


class PlateReadLike(Protocol):
    text: str
    confidence: float
    char_confidences: Sequence[float]
    box: tuple[int, int, int, int]
    layout: str | None
    model_version: str


class PlateReading(Protocol):
    auto_issue_threshold: float
    model_version: str

    def read(self, image_bytes: bytes) -> Sequence[PlateReadLike]: ...


# A threshold of 1 means "an officer sees every read", even one the calibration rounds up to certainty.
ALWAYS_REVIEW = 1.0


def decide(reads: Sequence[PlateReadPayload], threshold: float) -> Decision:
    """`reads` best first, as the reader returns them."""
    if not reads:
        return Decision.NO_PLATE
    best, others = reads[0], reads[1:]
    if threshold >= ALWAYS_REVIEW or best.confidence < threshold or best.layout is None:
        return Decision.UNSURE
    if any(other.confidence >= threshold and other.text != best.text for other in others):
        return Decision.UNSURE
    return Decision.CONFIDENT


def payload(read: PlateReadLike) -> PlateReadPayload:
    return PlateReadPayload(
        text=read.text,
        confidence=min(1.0, max(0.0, float(read.confidence))),
        char_confidences=[float(c) for c in read.char_confidences],
        box=tuple(int(v) for v in read.box),
        layout=read.layout,
        model_version=read.model_version,
    )


def recognise(image_bytes: bytes, reader: PlateReading, threshold: float | None = None) -> RecognitionResult:
    """Read the frame; `threshold` (the deployment's override) replaces the model card's calibrated one."""
    threshold = reader.auto_issue_threshold if threshold is None else threshold
    reads = [payload(read) for read in reader.read(image_bytes) if read.text]
    return RecognitionResult(
        decision=decide(reads, threshold),
        best=reads[0] if reads else None,
        plates=reads,
        threshold=threshold,
        model_version=reader.model_version,
    )
