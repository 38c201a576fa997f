from __future__ import annotations

import re
from datetime import UTC, datetime

from murur.violations import violation_id_for
from murur.workflow import FrameRef, ViolationType


def frame(frame_id: str, captured_year: int = 2026) -> FrameRef:
    return FrameRef(frame_id=frame_id, bucket="b", key="k", etag="e", sha256="0" * 64, size_bytes=1, width=1,
                    height=1, content_type="image/jpeg", camera_id="NKC-TVZ-01",
                    captured_at=datetime(captured_year, 11, 28, 9, 30, tzinfo=UTC),
                    received_at=datetime(captured_year, 11, 28, 9, 30, tzinfo=UTC),
                    violation_type=ViolationType.RED_LIGHT)


def test_the_reference_is_derived_from_the_frame_alone() -> None:
    first = violation_id_for(frame("NKC-TVZ-01-F000123"))
    assert first == violation_id_for(frame("NKC-TVZ-01-F000123"))
    assert re.fullmatch(r"MR26-[0-9A-HJKMNP-TV-Z]{10}", first)


def test_references_of_different_frames_differ_and_carry_the_capture_year() -> None:
    references = {violation_id_for(frame(f"NKC-TVZ-01-F{n:06d}")) for n in range(2000)}
    assert len(references) == 2000
    assert violation_id_for(frame("NKC-TVZ-01-F000123", 2027)).startswith("MR27-")


def test_references_avoid_letters_misheard_over_the_phone() -> None:
    references = "".join(violation_id_for(frame(f"X-{n}"))[5:] for n in range(500))
    assert not set(references) & set("ILOU")
