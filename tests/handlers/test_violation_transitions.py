"""A violation's status changes on moto: conditional on the status they were decided on, each audited."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import murur
from murur.errors import TransitionRefused, ViolationNotFound
from murur.lifecycle import ViolationStatus
from murur.violations import Violation, ViolationsRepository
from murur.workflow import NotifyInput, ReviewDecision, ReviewOutcome, ViolationType

from .conftest import Account, load_function
from .payloads import EXECUTION_ARN, issue_input, stored_frame

S = ViolationStatus
VIOLATION_ID = "MR26-7KQ2M9XA4P"
ISSUED_AT = datetime(2026, 11, 28, 9, 31, tzinfo=UTC)
LATER = ISSUED_AT + timedelta(days=2)
OWNER = {"plate": "4821AB00", "owner_name": "Mohamed Ould Ahmed", "owner_nni": "1234567890",
         "owner_phone": "+22236123456", "language": "ar"}


def violation(status: ViolationStatus = S.ISSUED) -> Violation:
    return Violation(
        violation_id=VIOLATION_ID, status=status, violation_type=ViolationType.SPEEDING, plate="4821AB00",
        owner_nni="1234567890", amount_mru=4000, issued_at=ISSUED_AT, deadline_at=ISSUED_AT + timedelta(days=30),
        captured_at=ISSUED_AT, camera_id="NKC-TVZ-01", frame_id="NKC-TVZ-01-F000123", frame_bucket="frames-bucket",
        frame_key="frames/NKC-TVZ-01/2026/11/28/F000123.jpg", frame_sha256="0" * 64, evidence_bucket="evidence",
        evidence_frame_key="e/frame.jpg", evidence_frame_sha256="1" * 64, evidence_annotated_key="e/annotated.jpg",
        evidence_annotated_sha256="2" * 64, model_version="test-model-1", read_source="model",
        execution_arn=EXECUTION_ARN)


@pytest.fixture
def repository(account: Account) -> ViolationsRepository:
    repository = ViolationsRepository(account.client("dynamodb"), account.table("VIOLATIONS_TABLE"))
    assert repository.put_new(violation(), actor="system:issue_violation")
    return repository


def stored(account: Account) -> dict[str, Any]:
    (item,) = account.items("VIOLATIONS_TABLE")
    return item


def test_a_new_violation_starts_its_history_with_the_issue(account: Account, repository: ViolationsRepository) -> None:
    assert stored(account)["history"] == [{"to": "ISSUED", "actor": "system:issue_violation",
                                           "at": "2026-11-28T09:31:00Z"}]
    assert repository.get(VIOLATION_ID).history[0].to is S.ISSUED


def test_a_violation_is_only_ever_created_issued(account: Account, repository: ViolationsRepository) -> None:
    with pytest.raises(TransitionRefused):
        repository.put_new(violation(S.PAID).model_copy(update={"violation_id": "MR26-0000000001"}),
                           actor="system:test")
    assert [item["violation_id"] for item in account.items("VIOLATIONS_TABLE")] == [VIOLATION_ID]


def test_an_allowed_change_applies_and_appends_to_the_history(
        account: Account, repository: ViolationsRepository) -> None:
    change = repository.transition(VIOLATION_ID, S.OBJECTED, actor="citizen:1234567890", at=LATER,
                                   reason="not my car")
    assert (change.from_status, change.to) == (S.ISSUED, S.OBJECTED)
    repository.transition(VIOLATION_ID, S.UPHELD, actor="officer:NKC-0042", at=LATER + timedelta(days=1))

    item = stored(account)
    assert item["status"] == "UPHELD"
    assert item["history"][1:] == [
        {"from": "ISSUED", "to": "OBJECTED", "actor": "citizen:1234567890", "at": "2026-11-30T09:31:00Z",
         "reason": "not my car"},
        {"from": "OBJECTED", "to": "UPHELD", "actor": "officer:NKC-0042", "at": "2026-12-01T09:31:00Z"},
    ]
    assert [c.to for c in repository.get(VIOLATION_ID).history] == [S.ISSUED, S.OBJECTED, S.UPHELD]


@pytest.mark.parametrize(("path", "target"), [
    ([S.PAID], S.OBJECTED),  # PAID is final
    ([S.OBJECTED, S.CANCELLED], S.PAID),  # CANCELLED is final
    ([], S.UPHELD),  # only an objection is upheld
    ([S.NOTIFIED], S.ISSUED),  # nothing goes back
])
def test_a_refused_change_raises_and_changes_nothing(
        account: Account, repository: ViolationsRepository, path: list[ViolationStatus],
        target: ViolationStatus) -> None:
    for step in path:
        repository.transition(VIOLATION_ID, step, actor="system:test", at=LATER)
    before = stored(account)
    with pytest.raises(TransitionRefused):
        repository.transition(VIOLATION_ID, target, actor="system:test", at=LATER)
    assert stored(account) == before


def test_of_two_changes_decided_on_the_same_status_exactly_one_wins(
        account: Account, repository: ViolationsRepository) -> None:
    repository.transition(VIOLATION_ID, S.NOTIFIED, actor="system:notify", at=ISSUED_AT)
    # Both were decided on NOTIFIED (e.g. a payment and an objection arriving together); the second's
    # source is stale by the time it is written.
    repository.transition(VIOLATION_ID, S.PAID, actor="wallet:Bankily", at=LATER, expected=S.NOTIFIED)
    with pytest.raises(TransitionRefused) as raised:
        repository.transition(VIOLATION_ID, S.OBJECTED, actor="citizen:1234567890", at=LATER, expected=S.NOTIFIED)
    assert "is PAID, not NOTIFIED" in str(raised.value)
    item = stored(account)
    assert item["status"] == "PAID"
    assert [entry["to"] for entry in item["history"]] == ["ISSUED", "NOTIFIED", "PAID"]


class _Racing:
    """The DynamoDB client of a caller that loses a race: right after it reads the violation, a
    competitor's change is written, so its write meets a status it did not read."""

    def __init__(self, client: Any, competitor: Any) -> None:
        self._client, self._competitor = client, competitor

    def get_item(self, **request: Any) -> Any:
        response = self._client.get_item(**request)
        competitor, self._competitor = self._competitor, None
        if competitor is not None:
            competitor()
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_a_change_read_before_a_competing_write_is_refused_not_applied(
        account: Account, repository: ViolationsRepository) -> None:
    def overdue() -> None:
        repository.transition(VIOLATION_ID, S.OVERDUE, actor="system:deadline", at=LATER)

    loser = ViolationsRepository(_Racing(account.client("dynamodb"), overdue), "violations-table")
    with pytest.raises(TransitionRefused):
        # NOTIFIED was allowed from the ISSUED it read, but the violation is OVERDUE by the write.
        loser.transition(VIOLATION_ID, S.NOTIFIED, actor="system:notify", at=LATER)
    item = stored(account)
    assert item["status"] == "OVERDUE"
    assert [entry["to"] for entry in item["history"]] == ["ISSUED", "OVERDUE"]


