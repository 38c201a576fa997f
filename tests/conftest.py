"""Shared fixtures: a freshly provisioned local stack (template.yaml on moto) per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

import murur


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
