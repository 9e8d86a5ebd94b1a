"""The package's import rules, checked by import-linter as ``.ci/run`` does.

pyproject.toml's ``[tool.importlinter]`` holds the contracts: the layers (cli > testing >
integrations > oauth | verification > settings > core), the layers never importing the public
facade modules nor the root package, and no module using another module's private name (the
custom contract in ``tests/import_contracts.py``). ``lint-imports`` runs on this checkout; then
on a copy of the package with one rule broken at a time, to show each contract catches it.

Needs import-linter (the test extra): skipped without it locally, failed under ``CI=true``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import List

import pytest

from .helpers import unavailable

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def lint_imports() -> List[str]:
    """The ``lint-imports`` command of this interpreter's import-linter; or a skip."""
    try:
        import importlinter  # noqa: F401
    except ImportError:
        unavailable(
            "the import contracts",
            "import-linter is not installed",
            "pip install -e '.[test]'",
        )
    beside = Path(sys.executable).with_name("lint-imports")
    command = str(beside) if beside.exists() else shutil.which("lint-imports")
    if not command:
        unavailable(
            "the import contracts",
            "lint-imports is not on PATH",
            "pip install -e '.[test]'",
        )
    return [command, "--no-cache"]


def run(command: List[str], tree: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` in ``tree`` (its package first on the path), one line per finding."""
    env = dict(os.environ, PYTHONPATH=str(tree), COLUMNS="400", NO_COLOR="1", TERM="dumb")
    chosen = [arg for contract in contracts for arg in ("--contract", contract)]
    return subprocess.run(
        [*command, *chosen], cwd=tree, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_package_keeps_every_import_contract(lint_imports: List[str]) -> None:
    done = run(lint_imports, ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 kept, 0 broken" in done.stdout, done.stdout


@pytest.fixture()
def copy(tmp_path: Path) -> Path:
    """A copy of the package, the configuration and the custom contract, to break on purpose."""
    shutil.copytree(
        ROOT / "cognito_helper",
        tmp_path / "cognito_helper",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "__init__.py").write_text("")
    shutil.copy(ROOT / "tests" / "import_contracts.py", tmp_path / "tests")
    return tmp_path


def append(tree: Path, module: str, line: str) -> int:
    """Append ``line`` to ``module`` (a path below ``cognito_helper/``); its line number."""
    path = tree / "cognito_helper" / module
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    path.write_text(text + line + "\n", encoding="utf-8")
    return text.count("\n") + 1


# (contract id, module to change, line appended, what the report must name)
BROKEN = [
    (
        "layers",
        "core/errors.py",
        "from ..settings import config",
        "cognito_helper.core.errors -> cognito_helper.settings.config (l.{n})",
    ),
    (
        "layers",
        "settings/urls.py",
        "from ..verification import jws",
        "cognito_helper.settings.urls -> cognito_helper.verification.jws (l.{n})",
    ),
    (
        "layers",
        "verification/jws.py",
        "from ..oauth import token_store",
        "cognito_helper.verification.jws -> cognito_helper.oauth.token_store (l.{n})",
    ),
    (
        "layers",
        "testing/keys.py",
        "from ..cli import context",
        "cognito_helper.testing.keys -> cognito_helper.cli.context (l.{n})",
    ),
    ("layers", "new_module.py", "X = 1", "- cognito_helper.new_module"),
    (
        "facades",
        "integrations/flask.py",
        "from ..config import CognitoConfig",
        "cognito_helper.integrations.flask -> cognito_helper.config (l.{n})",
    ),
    (
        "facades",
        "core/http.py",
        "from .. import errors",
        "cognito_helper.core.http -> cognito_helper.errors (l.{n})",
    ),
    (
        "root",
        "verification/memo.py",
        "from .. import CognitoConfig",
        "cognito_helper.verification.memo -> cognito_helper (l.{n})",
    ),
    (
        "private-names",
        "oauth/token_store.py",
        "from ..core.encoding import _x",
        "cognito_helper.oauth.token_store (l.{n}): from cognito_helper.core.encoding import _x",
    ),
]


@pytest.mark.parametrize(
    ("contract", "module", "line", "named"), BROKEN, ids=[f"{b[0]}:{b[1]}" for b in BROKEN]
)
def test_each_contract_catches_its_rule_broken(
    lint_imports: List[str], copy: Path, contract: str, module: str, line: str, named: str
) -> None:
    number = append(copy, module, line)
    done = run(lint_imports, copy, contract)
    assert done.returncode == 1, done.stdout + done.stderr
    assert named.format(n=number) in done.stdout, done.stdout


# -- the private-names reader on a package of its own -------------------------------------------

PACKAGE = {
    "__init__.py": "from .a import _own_init  # its own package: scope package allows it\n",
    "a.py": "_hidden = 1\n_own_init = 2\n",
    "b.py": """\
        from __future__ import annotations
        from . import a as _a
        from .a import (
            public,
            _hidden,
        )
        from .sub import c
        import pkg.sub.c
        import pkg.a as alias

        __all__ = ["x"]
        _private_here = 1
        print(_private_here, alias.__name__, c.public, _a.public)


        def later():
            from .sub.c import _lazy as renamed
            return _a._secret, pkg.sub.c._deep, alias._other, renamed
        """,
    "sub/__init__.py": "",
    "sub/c.py": "from . import d\nfrom .d import _sibling\nprint(d._in_package)\n",
    "sub/d.py": "",
}


@pytest.fixture()
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    for name, text in PACKAGE.items():
        path = tmp_path / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(tmp_path))
    return "pkg"


def test_private_names_of_another_module_are_found_in_every_form(package: str) -> None:
    try:
        from .import_contracts import private_reaches
    except ImportError:
        unavailable(
            "the import contracts", "import-linter is not installed", "pip install -e '.[test]'"
        )
    found = {(r.importer, r.line, r.text) for r in private_reaches(package, "module")}
    assert found == {
        ("pkg", 1, "from pkg.a import _own_init"),
        ("pkg.b", 3, "from pkg.a import _hidden"),  # the first line of a (...) list
        ("pkg.b", 17, "from pkg.sub.c import _lazy"),  # inside a function
        ("pkg.b", 18, "_a._secret"),  # a private alias of a public module
        ("pkg.b", 18, "pkg.sub.c._deep"),  # the dotted chain of a plain import
        ("pkg.b", 18, "alias._other"),
        ("pkg.sub.c", 2, "from pkg.sub.d import _sibling"),
        ("pkg.sub.c", 3, "d._in_package"),
    }
    # "package" allows a module's own package; pkg/__init__ and pkg.a share one, so do c and d
    by_package = {(r.importer, r.text) for r in private_reaches(package, "package")}
    assert by_package == {
        ("pkg.b", "from pkg.sub.c import _lazy"),
        ("pkg.b", "pkg.sub.c._deep"),
    }
