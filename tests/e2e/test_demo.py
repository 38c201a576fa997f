"""`make demo` on a few frames: every frame is accounted for, and the bad uploads are refused for their reason."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from murur.alpr import PlateReader
from murur.local.demo import run_demo, template_decimal

DEPLOYED_THRESHOLD = 0.99


def test_the_demo_accounts_for_every_frame(tmp_path: Path) -> None:
    printed = io.StringIO()
    summary = run_demo(tmp_path, frame_count=9, seed=5, stream=printed)

    assert summary["frames_in"] == 9
    assert sum(summary["frame_statuses"].values()) == 9
    assert sorted(summary["rejections"].values()) == sorted(
        ["CORRUPT_IMAGE", "EMPTY_FILE", "UNKNOWN_CAMERA", "RETIRED_CAMERA", "MISSING_METADATA"]
    )
    assert json.loads((tmp_path / "summary.json").read_text())["frames_in"] == 9
    assert summary["sms_sent"] == len(json.loads((tmp_path / "sms_outbox.json").read_text()))
    assert summary["notices_undelivered"] == 0  # SNS accepts every SMS locally: nothing parked
    text = printed.getvalue()
    assert "9/9]" in text and "Rejected uploads: 5" in text
    # Out of the box the model card's threshold decides: reads that sure skip the officer, the others wait.
    assert f"the model card's {PlateReader.default().auto_issue_threshold:.4f}" in text
    statuses = summary["frame_statuses"]
    decided_outcomes = sum(statuses.get(s, 0) for s in ("VIOLATION_ISSUED", "UNKNOWN_PLATE", "DISCARDED"))
    assert decided_outcomes == summary["reviews_decided"] + summary["issued_without_review"]
    # Citizens object through the HTTP API (the section-control violation at least is theirs to contest);
    # the officer upholds the first and cancels the second.
    objections = summary["citizens_api"]["objections"]
    assert objections and all(o["filed"] == 201 for o in objections.values())
    assert [o["status"] for o in objections.values()] == ["UPHELD", "CANCELLED"][:len(objections)]
    assert "Objections through the citizens' API" in text


def test_the_demos_officer_works_the_review_queue_and_leaves_none_unaccounted(tmp_path: Path) -> None:
    # Auto-issue off, as a deployment may set it: every read goes to an officer, who decides all but three.
    summary = run_demo(tmp_path, frame_count=16, seed=11, stream=io.StringIO(), auto_issue_threshold=1.0)

    statuses = summary["frame_statuses"]
    assert summary["reviews_pending"] == statuses.get("REVIEW_PENDING", 0) <= 3
    assert summary["reviews_decided"] > 0
    decided_outcomes = sum(statuses.get(s, 0) for s in ("VIOLATION_ISSUED", "UNKNOWN_PLATE", "DISCARDED"))
    assert summary["issued_without_review"] == 0
    assert decided_outcomes == summary["reviews_decided"]
    assert summary["violations"] == statuses.get("VIOLATION_ISSUED", 0)


def test_with_auto_issue_on_sure_reads_skip_the_officer_and_every_frame_is_accounted_for(tmp_path: Path) -> None:
    # A deployment that has validated a threshold on its own photos sets it as AutoIssueThreshold; the
    # accounting must hold whatever the value, so the test takes one that some demo reads reach.
    printed = io.StringIO()
    summary = run_demo(tmp_path, frame_count=16, seed=11, stream=printed, auto_issue_threshold=DEPLOYED_THRESHOLD)

    statuses = summary["frame_statuses"]
    assert summary["issued_without_review"] == summary["read_decisions"]["CONFIDENT"] > 0
    assert summary["reviews_decided"] + summary["reviews_pending"] > 0  # the unsure reads still wait for an officer
    assert summary["reviews_pending"] == statuses.get("REVIEW_PENDING", 0)
    decided_outcomes = sum(statuses.get(s, 0) for s in ("VIOLATION_ISSUED", "UNKNOWN_PLATE", "DISCARDED"))
    assert decided_outcomes == summary["reviews_decided"] + summary["issued_without_review"]
    assert f"AutoIssueThreshold {template_decimal(DEPLOYED_THRESHOLD)}:" in printed.getvalue()


def test_a_threshold_reaches_the_template_as_a_plain_decimal() -> None:
    assert [template_decimal(v) for v in (0.9925, 1.0, 0.0, 0.5)] == ["0.9925", "1", "0", "0.5"]
    with pytest.raises(ValueError, match="0..1"):
        template_decimal(1.5)
