"""The tests against aws-jwt-verify (Node) run in CI: without node, npm or the npm install they
are skipped locally, with the command that installs them, and fail under ``CI=true``.

Each case runs ``tests/test_alb_differential.py`` in a pytest of its own, with a ``PATH`` that
has no ``node``, or a scratch folder whose npm install cannot reach its registry.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest

from .aws_jwt_verify import NODE_INSTALL
from .helpers import unavailable

pytestmark = pytest.mark.slow  # a pytest in a subprocess

ROOT = Path(__file__).resolve().parents[1]
DIFFERENTIAL = "tests/test_alb_differential.py"


def run_differential(env: Dict[str, str]) -> str:
    """The summary of a pytest run of the differential test in ``env``: its last lines."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rsf", "-p", "no:cacheprovider", DIFFERENTIAL],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.stdout + done.stderr


def environment(tmp_path: Path, ci: bool) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PYTHONPATH"] = str(ROOT)
    env["TMPDIR"] = str(tmp_path)  # a scratch folder of its own: nothing installed there yet
    if ci:
        env["CI"] = "true"
    return env


def without_node(tmp_path: Path, ci: bool) -> Dict[str, str]:
    env = environment(tmp_path, ci)
    empty = tmp_path / "bin"
    empty.mkdir()
    env["PATH"] = str(empty)
    return env


def offline_npm(tmp_path: Path, ci: bool) -> Dict[str, str]:
    if not shutil.which("node") or not shutil.which("npm"):
        unavailable("the npm-install case", "node or npm not found", NODE_INSTALL)
    env = environment(tmp_path, ci)
    env["npm_config_registry"] = "http://127.0.0.1:9/"  # the discard port: refused at once
    env["npm_config_fetch_retries"] = "0"
    env["npm_config_offline"] = "false"
    env["npm_config_cache"] = str(tmp_path / "npm-cache")  # nothing cached to fall back on
    return env


CAUSES = {"no node on PATH": without_node, "npm registry unreachable": offline_npm}


@pytest.mark.parametrize("cause", sorted(CAUSES))
def test_under_ci_a_missing_aws_jwt_verify_fails_the_run(tmp_path: Path, cause: str) -> None:
    summary = run_differential(CAUSES[cause](tmp_path, ci=True))
    counts = summary.strip().splitlines()[-1]
    assert "1 error" in counts and "skipped" not in counts, summary  # its fixture fails
    assert "CI=true but the differential tests against aws-jwt-verify cannot run" in summary


@pytest.mark.parametrize("cause", sorted(CAUSES))
def test_locally_it_is_skipped_with_the_install_command(tmp_path: Path, cause: str) -> None:
    summary = run_differential(CAUSES[cause](tmp_path, ci=False))
    assert "1 skipped" in summary.strip().splitlines()[-1], summary
    assert "apt-get install nodejs npm" in summary, summary