def test_a_change_to_a_violation_that_does_not_exist_is_violation_not_found(
        repository: ViolationsRepository) -> None:
    with pytest.raises(ViolationNotFound):
        repository.transition("MR26-0000000000", S.PAID, actor="wallet:Bankily", at=LATER)
    with pytest.raises(ViolationNotFound):
        repository.transition("MR26-0000000000", S.PAID, actor="wallet:Bankily", at=LATER, expected=S.NOTIFIED)


def test_an_item_written_before_the_history_existed_gets_one_on_its_first_change(account: Account) -> None:
    repository = ViolationsRepository(account.client("dynamodb"), account.table("VIOLATIONS_TABLE"))
    account.put("VIOLATIONS_TABLE", violation(S.NOTIFIED).model_dump(mode="json", exclude={"history"}))
    repository.transition(VIOLATION_ID, S.PAID, actor="wallet:Masrvi", at=LATER)
    assert stored(account)["history"] == [{"from": "NOTIFIED", "to": "PAID", "actor": "wallet:Masrvi",
                                           "at": "2026-11-30T09:31:00Z"}]


@pytest.fixture
def flow(account: Account) -> tuple[Any, Any]:
    """issue_violation and notify, with what they need."""
    account.bucket("FRAMES_BUCKET")
    account.bucket("EVIDENCE_BUCKET")
    for table in ("VEHICLES_TABLE", "FRAMES_TABLE", "VIOLATIONS_TABLE"):
        account.table(table)
    account.parameter((Path(murur.__file__).parent / "fines_default.json").read_text())
    account.put("VEHICLES_TABLE", OWNER)
    account.env("PORTAL_BASE_URL", "https://khidmati.gov.mr/murur")
    account.event_bus()
    return load_function("issue_violation"), load_function("notify")


@pytest.mark.parametrize(("review", "issuer"), [
    (None, "system:issue_violation"),
    (ReviewDecision(outcome=ReviewOutcome.CONFIRMED, plate_text="4821AB00", reviewer="NKC-0042",
                    decided_at=ISSUED_AT), "officer:NKC-0042"),
])
def test_issue_then_notify_leaves_a_history_of_issued_then_notified(
        account: Account, flow: tuple[Any, Any], invoke: Any, review: ReviewDecision | None, issuer: str) -> None:
    issue, notify = flow
    frame = stored_frame(account)
    issued = invoke(issue, issue_input(frame, "4821AB00", review))
    notified = invoke(notify, NotifyInput(frame=frame, execution_arn=EXECUTION_ARN, violation=issued)
                      .model_dump(mode="json"))

    (item,) = account.items("VIOLATIONS_TABLE")
    assert item["status"] == "NOTIFIED"
    first, second = item["history"]
    assert first == {"to": "ISSUED", "actor": issuer, "at": item["issued_at"]}
    assert second == {"from": "ISSUED", "to": "NOTIFIED", "actor": "system:notify", "at": notified["notified_at"]}
    # The audit trail names actors and statuses, never the owner's phone.
    assert OWNER["owner_phone"] not in json.dumps(item["history"])

    # A retried notify leaves the history as it was.
    invoke(notify, NotifyInput(frame=frame, execution_arn=EXECUTION_ARN, violation=issued).model_dump(mode="json"))
    assert account.items("VIOLATIONS_TABLE")[0]["history"] == item["history"]


def test_a_violation_paid_before_its_notice_was_recorded_stays_paid(
        account: Account, flow: tuple[Any, Any], invoke: Any) -> None:
    issue, notify = flow
    frame = stored_frame(account)
    issued = invoke(issue, issue_input(frame, "4821AB00"))
    repository = ViolationsRepository(account.client("dynamodb"), "violations-table")
    repository.transition(issued["violation_id"], S.PAID, actor="wallet:Sedad", at=datetime.now(UTC))

    result = invoke(notify, NotifyInput(frame=frame, execution_arn=EXECUTION_ARN, violation=issued)
                    .model_dump(mode="json"))
    assert result["portal_event_sent"] is True
    (item,) = account.items("VIOLATIONS_TABLE")
    assert item["status"] == "PAID"
    assert [entry["to"] for entry in item["history"]] == ["ISSUED", "PAID"]
