"""Python 3.10 is the oldest supported version, and every tool is told so."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import pytest

tomllib = pytest.importorskip("tomllib")  # in the standard library from Python 3.11

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def pyproject() -> Dict[str, Any]:
    with open(ROOT / "pyproject.toml", "rb") as file:
        return tomllib.load(file)  # type: ignore[no-any-return]


def test_the_package_requires_python_3_10_or_newer(pyproject: Dict[str, Any]) -> None:
    assert pyproject["project"]["requires-python"] == ">=3.10"


def test_the_classifiers_name_3_10_as_the_oldest_version(pyproject: Dict[str, Any]) -> None:
    versions = [
        c.rsplit(" :: ", 1)[1]
        for c in pyproject["project"]["classifiers"]
        if c.startswith("Programming Language :: Python :: 3.")
    ]
    assert versions and min(versions, key=lambda v: tuple(map(int, v.split(".")))) == "3.10"


def test_ruff_and_mypy_check_for_python_3_10(pyproject: Dict[str, Any]) -> None:
    assert pyproject["tool"]["ruff"]["target-version"] == "py310"
    assert pyproject["tool"]["mypy"]["python_version"] == "3.10"
