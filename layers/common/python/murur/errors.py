"""Errors a task raises. The class name is the error name Step Functions matches in Retry and Catch.

`TransientError` is retried by the state machine; every other error is caught and recorded on the
frame (status FAILED, reason_code = the class name, reason = the message), so messages must carry no
personal data: no phone numbers, names, NNI or plate text.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)


class MururError(Exception):
    """Base of the errors a handler lets through to Step Functions."""


class TransientError(MururError):
    """Worth retrying: a dependency was throttled or briefly unavailable."""


class InvalidPayload(MururError):
    """The task's input does not match its workflow model."""


class FrameNotFound(MururError):
    """The frame object is gone from the frames bucket."""


class FrameChanged(MururError):
    """The object under the frame's key is no longer the bytes that were validated (SHA-256 differs)."""


class ViolationNotFound(MururError):
    """A notification was asked for a violation that is not in the table."""


class ViolationIdClash(MururError):
    """Two frames map to the same violation reference; the second is stopped, not merged."""


class TransitionRefused(MururError):
    """A change of a violation's status that its lifecycle does not allow from the status it has now."""


class SmsPublishFailed(MururError):
    """SNS refused or did not answer an SMS Publish. Notify's own Retry backs off and tries again; after
    the last try the notice is parked in the undelivered-notices queue (the message names the error
    code only, never the number)."""


class CorruptRecord(MururError):
    """A stored record does not match its model (named by field, never by value: records hold personal data)."""


class ConfigurationError(MururError):
    """The deployment's configuration (fine schedule, environment) cannot serve this frame."""


# Throttling and brief outages of AWS services: retried by the state machine instead of failing the frame.
_TRANSIENT_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException",
    "ProvisionedThroughputExceededException", "RequestLimitExceeded", "TransactionConflictException",
    "InternalError", "InternalServerError", "InternalFailure", "ServiceUnavailable", "SlowDown",
})


@contextmanager
def aws_errors_as_transient() -> Iterator[None]:
    """Re-raise AWS throttling, 5xx and connection errors as TransientError, so Retry applies."""
    try:
        yield
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in _TRANSIENT_CODES or status >= 500:
            raise TransientError(f"{error.operation_name}: {code}") from error
        raise
    except (EndpointConnectionError, ConnectionClosedError, ReadTimeoutError, ConnectTimeoutError) as error:
        raise TransientError(type(error).__name__) from error
