"""Each service's image installs Rapport's shared library, that service and its own
extra only, from the lock file, and runs as a fixed non-root user with a health
check; and each service's code imports nothing that the base dependencies and its
own extra do not bring (so a library moved to one service's extra cannot leave
another's image without it)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from functools import cache
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("customer", "calls", "sales", "reporting")
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def final_stage(service: str) -> str:
    text = (ROOT / "services" / service / "Dockerfile").read_text()
    return re.split(r"^FROM ", text, flags=re.M)[-1]


@pytest.mark.parametrize("service", SERVICES)
def test_the_image_installs_its_service_and_extra_only_from_the_lock(service):
    text = (ROOT / "services" / service / "Dockerfile").read_text()
    assert f'-c requirements/lock.txt ".[{service}]"' in text
    copied = set(re.findall(r"^COPY (services/\S+)", text, flags=re.M))
    assert copied == {"services/__init__.py", f"services/{service}"}


@pytest.mark.parametrize("service", SERVICES)
def test_the_image_runs_as_a_fixed_non_root_user_with_a_health_check(service):
    stage = final_stage(service)
    users = re.findall(r"^USER (\S+)", stage, flags=re.M)
    assert users == ["10001:10001"]
    assert re.search(
        r"^HEALTHCHECK .*\n?.*CMD \[\"python\", \"-m\", \"deploy.healthcheck\"\]", stage, flags=re.M
    )
    assert f"RAPPORT_SERVICE={service}" in stage


def test_every_service_has_an_extra_and_test_installs_them_all():
    extras = PROJECT["optional-dependencies"]
    assert set(SERVICES) | {"bench", "test"} <= set(extras)
    test = [Requirement(r) for r in extras["test"]]
    own = next(r for r in test if canonicalize_name(r.name) == "rapport")
    assert own.extras == set(SERVICES) | {"bench"}


def requirement_names(specs) -> set[str]:
    return {canonicalize_name(Requirement(s).name) for s in specs} - {"rapport"}


@cache
def closure(names: frozenset[str]) -> frozenset[str]:
    """The distributions ``names`` bring, their own requirements included (markers
    for extras left out)."""
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for spec in metadata.requires(name) or ():
            requirement = Requirement(spec)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(canonicalize_name(requirement.name))
    return frozenset(seen)


def third_party_imports(folder: Path) -> dict[str, str]:
    """Top-level modules imported under ``folder`` that are neither the standard
    library nor Rapport's own, each with one file importing it."""
    found = {}
    for path in folder.rglob("*.py"):
        if any(path.is_relative_to(left_out) for left_out in NOT_IN_IMAGES):
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in (
                    "shared",
                    "services",
                    "deploy",
                    "bench",
                ):
                    found.setdefault(top, str(path.relative_to(ROOT)))
    return found


# What .dockerignore keeps out of every image (its plain paths, not its patterns).
NOT_IN_IMAGES = [
    ROOT / line.strip()
    for line in (ROOT / ".dockerignore").read_text().splitlines()
    if line.strip() and not line.startswith("#") and "*" not in line
]


@cache
def providers() -> dict[str, list[str]]:
    return metadata.packages_distributions()


def missing(folder: Path, extras: tuple[str, ...]) -> dict[str, str]:
    declared = requirement_names(PROJECT["dependencies"])
    for extra in extras:
        declared |= requirement_names(PROJECT["optional-dependencies"][extra])
    available = closure(frozenset(declared))
    return {
        module: where
        for module, where in third_party_imports(folder).items()
        if not {canonicalize_name(d) for d in providers().get(module, [module])} & available
    }


@pytest.mark.parametrize(
    "folder, extras",
    [
        ("shared", ()),
        ("deploy", ()),
        *((f"services/{s}", (s,)) for s in SERVICES),
        ("bench", ("bench",)),
    ],
)
def test_the_code_imports_only_what_its_dependencies_bring(folder, extras):
    assert missing(ROOT / folder, extras) == {}


def test_a_library_of_another_services_extra_is_found_missing():
    assert set(missing(ROOT / "services/reporting", ("calls",))) == {"scipy", "matplotlib", "numpy"}
    assert set(missing(ROOT / "services/calls", ())) == {"dateutil", "holidays", "icalendar"}
