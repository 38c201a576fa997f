from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from murur.errors import InvalidPayload, TransientError, aws_errors_as_transient
from murur.tasks import parse_task
from murur.workflow import FrameInput


def client_error(code: str, status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       "PutItem")


@pytest.mark.parametrize("error", [
    client_error("ProvisionedThroughputExceededException"), client_error("ThrottlingException"),
    client_error("InternalServerError", 500), client_error("Whatever", 503),
    EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com"),
])
def test_throttling_and_outages_become_transient_errors_the_state_machine_retries(error: Exception) -> None:
    with pytest.raises(TransientError), aws_errors_as_transient():
        raise error


def test_other_aws_errors_pass_through_unchanged() -> None:
    with pytest.raises(ClientError), aws_errors_as_transient():
        raise client_error("AccessDeniedException")


def test_a_payload_that_breaks_its_model_is_invalid_payload_without_its_values() -> None:
    with pytest.raises(InvalidPayload) as raised:
        parse_task({"frame": {"frame_id": "NKC-1", "bucket": "secret-plate-4821AB00"}, "execution_arn": "x"}, FrameInput)
    assert raised.value.__class__.__name__ == "InvalidPayload"
    assert "frame.sha256" in str(raised.value)
    assert "4821AB00" not in str(raised.value)
