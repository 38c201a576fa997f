from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import murur
from murur.workflow import ReviewDecision, ReviewOutcome, ViolationType

from .conftest import Account, load_function
from .payloads import CAPTURED_AT, frame_jpeg, issue_input, stored_frame

OWNER = {"plate": "4821AB00", "owner_name": "Mohamed Ould Ahmed", "owner_nni": "1234567890",
         "owner_phone": "+22236123456", "language": "ar", "make": "Toyota", "model": "Hilux", "colour": "blanc"}
SCHEDULE = (Path(murur.__file__).parent / "fines_default.json").read_text()


@pytest.fixture
def issue(account: Account) -> Any:
    account.bucket("FRAMES_BUCKET")
    account.bucket("EVIDENCE_BUCKET")
    for table in ("VEHICLES_TABLE", "FRAMES_TABLE", "VIOLATIONS_TABLE"):
        account.table(table)
    account.parameter(SCHEDULE)
    account.put("VEHICLES_TABLE", OWNER)
    return load_function("issue_violation")


def evidence(account: Account, key: str) -> bytes:
    return account.client("s3").get_object(Bucket="evidence-bucket", Key=key)["Body"].read()


def test_a_confident_read_of_a_registered_plate_becomes_a_priced_violation_with_evidence(
        account: Account, issue: Any, invoke: Any) -> None:
    frame = stored_frame(account)
    before = datetime.now(UTC)
    result = invoke(issue, issue_input(frame, "4821AB00"))

    assert result["outcome"] == "ISSUED" and result["notify"] is True and result["plate_text"] == "4821AB00"
    (violation,) = account.items("VIOLATIONS_TABLE")
    assert violation["violation_id"] == result["violation_id"]
    assert violation["violation_id"].startswith("MR26-")
    assert violation["status"] == "ISSUED"
    assert violation["owner_nni"] == OWNER["owner_nni"]
    assert violation["amount_mru"] == 4000  # 27 km/h over: the 20-40 band of the default schedule
    issued_at = datetime.fromisoformat(violation["issued_at"])
    assert issued_at >= before
    assert datetime.fromisoformat(violation["deadline_at"]) - issued_at == timedelta(days=30)
    assert violation["read_source"] == "model" and violation["read_confidence"] == 0.97
    assert violation["frame_sha256"] == frame.sha256
    for name in ("frame", "annotated", "plate"):
        stored = evidence(account, violation[f"evidence_{name}_key"])
        assert violation[f"evidence_{name}_key"].startswith(f"evidence/{violation['violation_id']}/")
        assert hashlib.sha256(stored).hexdigest() == violation[f"evidence_{name}_sha256"]
    assert evidence(account, violation["evidence_frame_key"]) == frame_jpeg()
    (frame_record,) = account.items("FRAMES_TABLE")
    assert frame_record["status"] == "VIOLATION_ISSUED"
    assert frame_record["violation_id"] == violation["violation_id"]


def test_a_retried_issue_finds_its_own_violation(account: Account, issue: Any, invoke: Any) -> None:
    task = issue_input(stored_frame(account), "4821AB00")
    first = invoke(issue, task)
    again = invoke(issue, task)
    assert again == {**first, "outcome": "ALREADY_ISSUED"}
    (violation,) = account.items("VIOLATIONS_TABLE")
    assert violation["violation_id"] == first["violation_id"]


def test_an_unknown_plate_is_recorded_on_the_frame_and_nobody_is_notified(
        account: Account, issue: Any, invoke: Any) -> None:
    result = invoke(issue, issue_input(stored_frame(account), "7777ZZ05"))
    assert result == {"outcome": "UNKNOWN_PLATE", "violation_id": None, "plate_text": "7777ZZ05", "notify": False}
    assert account.items("VIOLATIONS_TABLE") == []
    (frame_record,) = account.items("FRAMES_TABLE")
    assert frame_record["status"] == "UNKNOWN_PLATE"
    assert frame_record["plate"] == "7777ZZ05"


def test_the_officers_correction_wins_over_the_read(account: Account, issue: Any, invoke: Any) -> None:
    account.put("VEHICLES_TABLE", {**OWNER, "plate": "2718EH00", "owner_nni": "5678901234"})
    review = ReviewDecision(outcome=ReviewOutcome.CORRECTED, plate_text="2718 EH 00", reviewer="officer-17",
                            decided_at=CAPTURED_AT + timedelta(hours=1))
    result = invoke(issue, issue_input(stored_frame(account), "2718FH00", review))
    assert result["plate_text"] == "2718EH00"
    (violation,) = account.items("VIOLATIONS_TABLE")
    assert (violation["plate"], violation["owner_nni"]) == ("2718EH00", "5678901234")
    assert violation["read_source"] == "officer" and violation["reviewer"] == "officer-17"


def test_a_red_light_is_priced_by_its_single_amount(account: Account, issue: Any, invoke: Any) -> None:
    frame = stored_frame(account, violation_type=ViolationType.RED_LIGHT, measured=None, limit=None)
    invoke(issue, issue_input(frame, "4821AB00"))
    (violation,) = account.items("VIOLATIONS_TABLE")
    assert violation["amount_mru"] == json.loads(SCHEDULE)["rules"]["RED_LIGHT"][0]["amount_mru"]


def test_without_a_fine_schedule_nothing_is_issued(account: Account, issue: Any, invoke: Any) -> None:
    account.client("ssm").delete_parameter(Name="/murur/test/fine-schedule")
    frame = stored_frame(account)
    with pytest.raises(Exception) as raised:
        invoke(issue, issue_input(frame, "4821AB00"))
    assert type(raised.value).__name__ == "ConfigurationError"
    assert account.items("VIOLATIONS_TABLE") == []
    assert account.items("FRAMES_TABLE")[0]["status"] == "RECEIVED"


def test_a_frame_replaced_after_ingestion_is_not_used_as_evidence(account: Account, issue: Any, invoke: Any) -> None:
    frame = stored_frame(account)
    account.client("s3").put_object(Bucket="frames-bucket", Key=frame.key, Body=frame_jpeg() + b"tampered")
    with pytest.raises(Exception) as raised:
        invoke(issue, issue_input(frame, "4821AB00"))
    assert type(raised.value).__name__ == "FrameChanged"
    assert account.items("VIOLATIONS_TABLE") == []


def test_an_input_that_is_not_an_issue_input_is_invalid_payload(account: Account, issue: Any, invoke: Any) -> None:
    with pytest.raises(Exception) as raised:
        invoke(issue, {"frame": {"frame_id": "x"}})
    assert type(raised.value).__name__ == "InvalidPayload"


def test_a_reference_already_taken_by_another_frame_stops_the_issue(account: Account, issue: Any, invoke: Any) -> None:
    task = issue_input(stored_frame(account), "4821AB00")
    first = invoke(issue, task)
    account.client("dynamodb").update_item(
        TableName="violations-table", Key={"violation_id": {"S": first["violation_id"]}},
        UpdateExpression="SET frame_id = :other", ExpressionAttributeValues={":other": {"S": "NKC-KSR-02-F9"}})
    with pytest.raises(Exception) as raised:
        invoke(issue, task)
    assert type(raised.value).__name__ == "ViolationIdClash"
