"""What `sam build` installs for recognize_plate: it must fit Lambda's 250 MB unzipped limit
(function + layers), measured from .venv, and carry the numerical stack at the versions the
development install pins in constraints.txt, so the deployed reader behaves as the evaluated one.

The sizes come from the RECORD files of the installed distributions (what `sam build` installs
from layers/common/python/requirements.txt and functions/recognize_plate/requirements.txt, with
their dependencies), plus the murur package itself with its models. Nothing is subtracted for the
boto3 that Lambda provides: the layer's dependencies pull botocore in anyway (aws-xray-sdk), and
`sam build` installs it. (Measured with `sam build` on x86_64: 67 MB layer + 129 MB function
before the models.)
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

from murur.local.template import REPOSITORY_ROOT

LAMBDA_LIMIT_BYTES = 250 * 1024 * 1024
LAMBDA_REQUIREMENTS = (
    REPOSITORY_ROOT / "layers/common/python/requirements.txt",
    REPOSITORY_ROOT / "functions/recognize_plate/requirements.txt",
)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements(path: Path) -> list[Requirement]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line]


def _closure(roots: list[Requirement]) -> set[str]:
    """Every distribution the requirements pull in, following extras and environment markers."""
    seen: set[str] = set()
    pending = [(root, frozenset(root.extras)) for root in roots]
    while pending:
        requirement, extras = pending.pop()
        name = _canonical(requirement.name)
        if name in seen and not extras:
            continue
        seen.add(name)
        for dependency in metadata.requires(name) or []:
            child = Requirement(dependency)
            environment_ok = child.marker is None or any(
                child.marker.evaluate({"extra": extra}) for extra in (extras or {""})
            )
            if environment_ok:
                pending.append((child, frozenset(child.extras)))
    return seen


def _installed_bytes(distribution: str) -> int:
    files = metadata.files(distribution) or []
    # Bytecode is written at install time here; sam build ships sources only.
    return sum(f.size or 0 for f in files if f.hash is not None and "__pycache__" not in f.parts)


def _tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def test_recognize_plate_package_fits_in_lambda() -> None:
    roots = [requirement for path in LAMBDA_REQUIREMENTS for requirement in _requirements(path)]
    distributions = _closure(roots)
    assert {"numpy", "onnxruntime", "pydantic", "aws-lambda-powertools"} <= distributions
    sizes = {name: _installed_bytes(name) for name in distributions}
    murur_package = _tree_bytes(REPOSITORY_ROOT / "layers/common/python/murur")
    function_code = _tree_bytes(REPOSITORY_ROOT / "functions/recognize_plate")
    total = sum(sizes.values()) + murur_package + function_code
    largest = ", ".join(f"{n} {s / 2**20:.0f} MB" for n, s in sorted(sizes.items(), key=lambda i: -i[1])[:6])
    assert total <= LAMBDA_LIMIT_BYTES, f"{total / 2**20:.0f} MB > 250 MB ({largest})"
    # opencv must stay out of the Lambda: alone it would take about 150 MB.
    assert "opencv-python-headless" not in distributions and "opencv-python" not in distributions


def _pinned(requirement: Requirement) -> str | None:
    exact = [s.version for s in requirement.specifier if s.operator == "=="]
    return exact[0] if exact else None


CONSTRAINTS = {_canonical(r.name): r for r in _requirements(REPOSITORY_ROOT / "constraints.txt")}


def test_every_constraint_is_an_exact_version() -> None:
    assert CONSTRAINTS
    assert all(_pinned(r) for r in CONSTRAINTS.values()), [str(r) for r in CONSTRAINTS.values() if not _pinned(r)]


def test_lambda_requirements_pin_the_constrained_packages_to_the_same_versions() -> None:
    shipped = {_canonical(r.name): r for path in LAMBDA_REQUIREMENTS for r in _requirements(path)}
    constrained = {name: _pinned(r) for name, r in shipped.items() if name in CONSTRAINTS}
    # The reader's own numerics (arrays, image decoding) must be among them.
    assert {"numpy", "pillow"} <= constrained.keys()
    assert constrained == {name: _pinned(CONSTRAINTS[name]) for name in constrained}


def test_the_development_install_has_the_constrained_versions() -> None:
    installed = {name: metadata.version(name) for name in CONSTRAINTS}
    assert installed == {name: _pinned(r) for name, r in CONSTRAINTS.items()}
