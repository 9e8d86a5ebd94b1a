"""Helpers the benchmarks share with the tests, loaded from this checkout's ``tests/`` by path.

The benchmarks measure whatever ``cognito_helper`` is first on ``sys.path`` (``PYTHONPATH=<an
older tree>`` for a before/after run), so they must not put this checkout's root in front of
it; and an older tree's ``tests`` package may lack these helpers. Loading the file by path
avoids both.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def test_helper(name: str) -> ModuleType:
    """The module ``tests/{name}.py`` of this checkout, as ``_bench_{name}``."""
    module_name = f"_bench_{name}"
    loaded = sys.modules.get(module_name)
    if loaded is not None:
        return loaded
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "tests" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and NamedTuples look their module up
    spec.loader.exec_module(module)
    return module
