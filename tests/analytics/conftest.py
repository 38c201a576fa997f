"""Analytics tests: violations written as the chain writes them, counted through the stream."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from murur.analytics.aggregates import AnalyticsRepository
from murur.lifecycle import ViolationStatus
from murur.violations import Violation, ViolationsRepository
from murur.workflow import ViolationType

# The demo registry's cameras (murur.local.seed): camera -> (place, region).
PLACES = {
    "NKC-TVZ-01": ("Carrefour Madrid, Avenue Gamal Abdel Nasser", "00"),
    "NKC-KSR-02": ("Ksar, route de l'aéroport, Route de l'Aéroport", "00"),
    "NDB-RN2-01": ("RN2 entrée Nouadhibou, Route nationale 2", "08"),
}
# An NNI that is not a substring of moto's account id (123456789012), so the checks below mean something.
PLATE, NNI = "4821AB00", "2468013579"


def violation(number: int, camera_id: str, captured_at: datetime,
              violation_type: ViolationType = ViolationType.SPEEDING) -> Violation:
    """A violation as issue_violation writes it (personal data included, as in the real table)."""
    place, region = PLACES[camera_id]
    violation_id = f"MR{captured_at:%y}-T{number:09d}"
    return Violation(
        violation_id=violation_id, status=ViolationStatus.ISSUED, violation_type=violation_type, plate=PLATE,
        owner_nni=NNI, amount_mru=4000, issued_at=captured_at + timedelta(seconds=40),
        deadline_at=captured_at + timedelta(days=30), captured_at=captured_at, camera_id=camera_id, place=place,
        region_code=region, measured_speed_kmh=87.0, speed_limit_kmh=60.0, lane=2,
        frame_id=f"{camera_id}-F{number:06d}", frame_bucket="frames",
        frame_key=f"frames/{camera_id}/{captured_at:%Y/%m/%d}/F{number:06d}.jpg", frame_sha256="0" * 64,
        evidence_bucket="evidence", evidence_frame_key=f"evidence/{violation_id}/frame.jpg", evidence_frame_sha256="1" * 64,
        evidence_annotated_key=f"evidence/{violation_id}/annotated.jpg", evidence_annotated_sha256="2" * 64,
        model_version="test-model-1", read_source="model", read_confidence=0.97,
        execution_arn=f"arn:aws:states:us-east-1:123456789012:execution:murur-frame-pipeline-dev:{number}")


def write_violations(stack: Any, violations: list[Violation]) -> ViolationsRepository:
    repository = ViolationsRepository(stack.client("dynamodb"), stack.name("ViolationsTable"))
    for item in violations:
        assert repository.put_new(item, actor="system:issue_violation")
    return repository


def analytics(stack: Any) -> AnalyticsRepository:
    return AnalyticsRepository(stack.client("dynamodb"), stack.name("AnalyticsTable"))


def at(day: str, hour: int, minute: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC)
