"""recognize_plate runs the real plate reader: never a stand-in. Without the shipped models it fails
loudly (ModelNotAvailable, recorded on the frame by the state machine); with them it reads a synthetic scene."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import murur
from murur.workflow import FrameInput

from .conftest import Account, load_function
from .payloads import EXECUTION_ARN, stored_frame

MODELS_SHIPPED = (Path(murur.__file__).parent / "alpr" / "models" / "model_card.json").exists()


@pytest.fixture
def recognize(account: Account) -> Any:
    account.bucket("FRAMES_BUCKET")
    account.table("FRAMES_TABLE")
    return load_function("recognize_plate")


def scene(plate: str) -> bytes:
    from murur.alpr.synth import PlateSpec, compose_scene

    rng = np.random.default_rng(7)
    return compose_scene(rng, [PlateSpec.for_text(plate)], size=(1280, 720), clean=True).to_jpeg(quality=90)


@pytest.mark.skipif(MODELS_SHIPPED, reason="the plate reader's models are shipped")
def test_without_the_models_the_task_fails_instead_of_guessing(account: Account, recognize: Any, invoke: Any) -> None:
    task = FrameInput(frame=stored_frame(account), execution_arn=EXECUTION_ARN).model_dump(mode="json")
    with pytest.raises(Exception) as raised:
        invoke(recognize, task)
    assert type(raised.value).__name__ == "ModelNotAvailable"


@pytest.mark.skipif(not MODELS_SHIPPED, reason="the plate reader's models (murur/alpr/models) are not in the tree yet")
def test_the_shipped_readers_reads_are_reported_and_decided(account: Account, recognize: Any, invoke: Any) -> None:
    # The reader's accuracy is measured elsewhere (docs/BENCHMARKS.md); here: the task reports what
    # the shipped reader reads in the frame, decided against the model card's threshold.
    from murur.alpr import PlateReader
    from murur.recognition import decide, payload

    body = scene("4821AB00")
    reader = PlateReader.default()
    expected = [payload(read) for read in reader.read(body) if read.text]
    task = FrameInput(frame=stored_frame(account, body=body), execution_arn=EXECUTION_ARN)
    result = invoke(recognize, task.model_dump(mode="json"))
    assert [plate["text"] for plate in result["plates"]] == [read.text for read in expected]
    assert result["threshold"] == reader.auto_issue_threshold
    assert result["decision"] == decide(expected, reader.auto_issue_threshold)
    assert result["model_version"] == reader.model_version


@pytest.mark.skipif(not MODELS_SHIPPED, reason="the plate reader's models (murur/alpr/models) are not in the tree yet")
def test_the_deployment_threshold_overrides_the_model_card(account: Account, recognize: Any, invoke: Any) -> None:
    account.env("AUTO_ISSUE_THRESHOLD", "1")
    task = FrameInput(frame=stored_frame(account, body=scene("4821AB00")), execution_arn=EXECUTION_ARN)
    result = invoke(recognize, task.model_dump(mode="json"))
    assert result["threshold"] == 1.0
    assert result["decision"] in {"UNSURE", "NO_PLATE"}


def test_a_frame_changed_since_ingestion_is_not_read(account: Account, recognize: Any, invoke: Any) -> None:
    frame = stored_frame(account)
    account.client("s3").put_object(Bucket=frame.bucket, Key=frame.key, Body=b"replaced")
    with pytest.raises(Exception) as raised:
        invoke(recognize, FrameInput(frame=frame, execution_arn=EXECUTION_ARN).model_dump(mode="json"))
    assert type(raised.value).__name__ == "FrameChanged"
