"""aws-jwt-verify 5.x, the Node peer the differential tests and the benchmarks compare with.

It is installed once with ``npm`` into a scratch folder outside the repository and reused by
every later run. ``tests/test_alb_differential.py`` and ``benchmarks/bench_verify.py`` (which
puts the repository root on ``sys.path`` for it, as ``bench_m2m.py`` does for
``tests/redis_server.py``) both get it here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from typing import NamedTuple

#: The scratch folder: ``node_modules/aws-jwt-verify`` below it, and the scripts run there.
SCRATCH = os.path.join(tempfile.gettempdir(), "cognito-helper-bench-node")


class NodePackage(NamedTuple):
    """An installed aws-jwt-verify 5.x: the ``node`` to run, the folder, the package version."""

    node: str
    folder: str
    version: str

    def write_script(self, name: str, text: str) -> str:
        """Write ``text`` to ``name`` in the folder (so ``require`` finds the package); its path."""
        path = os.path.join(self.folder, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path


#: How to get what :func:`install_aws_jwt_verify` needs, for the message of a test that cannot run.
NODE_INSTALL = "apt-get install nodejs npm (or any Node.js with npm), and reach the npm registry"


class NodeUnavailable(Exception):
    """node or npm is missing, or the install failed; the message says which."""


def install_aws_jwt_verify() -> NodePackage:
    """aws-jwt-verify 5.x in :data:`SCRATCH`, installed with npm unless it already is.

    Raises :class:`NodeUnavailable` when node or npm is not found or the install fails (npm
    may be offline).
    """
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        raise NodeUnavailable("node or npm not found")
    os.makedirs(SCRATCH, exist_ok=True)
    version = _installed_version()
    if not version.startswith("5."):
        command = [npm, "install", "--prefix", SCRATCH, "--no-audit", "--no-fund", "--silent"]
        try:
            subprocess.run(
                [*command, "--no-save", "aws-jwt-verify@5"],
                check=True,
                capture_output=True,
                timeout=300,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise NodeUnavailable(
                f"npm install aws-jwt-verify@5 failed: {type(exc).__name__}"
            ) from None
        version = _installed_version()
        if not version.startswith("5."):
            raise NodeUnavailable(f"npm install aws-jwt-verify@5 left version {version!r}")
    return NodePackage(node, SCRATCH, version)


def _installed_version() -> str:
    manifest = os.path.join(SCRATCH, "node_modules", "aws-jwt-verify", "package.json")
    try:
        with open(manifest, encoding="utf-8") as f:
            version = json.load(f).get("version", "")
    except (OSError, ValueError, AttributeError):
        return ""
    return version if isinstance(version, str) else ""
