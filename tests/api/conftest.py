"""The API's tests: a local stack with the demo registry and a few violations already issued."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from murur.lifecycle import ISSUE_ACTOR, ViolationStatus
from murur.local import LocalStack
from murur.violations import Violation, ViolationsRepository
from murur.workflow import ViolationType

OWNER_NNI = "1234567890"  # owns 4821AB00 (Arabic, has a phone) in murur.local.seed
OTHER_NNI = "2345678901"  # owns 1907KN00 (French, has a phone)
ISSUED_AT = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
EVIDENCE_KEY = "evidence/2026/annotated.jpg"

# The owner's violations, oldest first, and the other citizen's one.
OWNER_VIOLATIONS = ["MR26-0000000A01", "MR26-0000000A02", "MR26-0000000A03"]
OTHER_VIOLATION = "MR26-0000000B01"


def make_violation(violation_id: str, *, plate: str = "4821AB00", owner_nni: str = OWNER_NNI,
                   issued_at: datetime = ISSUED_AT, evidence_bucket: str = "evidence") -> Violation:
    return Violation(
        violation_id=violation_id, status=ViolationStatus.ISSUED, violation_type=ViolationType.SPEEDING,
        plate=plate, owner_nni=owner_nni, amount_mru=4000, issued_at=issued_at,
        deadline_at=issued_at + timedelta(days=30), captured_at=issued_at - timedelta(minutes=3),
        camera_id="NKC-TVZ-01", place="Carrefour Madrid", measured_speed_kmh=82, speed_limit_kmh=50,
        frame_id=f"F-{violation_id}", frame_bucket="frames", frame_key=f"frames/{violation_id}.jpg",
        frame_sha256="0" * 64, evidence_bucket=evidence_bucket, evidence_frame_key="evidence/frame.jpg",
        evidence_frame_sha256="1" * 64, evidence_annotated_key=EVIDENCE_KEY, evidence_annotated_sha256="2" * 64,
        model_version="test-model-1", read_source="model", read_confidence=0.97,
        execution_arn="arn:aws:states:us-east-1:123456789012:execution:murur:x",
    )


def repository(stack: LocalStack) -> ViolationsRepository:
    return ViolationsRepository(stack.client("dynamodb"), stack.name("ViolationsTable"))


@pytest.fixture
def api_stack(make_stack: Callable[..., LocalStack]) -> LocalStack:
    stack = make_stack()
    violations = repository(stack)
    evidence = stack.name("EvidenceBucket")
    for offset, violation_id in enumerate(OWNER_VIOLATIONS):
        assert violations.put_new(make_violation(violation_id, issued_at=ISSUED_AT + timedelta(hours=offset),
                                                 evidence_bucket=evidence), actor=ISSUE_ACTOR)
    assert violations.put_new(make_violation(OTHER_VIOLATION, plate="1907KN00", owner_nni=OTHER_NNI,
                                             evidence_bucket=evidence), actor=ISSUE_ACTOR)
    return stack
