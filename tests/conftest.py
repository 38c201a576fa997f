"""Shared fixtures: a freshly provisioned local stack (template.yaml on moto) per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

import murur

# The local stacks of the running test: a failing test's report carries what each one's frames
# went through (LocalStack.diagnosis), so a failure seen once under load can be told apart.
_stacks_in_test: list["murur.local.LocalStack"] = []
_diagnoses_of_closed_stacks: list[str] = []


@pytest.fixture(autouse=True)
def _diagnose_local_stacks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from murur.local import LocalStack

    enter, exit_ = LocalStack.__enter__, LocalStack.__exit__

    def entering(stack: LocalStack) -> LocalStack:
        entered = enter(stack)
        _stacks_in_test.append(stack)
        return entered

    def exiting(stack: LocalStack, *exc_info: object) -> None:
        if stack in _stacks_in_test:  # closed during the test itself (the demo's): diagnosed now or never
            _stacks_in_test.remove(stack)
            _diagnoses_of_closed_stacks.append(_diagnose(stack))
        exit_(stack, *exc_info)

    monkeypatch.setattr(LocalStack, "__enter__", entering)
    monkeypatch.setattr(LocalStack, "__exit__", exiting)
    yield
    _stacks_in_test.clear()
    _diagnoses_of_closed_stacks.clear()


def _diagnose(stack: "murur.local.LocalStack") -> str:
    try:
        return stack.diagnosis()
    except Exception as error:  # noqa: BLE001 - a report must not hide the test's own failure
        return f"no diagnosis: {type(error).__name__}: {error}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when != "call":
        return
    if report.failed:
        diagnoses = _diagnoses_of_closed_stacks + [_diagnose(stack) for stack in _stacks_in_test]
        for number, diagnosis in enumerate(diagnoses, 1):
            report.sections.append((f"local stack {number}", diagnosis))
    # The fixtures' stacks close at teardown, after the report: not worth diagnosing then.
    _stacks_in_test.clear()


@pytest.fixture
def make_stack() -> Iterator[Callable[..., "murur.local.LocalStack"]]:
    """Provision a local stack with template parameter overrides; torn down after the test."""
    from murur.local import LocalStack
    from murur.local.seed import seed_registry

    with ExitStack() as exits:

        def provision(seeded: bool = True, **parameters: str) -> LocalStack:
            stack = exits.enter_context(LocalStack(parameters, log_level="WARNING"))
            if seeded:
                seed_registry(stack)
            return stack

        yield provision


@pytest.fixture
def stack(make_stack: Callable[..., "murur.local.LocalStack"]) -> "murur.local.LocalStack":
    """A provisioned local stack with the demo registry (cameras, vehicles) and the default fine schedule."""
    return make_stack()
