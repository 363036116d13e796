"""requirements/lock.txt pins every dependency pyproject.toml names (base and every
extra) at a version its range allows, so nothing installs unpinned and the two
cannot drift apart silently; and make, CI and the images install from it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements" / "lock.txt"


def pins() -> dict[str, str]:
    found = {}
    for line in LOCK.read_text().splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep and re.fullmatch(r"[\w.+!-]+", version), f"not a pin: {line}"
            found[canonicalize_name(name)] = version
    return found


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = [
        *project["dependencies"],
        *(s for extra in project["optional-dependencies"].values() for s in extra),
    ]
    return [r for r in map(Requirement, specs) if canonicalize_name(r.name) != "rapport"]


def test_every_dependency_pyproject_names_is_pinned_within_its_range():
    pinned = pins()
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{name} is not in {LOCK.name}: run make lock"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"{name}=={pinned[name]} is outside {requirement.specifier}: run make lock"
        )


def test_the_lock_names_no_local_path_or_index():
    text = LOCK.read_text()
    assert not re.search(
        r"^(-e |--find-links|--index-url|--extra-index-url|rapport\b)|file://", text, flags=re.M
    )


def test_make_and_the_images_install_from_the_lock():
    makefile = (ROOT / "Makefile").read_text()
    assert "LOCK := requirements/lock.txt" in makefile
    assert "pip install --quiet -c $(LOCK) -e '.[test]'" in makefile
    for dockerfile in (ROOT / "services").glob("*/Dockerfile"):
        assert "-c requirements/lock.txt" in dockerfile.read_text(), dockerfile
