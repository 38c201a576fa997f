"""The numerical stack is pinned once, in constraints.txt, for the development install; what `sam build`
installs into Lambda must be the same versions, so the deployed reader behaves as the evaluated one."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

from murur.local.template import REPOSITORY_ROOT

LAMBDA_REQUIREMENTS = (
    REPOSITORY_ROOT / "layers/common/python/requirements.txt",
    REPOSITORY_ROOT / "functions/recognize_plate/requirements.txt",
)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements(path: Path) -> dict[str, Requirement]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return {_canonical(r.name): r for r in map(Requirement, filter(None, lines))}


def _pinned(requirement: Requirement) -> str | None:
    exact = [s.version for s in requirement.specifier if s.operator == "=="]
    return exact[0] if exact else None


CONSTRAINTS = _requirements(REPOSITORY_ROOT / "constraints.txt")


def test_every_constraint_is_an_exact_version():
    assert CONSTRAINTS
    assert all(_pinned(r) for r in CONSTRAINTS.values()), [str(r) for r in CONSTRAINTS.values() if not _pinned(r)]


def test_lambda_requirements_pin_the_constrained_packages_to_the_same_versions():
    shipped = {name: r for path in LAMBDA_REQUIREMENTS for name, r in _requirements(path).items()}
    constrained = {name: r for name, r in shipped.items() if name in CONSTRAINTS}
    # The reader's own numerics (arrays, image decoding) must be among them.
    assert {"numpy", "pillow"} <= constrained.keys()
    assert {name: _pinned(r) for name, r in constrained.items()} == {
        name: _pinned(CONSTRAINTS[name]) for name in constrained}


def test_the_development_install_has_the_constrained_versions():
    installed = {name: metadata.version(name) for name in CONSTRAINTS}
    assert installed == {name: _pinned(r) for name, r in CONSTRAINTS.items()}
