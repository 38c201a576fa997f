"""Lambda functions of the local stack, run in-process.

moto's Step Functions interpreter invokes Lambda through moto's Lambda backend; without Docker that
backend only echoes. The local stack replaces its ``invoke`` with a dispatcher to the real handlers
(``functions/<name>/app.py``), so the real ASL drives the real code. The replacement touches moto
internals, which is why moto is pinned in pyproject.toml.

A handler that raises is reported the way Lambda reports it: the ``X-Amz-Function-Error`` header
and a payload with ``errorType`` = the exception's class name, which Step Functions matches against
Retry and Catch.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

from moto.awslambda_simple.models import LambdaSimpleBackend

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass(frozen=True)
class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = field(default=0.0)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class LocalFunction:
    logical_id: str
    name: str
    arn: str
    code_path: Path
    handler_name: str
    environment: dict[str, str]
    memory_mb: int
    timeout_seconds: int
    _handler: Handler | None = None

    def handler(self) -> Handler:
        if self._handler is None:
            # A unique module name per function: every handler file is called app.py.
            module_name = f"murur_local_function_{self.logical_id}"
            spec = importlib.util.spec_from_file_location(module_name, self.code_path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {self.code_path}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            self._handler = getattr(module, self.handler_name)
        return self._handler


@dataclass(frozen=True)
class Invocation:
    """One call of a function, kept for the demo's summary and the tests."""

    function: str
    event: Any
    result: Any
    error_type: str | None
    error_message: str | None
    seconds: float


class FunctionError(Exception):
    """A handler raised; carries what Lambda would put in the error payload."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message


class LocalFunctions:
    """The template's functions by name, and the dispatcher moto's Lambda backend calls."""

    def __init__(self, functions: list[LocalFunction]) -> None:
        self._by_name = {function.name: function for function in functions}
        self._by_logical_id = {function.logical_id: function for function in functions}
        # One handler at a time, as each would run in its own container: handlers share this
        # process's environment variables, which are set per call.
        self._lock = threading.RLock()
        self.invocations: list[Invocation] = []
        self.fault_injections: dict[str, Exception] = {}

    def __getitem__(self, logical_id: str) -> LocalFunction:
        return self._by_logical_id[logical_id]

    def __iter__(self) -> Iterator[LocalFunction]:
        return iter(self._by_logical_id.values())

    def invoke(self, logical_id: str, event: Any) -> Any:
        """Call a function's handler directly, as an event source would; raises FunctionError."""
        return self._call(self._by_logical_id[logical_id], event)

    def _call(self, function: LocalFunction, event: Any) -> Any:
        with self._lock, _environment(function.environment):
            started = time.monotonic()
            context = LambdaContext(
                function_name=function.name,
                invoked_function_arn=function.arn,
                memory_limit_in_mb=function.memory_mb,
                timeout_seconds=function.timeout_seconds,
                log_group_name=f"/aws/lambda/{function.name}",
                _deadline=started + function.timeout_seconds,
            )
            try:
                injected = self.fault_injections.get(function.logical_id)
                if injected is not None:
                    raise injected
                result = function.handler()(event, context)
            except Exception as error:  # noqa: BLE001 - every handler failure becomes a Lambda error
                self.invocations.append(
                    Invocation(function.logical_id, event, None, type(error).__name__, str(error),
                               time.monotonic() - started)
                )
                raise FunctionError(type(error).__name__, str(error)) from error
            self.invocations.append(
                Invocation(function.logical_id, event, result, None, None, time.monotonic() - started)
            )
            return result

    def moto_invoke(
        self, backend: LambdaSimpleBackend, function_name: str, qualifier: str | None, body: Any,
        headers: Any, response_headers: dict[str, str],
    ) -> bytes:
        """Stands in for LambdaSimpleBackend.invoke (same signature, moto 5.2.5)."""
        name = backend.get_function(function_name, qualifier).function_name
        function = self._by_name[name]
        event = json.loads(body) if body else {}
        try:
            result = self._call(function, event)
        except FunctionError as error:
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({
                "errorType": error.error_type,
                "errorMessage": error.message,
                "stackTrace": traceback.format_exception(error.__cause__)[-6:],
            }).encode()
        return json.dumps(result, default=str).encode()

    @contextmanager
    def dispatching(self) -> Iterator[None]:
        functions = self

        def invoke(backend: LambdaSimpleBackend, *args: Any, **kwargs: Any) -> bytes:
            return functions.moto_invoke(backend, *args, **kwargs)

        with mock.patch.object(LambdaSimpleBackend, "invoke", invoke):
            yield


# Every change to this process's environment variables goes through this lock: a handler's variables
# are set for its call on a Step Functions thread while a stack starts or stops on the main thread.
_environment_lock = threading.RLock()


@contextmanager
def process_environment(variables: dict[str, str]) -> Iterator[None]:
    """`variables` set in os.environ until exit, then each restored (or removed) under the lock.

    Not mock.patch.dict(os.environ): its exit clears and refills the whole environment, which a
    handler's call on another thread would see half done."""
    with _environment_lock:
        saved = {name: os.environ.get(name) for name in variables}
        os.environ.update(variables)
    try:
        yield
    finally:
        with _environment_lock:
            _restore(saved)


@contextmanager
def _environment(variables: dict[str, str]) -> Iterator[None]:
    """The function's variables for the duration of one call, as Lambda sets them per container."""
    from murur.settings import settings

    with _environment_lock:  # held for the whole call: one handler's variables at a time
        try:
            with process_environment(variables):
                settings.cache_clear()
                yield
        finally:
            settings.cache_clear()


def _restore(saved: dict[str, str | None]) -> None:
    for name, value in saved.items():
        if value is not None:
            os.environ[name] = value
        else:
            # A deletion by a writer outside the lock (a test's monkeypatch) must not fail the task:
            # the variable is gone either way.
            with suppress(KeyError):
                del os.environ[name]
