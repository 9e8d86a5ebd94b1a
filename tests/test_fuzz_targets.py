"""The atheris fuzz targets in fuzz/ still run: each one's seeds go through its ``TestOneInput``.

A target that calls a function which moved or changed its signature fails on its first input,
so a fuzzing run would stop at once; this catches it without atheris or libFuzzer. Each target
runs in a fresh interpreter (they start loopback servers at import). Where atheris is not
installed, a stand-in provides the two names a target uses at import (``instrument_imports``)
and under ``__main__`` (``Setup``, ``Fuzz``); the seeds are fed directly.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import ROOT

FUZZ = ROOT / "fuzz"
TARGETS = sorted(p.stem for p in FUZZ.glob("fuzz_*.py"))

STAND_IN = '''"""Stand-in for atheris in tests/test_fuzz_targets.py: enough to import a target."""
import contextlib


def instrument_imports(include=None, exclude=None):
    return contextlib.nullcontext()


def Setup(argv, test_one_input, **kwargs):
    raise RuntimeError("the atheris stand-in cannot fuzz: pip install -e '.[fuzz]'")


Fuzz = Setup
'''

RUN_SEEDS = """
import sys
target = __import__({name!r})
seeds = target._seeds()
for seed in seeds:
    target.TestOneInput(seed)
print(len(seeds))
"""


def test_every_target_is_listed_in_the_fuzz_readme() -> None:
    readme = (FUZZ / "README.md").read_text(encoding="utf-8")
    assert TARGETS == ["fuzz_http", "fuzz_responses", "fuzz_verify"]
    assert [t for t in TARGETS if f"`{t}.py`" not in readme] == []


@pytest.mark.parametrize("name", TARGETS)
def test_a_fuzz_target_runs_its_seeds(name: str, tmp_path: Path) -> None:
    paths = [str(FUZZ), str(ROOT)]
    if importlib.util.find_spec("atheris") is None:
        (tmp_path / "atheris.py").write_text(STAND_IN, encoding="utf-8")
        paths.append(str(tmp_path))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [*paths, env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", RUN_SEEDS.format(name=name)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert int(done.stdout.split()[-1]) >= 5, done.stdout
