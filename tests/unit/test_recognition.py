from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from murur.recognition import decide, recognise
from murur.workflow import Decision, PlateReadPayload


@dataclass(frozen=True)
class FakeRead:
    text: str
    confidence: float
    layout: str | None = "mr_civil"
    box: tuple[int, int, int, int] = (10, 20, 110, 45)
    char_confidences: tuple[float, ...] = ()
    model_version: str = "fake-1"


@dataclass
class FakeReader:
    """Injected in place of the ONNX reader: returns the reads it was given."""

    reads: list[FakeRead]
    auto_issue_threshold: float = 0.9
    model_version: str = "fake-1"
    seen: list[bytes] = field(default_factory=list)

    def read(self, image_bytes: bytes) -> list[FakeRead]:
        self.seen.append(image_bytes)
        return self.reads


def payloads(*reads: FakeRead) -> list[PlateReadPayload]:
    return [PlateReadPayload(text=r.text, confidence=r.confidence, box=r.box, layout=r.layout,
                             model_version=r.model_version) for r in reads]


def test_no_read_is_no_plate() -> None:
    assert decide([], 0.9) is Decision.NO_PLATE


@pytest.mark.parametrize(("confidence", "decision"), [(0.9, Decision.CONFIDENT), (0.99, Decision.CONFIDENT),
                                                      (0.8999, Decision.UNSURE), (0.1, Decision.UNSURE)])
def test_the_threshold_separates_confident_from_unsure(confidence: float, decision: Decision) -> None:
    assert decide(payloads(FakeRead("4821AB00", confidence)), 0.9) is decision


def test_a_threshold_of_one_sends_every_read_to_an_officer() -> None:
    assert decide(payloads(FakeRead("4821AB00", 1.0)), 1.0) is Decision.UNSURE
    assert decide([], 1.0) is Decision.NO_PLATE


def test_a_confident_text_that_fits_no_plate_layout_goes_to_an_officer() -> None:
    assert decide(payloads(FakeRead("48Z1AB0", 0.99, layout=None)), 0.9) is Decision.UNSURE


def test_two_confident_plates_in_one_frame_go_to_an_officer() -> None:
    two = payloads(FakeRead("4821AB00", 0.98), FakeRead("1907KN00", 0.95))
    assert decide(two, 0.9) is Decision.UNSURE
    with_a_faint_second = payloads(FakeRead("4821AB00", 0.98), FakeRead("1907KN00", 0.4))
    assert decide(with_a_faint_second, 0.9) is Decision.CONFIDENT


def test_recognise_uses_the_model_cards_threshold_unless_the_deployment_overrides_it() -> None:
    reader = FakeReader([FakeRead("4821AB00", 0.93)])
    result = recognise(b"jpeg", reader)
    assert (result.decision, result.threshold, result.model_version) == (Decision.CONFIDENT, 0.9, "fake-1")
    assert result.best is not None and result.best.text == "4821AB00" and result.plates == [result.best]
    assert reader.seen == [b"jpeg"]
    overridden = recognise(b"jpeg", reader, threshold=1.0)
    assert (overridden.decision, overridden.threshold) == (Decision.UNSURE, 1.0)


def test_recognise_without_reads_keeps_the_model_version() -> None:
    result = recognise(b"jpeg", FakeReader([]))
    assert result.decision is Decision.NO_PLATE and result.best is None and result.model_version == "fake-1"
