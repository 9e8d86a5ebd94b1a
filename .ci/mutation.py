#!/usr/bin/env python3
"""Mutation testing for cognito_helper: stdlib only, AST-based, deterministic.

    python .ci/mutation.py --rev HEAD --out /tmp/mut_before.json
    python .ci/mutation.py --tree . --out /tmp/mut_after.json   # working tree, uncommitted too
    python .ci/mutation.py --rev HEAD --out /tmp/x.json --modules _http _memo --limit 5
    python .ci/mutation.py --rev HEAD --out /tmp/x.json --dry-run   # list the sampled mutants
    python .ci/mutation.py --rev HEAD --out /tmp/x.json --modules issue19   # the issue-19 set

What it does (see .ci/mutation.md for the rules in full):

1. Copies the code under test (``git archive REV``, or a copy of ``--tree DIR``) to a private
   directory; /work/main itself is never written to.
2. Enumerates every mutation point of each module (flipped comparison, raise -> pass, changed
   number, negated if/while/ternary condition, and<->or, ``not x`` -> ``x``, ``return True`` <->
   ``return False``), skipping docstrings, logging calls, ``__repr__``, annotations, ``assert``
   and ``if TYPE_CHECKING``; then samples, with a fixed seed, as many per module as the outside
   review sampled (35/35/55/40/125/20) or issue 19 asked for (about 200 over the guards, bearer,
   m2m, the token stores and alb; ``--modules issue19``), or all of them if there are fewer.
3. Runs the module's mapped test files once unmutated (they must pass, and none may be skipped:
   a skipped test kills nothing; this also gives their times) and once under a line tracer,
   which records which test executes which line.
4. For each mutant: writes the mutated module into the copy and runs, with
   ``python -m pytest -x -q -p no:cacheprovider -p no:randomly`` (cwd = the copy, niced), the
   mapped tests that execute the mutated line, in the mapped file order. Mutants at module
   level (including default values), in functions that assign a ``global`` (the lazily built
   HTTP session), on lines run at import time, or on lines run by a fixture run every mapped
   test (or every test of that file). A mutant no mapped test executes survives without a run.
   A failing test, a collection error or a timeout kills it.
5. Writes ``--out`` (JSON, rewritten after every mutant) and a readable report next to it
   (same name, ``.txt``): per-module killed/total, overall %, and every survivor with
   file:line, the original and the mutated line.
"""

from __future__ import annotations

import argparse
import ast
import copy
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Set, Tuple

TOOL_VERSION = 4
DEFAULT_SEED = 20261127
PACKAGE = "cognito_helper"

#: Mutants per module: the outside review's sample (310 in all), then issue 19's (210 in all,
#: weighed by each module's mutation points with about 20 for a score that means something; a
#: module with fewer points gives all of them). Each module's sample depends only on the seed
#: and its own name, so adding modules never changes another module's sample.
QUOTAS: Dict[str, int] = {
    "_http": 35,
    "_memo": 35,
    "jwks_cache": 55,
    "token_helper": 40,
    "jwt_helper": 125,
    "_encoding": 20,
    # issue 19
    "bearer": 25,
    "flask": 15,
    "fastapi": 20,
    "django": 25,
    "aws_lambda": 20,
    "m2m": 35,
    "token_stores": 25,
    "alb": 25,
    "alb_keys": 20,
}
#: Named sets for --modules. "review" (the outside review's six) is the default, as before.
MODULE_SETS: Dict[str, List[str]] = {
    "review": ["_http", "_memo", "jwks_cache", "token_helper", "jwt_helper", "_encoding"],
    "issue19": ["bearer", "flask", "fastapi", "django", "aws_lambda", "m2m", "token_stores",
                "alb", "alb_keys"],
}
MODULE_SETS["all"] = MODULE_SETS["review"] + MODULE_SETS["issue19"]
#: Where each module's code is, newest layout first: the first candidate whose files are all in
#: the copy is the default (``--module-file`` overrides it). Issue 20 moved the private modules
#: into layer folders and the implementations of jwt_helper and token_helper behind them.
MODULE_FILES: Dict[str, List[List[str]]] = {
    "_http": [["core/http.py"], ["_http.py"]],
    "_memo": [["verification/memo.py"], ["_memo.py"]],
    "jwks_cache": [["verification/jwks.py"], ["jwks.py"], ["jwks_cache.py"]],
    "token_helper": [["oauth/endpoints.py"], ["token_helper.py"]],
    "jwt_helper": [["verification/cognito.py"], ["jwt_helper.py"]],
    "_encoding": [["core/encoding.py"], ["_encoding.py"]],
    # issue 19's modules: the layout of issue 20, then the flat one (f5c3ea6)
    "bearer": [["integrations/bearer.py"], ["bearer.py"]],
    "flask": [["integrations/flask.py"], ["flask.py"]],
    "fastapi": [["integrations/fastapi.py"], ["fastapi.py"]],
    "django": [["integrations/django.py"], ["django.py"]],
    "aws_lambda": [["integrations/aws_lambda.py"], ["aws_lambda.py"]],
    "m2m": [
        ["oauth/m2m.py", "oauth/m2m_httpx.py", "oauth/m2m_slots.py"],
        ["m2m.py", "_m2m_httpx.py", "_m2m_slots.py"],
        ["m2m.py", "_m2m_httpx.py"],
    ],
    "token_stores": [
        ["oauth/token_store.py", "oauth/redis_store.py"],
        ["_token_store.py", "redis_store.py"],
    ],
    "alb": [
        ["verification/alb.py", "verification/alb_settings.py"],
        ["alb.py", "_alb_settings.py"],
        ["alb.py"],
    ],
    "alb_keys": [["verification/alb_keys.py"], ["_alb_keys.py"]],
}


def default_files(work: Path, module: str) -> List[str]:
    """The files that hold ``module`` in the copy at ``work`` (see :data:`MODULE_FILES`)."""
    candidates = [[f"{PACKAGE}/{name}" for name in files] for files in MODULE_FILES[module]]
    for files in candidates:
        if all((work / rel).is_file() for rel in files):
            return files
    return candidates[0]  # missing: the run stops with the --module-file hint


#: The test files each module's mutants run first (most specific and fastest first). Files that
#: do not exist in the copy are left out, so test files being written now are picked up.
TEST_MAP: Dict[str, List[str]] = {
    "_encoding": [
        "test_encoding",
        "test_limits",
        "test_fuzz",
        "test_jwt_helper",
        "test_adversarial",
    ],
    "_memo": ["test_memo", "test_limits", "test_jwt_helper", "test_concurrency"],
    "jwks_cache": ["test_jwks_cache", "test_limits", "test_faults", "test_concurrency"],
    "token_helper": [
        "test_token_helper",
        "test_limits",
        "test_local_cognito",
        "test_secrets",
        "test_faults",
    ],
    "_http": [
        "test_http",
        "test_content_coding",
        "test_limits",
        "test_token_helper",
        "test_jwks_cache",
        "test_faults",
        "test_concurrency",
    ],
    "jwt_helper": [
        "test_jwt_helper",
        "test_encoding",
        "test_limits",
        "test_memo",
        "test_fuzz",
        "test_adversarial",
    ],
    # issue 19: each module's own test file first, then the files that use it through another
    "bearer": [
        "test_bearer",
        "test_guard_lambda",
        "test_guard_flask",
        "test_guard_fastapi",
        "test_guard_django",
    ],
    "flask": ["test_guard_flask", "test_flask_example", "test_bearer"],
    "fastapi": ["test_guard_fastapi", "test_bearer"],
    "django": ["test_guard_django", "test_bearer"],
    "aws_lambda": ["test_guard_lambda", "test_bearer"],
    "m2m": ["test_m2m", "test_redis_store", "test_resource", "test_secrets", "test_faults"],
    "token_stores": ["test_redis_store", "test_m2m"],
    "alb": ["test_alb_verify", "test_local_alb", "test_alb_keys", "test_alb_differential"],
    "alb_keys": ["test_alb_keys", "test_alb_verify", "test_alb_differential"],
}
#: After a module's own files, every other test file runs too (the tracer keeps each mutant's
#: run to the tests that reach it), in this order, then any file not listed, alphabetically.
SUITE_ORDER = [
    "test_http",
    "test_encoding",
    "test_limits",
    "test_content_coding",
    "test_config_fields",
    "test_config_url_safety",
    "test_config_object",
    "test_hosted_ui_urls",
    "test_pkce",
    "test_config_dict",
    "test_config_env",
    "test_default_config",
    "test_memo",
    "test_jwt_helper",
    "test_jwks_cache",
    "test_token_helper",
    "test_local_cognito",
    "test_fuzz",
    "test_secrets",
    "test_faults",
    "test_adversarial",
    "test_alb_verify",
    "test_alb_keys",
    "test_local_alb",
    "test_concurrency",
]
#: Never run: a real browser, the CLI as subprocesses, moto (slow; and out of the tracer's sight).
SLOW_TESTS = ["test_browser", "test_cli", "test_moto_interop"]
#: Never run: the CLI run as subprocesses (slow, and out of the tracer's sight).
DESELECT = ["tests/test_secrets.py::test_cli_subcommands_leak_no_secret_as_subprocesses"]

PYTEST_FLAGS = ["-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
ENV = {
    "COGNITO_HELPER_FUZZ_EXAMPLES": "50",
    "COGNITO_HELPER_STRESS_SECONDS": "1",
    "PYTHONHASHSEED": "0",
}
HYPOTHESIS_SEED = "0"
IGNORE_IN_TREE = (".git", ".venv", "venv", "__pycache__", ".pytest_cache", ".hypothesis",
                  ".mypy_cache", ".ruff_cache", "*.egg-info", "build", "dist", "node_modules")

# ---------------------------------------------------------------------------------------------
# The pytest plugin, written next to the copy and loaded with -p: selection, tracing, checks.

PLUGIN = r'''
"""Loaded by .ci/mutation.py into each pytest run; does nothing the tool did not ask for."""
import hashlib, json, os, sys, threading, time

_REPORT = os.environ.get("MUT_REPORT")
_TRACE = json.loads(os.environ["MUT_TRACE"]) if os.environ.get("MUT_TRACE") else None
_SELECT = os.environ.get("MUT_SELECT")
_EXPECT_ROOT = os.environ.get("MUT_EXPECT_ROOT")
_TARGET = os.environ.get("MUT_TARGET")  # relative path of the mutated module

try:  # no example database: a failure found under one mutant must not replay under the next
    from hypothesis import settings as _hs
    _hs.register_profile("mutation", database=None)
    _hs.load_profile("mutation")
except Exception:
    pass

_tests = []
_import_lines = set()
_current = _import_lines
_phase_sets = {}

if _TRACE is not None:
    _targets = {os.path.realpath(p): m for p, m in _TRACE.items()}
    _by_name = {}

    def _local(frame, event, arg):
        if event == "line":
            _current.add((_by_name[frame.f_code.co_filename], frame.f_lineno))
        return _local

    def _global(frame, event, arg):
        name = frame.f_code.co_filename
        mod = _by_name.get(name, 0)
        if mod == 0:
            mod = _by_name[name] = _targets.get(os.path.realpath(name))
        if mod is None:
            return None
        _current.add((mod, frame.f_lineno))
        return _local

    threading.settrace(_global)
    sys.settrace(_global)


def pytest_collection_modifyitems(session, config, items):
    if _SELECT:
        with open(_SELECT) as f:
            wanted = set(json.load(f))
        keep = [i for i in items if i.nodeid in wanted]
        drop = [i for i in items if i.nodeid not in wanted]
        if drop:
            config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _phase(item, name):
    global _current
    sets = _phase_sets.setdefault(item.nodeid, {"call": set(), "fixture": set()})
    _current = sets["call" if name == "call" else "fixture"]


import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    _phase(item, "setup")
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    _phase(item, "call")
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    _phase(item, "teardown")
    yield
    global _current
    _current = _import_lines


_durations = {}
_outcomes = {}
_skips = {}


def pytest_runtest_logreport(report):
    _durations[report.nodeid] = _durations.get(report.nodeid, 0.0) + report.duration
    if report.failed:
        _outcomes[report.nodeid] = "failed" if report.when == "call" else "error"
    elif report.when == "call":
        _outcomes.setdefault(report.nodeid, report.outcome)
    elif report.skipped:  # a skip in setup (pytest.skip in a fixture): the test never ran
        _outcomes.setdefault(report.nodeid, "skipped")
    if report.skipped:
        why = report.longrepr
        _skips[report.nodeid] = str(why[2] if isinstance(why, tuple) else why)[:300]


def pytest_collectreport(report):
    if report.failed:
        _outcomes[report.nodeid or "<collection>"] = "collection-error"


def pytest_collection_finish(session):
    pkg = sys.modules.get("cognito_helper")
    if _EXPECT_ROOT and pkg is not None:
        root = os.path.realpath(_EXPECT_ROOT)
        bad = {n: m.__file__ for n, m in list(sys.modules.items())
               if n.split(".")[0] == "cognito_helper" and getattr(m, "__file__", None)
               and not os.path.realpath(m.__file__).startswith(root + os.sep)}
        if bad:
            _write(error=f"cognito_helper imported from outside the copy: {bad}")
            pytest.exit("cognito_helper imported from outside the copy", returncode=9)
    session.config._mut_order = [i.nodeid for i in session.items]


def _write(**extra):
    if not _REPORT:
        return
    pkg = sys.modules.get("cognito_helper")
    data = {"package_file": getattr(pkg, "__file__", None), "outcomes": _outcomes,
            "durations": _durations, "skips": _skips}
    if _TARGET and _EXPECT_ROOT:
        with open(os.path.join(_EXPECT_ROOT, _TARGET), "rb") as f:
            data["target_sha256"] = hashlib.sha256(f.read()).hexdigest()
    data.update(extra)
    with open(_REPORT, "w") as f:
        json.dump(data, f)


def pytest_sessionfinish(session, exitstatus):
    if _TRACE is not None:
        sys.settrace(None)
        threading.settrace(None)
        def pack(lines):
            out = {}
            for mod, line in lines:
                out.setdefault(mod, []).append(line)
            return {m: sorted(v) for m, v in out.items()}
        order = getattr(session.config, "_mut_order", [])
        tests = [{"nodeid": n, "call": pack(_phase_sets.get(n, {}).get("call", ())),
                  "fixture": pack(_phase_sets.get(n, {}).get("fixture", ()))} for n in order]
        _write(coverage={"import": pack(_import_lines), "tests": tests})
    else:
        _write()
'''

# ---------------------------------------------------------------------------------------------
# Mutation points.

FLIP = {
    ast.Lt: ("<", "<=", ast.LtE),
    ast.LtE: ("<=", "<", ast.Lt),
    ast.Gt: (">", ">=", ast.GtE),
    ast.GtE: (">=", ">", ast.Gt),
    ast.Eq: ("==", "!=", ast.NotEq),
    ast.NotEq: ("!=", "==", ast.Eq),
    ast.Is: ("is", "is not", ast.IsNot),
    ast.IsNot: ("is not", "is", ast.Is),
    ast.In: ("in", "not in", ast.NotIn),
    ast.NotIn: ("not in", "in", ast.In),
}
OP_PATTERN = {
    "<": r"(?<![<>=!])<(?![<=])",
    "<=": r"<=",
    ">": r"(?<![<>=!-])>(?![>=])",
    ">=": r"(?<!>)>=",
    "==": r"==",
    "!=": r"!=",
    "is": r"\bis\b(?!\s+not\b)",
    "is not": r"\bis\s+not\b",
    "in": r"(?<!\bnot)(?<!\bnot\s)\bin\b",
    "not in": r"\bnot\s+in\b",
}
LOG_METHODS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}
LOG_OBJECTS = {"log", "logger", "logging", "_log", "_logger", "LOG"}

Path_ = Tuple[Tuple[str, Optional[int]], ...]


@dataclass
class Ctx:
    skip: Optional[str] = None
    qual: str = ""
    in_func: bool = False
    global_fn: bool = False
    stmt: Optional[ast.stmt] = None


@dataclass
class Mutant:
    id: str
    module: str
    file: str
    line: int
    col: int
    end_line: int
    op: str
    description: str
    where: str  # qualified name of the enclosing function or class ("<module>" at top level)
    scope: str  # "function", "module" (runs at import/def time) or "global-fn"
    lines: List[int]  # lines whose execution means the mutant is reached
    original: str
    mutated: str
    status: str = "pending"
    killed_by: Optional[str] = None
    rc: Optional[int] = None
    seconds: float = 0.0
    selected: int = 0
    selection: str = ""
    note: str = ""
    confirm: Optional[str] = None
    _edits: List[Tuple[int, int, bytes]] = field(default_factory=list, repr=False)
    _source: bytes = field(default=b"", repr=False)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _is_log_call(node: ast.Call) -> bool:
    f = node.func
    return (
        isinstance(f, ast.Attribute)
        and f.attr in LOG_METHODS
        and isinstance(f.value, ast.Name)
        and f.value.id in LOG_OBJECTS
    )


def _child_ctx(node: ast.AST, fname: str, child: ast.AST, ctx: Ctx) -> Ctx:
    new = Ctx(ctx.skip, ctx.qual, ctx.in_func, ctx.global_fn, ctx.stmt)
    if isinstance(child, ast.stmt):
        new.stmt = child
    if new.skip:
        return new
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        if fname == "body":
            new.qual = f"{ctx.qual}.{node.name}" if ctx.qual else node.name
            new.in_func = True
            new.global_fn = ctx.global_fn or any(isinstance(n, ast.Global) for n in ast.walk(node))
            if node.name == "__repr__":
                new.skip = "__repr__"
        elif fname == "returns":
            new.skip = "annotation"
    elif isinstance(node, ast.ClassDef) and fname == "body":
        new.qual = f"{ctx.qual}.{node.name}" if ctx.qual else node.name
    elif isinstance(node, ast.Lambda) and fname == "body":
        new.in_func = True
    if fname == "annotation":
        new.skip = "annotation"
    elif isinstance(node, ast.Assert):
        new.skip = "assert"
    elif isinstance(node, ast.If) and _is_type_checking(node.test) and fname == "body":
        new.skip = "TYPE_CHECKING"
    elif isinstance(node, ast.Call) and _is_log_call(node):
        new.skip = "logging"
    elif isinstance(node, ast.JoinedStr):
        new.skip = "f-string"
    elif isinstance(node, ast.Expr) and isinstance(child, ast.Constant) and isinstance(
        child.value, str
    ):
        new.skip = "docstring"
    return new


def _walk(node: ast.AST, path: Path_, ctx: Ctx) -> Iterator[Tuple[ast.AST, Path_, Ctx]]:
    yield node, path, ctx
    for fname, value in ast.iter_fields(node):
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, ast.AST):
                    yield from _walk(item, (*path, (fname, i)), _child_ctx(node, fname, item, ctx))
        elif isinstance(value, ast.AST):
            yield from _walk(value, (*path, (fname, None)), _child_ctx(node, fname, value, ctx))


def _follow(tree: ast.AST, path: Path_) -> ast.AST:
    node = tree
    for fname, idx in path:
        node = getattr(node, fname) if idx is None else getattr(node, fname)[idx]
    return node


def _replace_at(tree: ast.AST, path: Path_, new: ast.AST) -> None:
    parent = _follow(tree, path[:-1])
    fname, idx = path[-1]
    if idx is None:
        setattr(parent, fname, new)
    else:
        getattr(parent, fname)[idx] = new


class _Source:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.starts = [0]
        for i, b in enumerate(data):
            if b == 10:
                self.starts.append(i + 1)

    def off(self, line: int, col: int) -> int:
        return self.starts[line - 1] + col

    def span(self, node: ast.AST) -> Tuple[int, int]:
        return (
            self.off(node.lineno, node.col_offset),  # type: ignore[attr-defined]
            self.off(node.end_lineno, node.end_col_offset),  # type: ignore[attr-defined]
        )

    def text(self, node: ast.AST) -> bytes:
        a, b = self.span(node)
        return self.data[a:b]

    def find_in_gap(self, left: ast.AST, right: ast.AST, pattern: str) -> Optional[Tuple[int, int]]:
        a = self.off(left.end_lineno, left.end_col_offset)  # type: ignore[attr-defined]
        b = self.off(right.lineno, right.col_offset)  # type: ignore[attr-defined]
        gap = self.data[a:b].decode("utf-8")
        found = list(re.finditer(pattern, gap))
        if len(found) != 1:
            return None
        m = found[0]
        return a + len(gap[: m.start()].encode()), a + len(gap[: m.end()].encode())


def _number_after(value: Any) -> Any:
    if value == 0:
        return type(value)(1)
    if value == 1:
        return type(value)(0)
    return value + 1


def _apply(data: bytes, edits: Sequence[Tuple[int, int, bytes]]) -> bytes:
    out = data
    for a, b, rep in sorted(edits, reverse=True):
        out = out[:a] + rep + out[b:]
    return out


def enumerate_mutants(module: str, relpath: str, data: bytes) -> Tuple[List[Mutant], List[str]]:
    """Every mutation point of one module, in source order; and the points that could not be
    rendered (reported, never silently dropped)."""
    src = _Source(data)
    tree = ast.parse(data)
    lines_text = data.decode("utf-8").splitlines()
    found: List[Tuple[Tuple[int, int, int, int], Mutant]] = []
    problems: List[str] = []

    def add(node: ast.AST, path: Path_, ctx: Ctx, op: str, sub: int, desc: str,
            edits: List[Tuple[int, int, bytes]], expect: Any, span_node: ast.AST) -> None:
        line, col = node.lineno, node.col_offset  # type: ignore[attr-defined]
        mid = f"{Path(relpath).stem}:{line}:{col}:{op}:{sub}"
        if not edits:
            problems.append(f"{mid}: operator not found in the source")
            return
        mutated = _apply(data, edits)
        expected = copy.deepcopy(tree)
        expect(expected, path)
        try:
            same = ast.dump(ast.parse(mutated)) == ast.dump(expected)
        except SyntaxError as exc:
            problems.append(f"{mid}: mutated source does not parse: {exc}")
            return
        if not same:
            problems.append(f"{mid}: mutated source is not the intended mutation")
            return
        stmt = ctx.stmt
        first, last = span_node.lineno, span_node.end_lineno  # type: ignore[attr-defined]
        lines = set(range(first, last + 1))
        if stmt is not None:
            lines.add(stmt.lineno)
        scope = "global-fn" if ctx.global_fn else ("function" if ctx.in_func else "module")
        mlines = mutated.decode("utf-8").splitlines()
        shown = range(first - 1, min(last, first + 2))
        original = " / ".join(lines_text[i].strip() for i in shown)
        after = " / ".join(mlines[i].strip() for i in shown if i < len(mlines))
        m = Mutant(
            id=mid, module=module, file=relpath, line=line, col=col,
            end_line=node.end_lineno,  # type: ignore[attr-defined]
            op=op, description=desc, where=ctx.qual or "<module>", scope=scope,
            lines=sorted(lines), original=original, mutated=after,
        )
        m._edits = edits
        m._source = data
        found.append(((line, col, len(found), sub), m))

    for node, path, ctx in _walk(tree, (), Ctx()):
        if ctx.skip:
            continue
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                old, new, new_cls = FLIP[type(op)]
                left = node.left if i == 0 else node.comparators[i - 1]
                pos = src.find_in_gap(left, node.comparators[i], OP_PATTERN[old])
                edits = [(pos[0], pos[1], new.encode())] if pos else []

                def expect(t: ast.AST, p: Path_, i: int = i, new_cls: Any = new_cls) -> None:
                    _follow(t, p).ops[i] = new_cls()  # type: ignore[attr-defined]

                add(node, path, ctx, "compare", i, f"`{old}` -> `{new}`", edits, expect, node)
        elif isinstance(node, ast.Raise):
            a, b = src.span(node)
            rep = b"pass" + b"\n" * data[a:b].count(b"\n")

            def expect(t: ast.AST, p: Path_) -> None:
                _replace_at(t, p, ast.Pass())

            add(node, path, ctx, "raise", 0, "`raise ...` -> `pass`", [(a, b, rep)], expect, node)
        elif (
            isinstance(node, ast.Constant)
            and type(node.value) in (int, float)
        ):
            new_value = _number_after(node.value)
            a, b = src.span(node)

            def expect(t: ast.AST, p: Path_, v: Any = new_value) -> None:
                _follow(t, p).value = v  # type: ignore[attr-defined]

            add(node, path, ctx, "number", 0,
                f"`{src.text(node).decode()}` -> `{new_value!r}`",
                [(a, b, repr(new_value).encode())], expect, node)
        elif isinstance(node, (ast.If, ast.While, ast.IfExp)):
            test = node.test
            if _is_type_checking(test) or (
                isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
            ):
                continue  # `not x` has its own mutant (x), which is the same negation
            a, b = src.span(test)

            def expect(t: ast.AST, p: Path_) -> None:
                n = _follow(t, p)
                n.test = ast.UnaryOp(op=ast.Not(), operand=n.test)  # type: ignore[attr-defined]

            kind = {ast.If: "if", ast.While: "while", ast.IfExp: "ternary"}[type(node)]
            add(node, path, ctx, "negate", 0, f"{kind} condition negated",
                [(a, a, b"not ("), (b, b, b")")], expect, test)
        elif isinstance(node, ast.BoolOp):
            old, new = ("and", "or") if isinstance(node.op, ast.And) else ("or", "and")
            edits = []
            for left, right in zip(node.values, node.values[1:]):
                pos = src.find_in_gap(left, right, rf"\b{old}\b")
                if pos is None:
                    edits = []
                    break
                edits.append((pos[0], pos[1], new.encode()))

            def expect(t: ast.AST, p: Path_) -> None:
                n = _follow(t, p)
                n.op = ast.Or() if isinstance(n.op, ast.And) else ast.And()  # type: ignore

            add(node, path, ctx, "boolop", 0, f"`{old}` -> `{new}`", edits, expect, node)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            a, b = src.span(node)
            rep = b"(" + src.text(node.operand) + b")"

            def expect(t: ast.AST, p: Path_) -> None:
                _replace_at(t, p, _follow(t, p).operand)  # type: ignore[attr-defined]

            add(node, path, ctx, "not", 0, "`not x` -> `x`", [(a, b, rep)], expect, node)
        elif (
            isinstance(node, ast.Return)
            and isinstance(node.value, ast.Constant)
            and type(node.value.value) is bool
        ):
            a, b = src.span(node.value)
            new_b = not node.value.value

            def expect(t: ast.AST, p: Path_, v: bool = new_b) -> None:
                _follow(t, p).value.value = v  # type: ignore[attr-defined]

            add(node, path, ctx, "return-bool", 0,
                f"`return {node.value.value}` -> `return {new_b}`",
                [(a, b, str(new_b).encode())], expect, node)
    found.sort(key=lambda x: x[0])
    return [m for _, m in found], problems


def sample(mutants: List[Mutant], quota: int, seed: int, module: str,
           limit: Optional[int]) -> List[Mutant]:
    rng = random.Random(f"{seed}/{module}")  # noqa: S311 - a reproducible sample, not a secret
    order = rng.sample(range(len(mutants)), min(quota, len(mutants)))
    if limit is not None:
        order = order[:limit]
    return [mutants[i] for i in sorted(order)]


# ---------------------------------------------------------------------------------------------
# The copy and the pytest runs.


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(  # noqa: S603
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True  # noqa: S607
    ).stdout.strip()


def prepare_copy(args: argparse.Namespace, work: Path) -> Dict[str, Any]:
    if work.exists():
        shutil.rmtree(work)
    if args.tree:
        tree = Path(args.tree).resolve()
        shutil.copytree(tree, work, ignore=shutil.ignore_patterns(*IGNORE_IN_TREE))
        info: Dict[str, Any] = {"source": "tree", "tree": str(tree)}
        try:
            info["head"] = _git(tree, "rev-parse", "HEAD")
            info["uncommitted"] = _git(tree, "status", "--porcelain").splitlines()
        except (subprocess.CalledProcessError, FileNotFoundError):
            pass
        return info
    repo = Path(args.repo).resolve()
    sha = _git(repo, "rev-parse", "--verify", f"{args.rev}^{{commit}}")
    work.mkdir(parents=True)
    archive = subprocess.run(  # noqa: S603
        ["git", "-C", str(repo), "archive", sha], check=True, capture_output=True  # noqa: S607
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(work)], input=archive, check=True)  # noqa: S603, S607
    return {"source": "rev", "repo": str(repo), "rev": args.rev, "commit": sha}


class Runner:
    def __init__(self, work: Path, plugin_dir: Path, python: str, nice: int) -> None:
        self.work = work
        self.plugin_dir = plugin_dir
        self.python = python
        self.nice = nice

    def env(self, **extra: str) -> Dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("COGNITO_", "MUT_", "PYTEST_", "HYPOTHESIS_"))
               and k not in ("PYTHONPATH", "PYTHONSTARTUP")}
        env.update(ENV)
        # The copy first, so the tests (and any subprocess they start) import the copy's package,
        # never the editable install of /work/main.
        env["PYTHONPATH"] = os.pathsep.join([str(self.work), str(self.plugin_dir)])
        env["MUT_EXPECT_ROOT"] = str(self.work)
        env.update(extra)
        return env

    def pytest(self, files: Sequence[str], *, timeout: float, select: Optional[Sequence[str]],
               trace: Optional[Dict[str, str]] = None, target: Optional[str] = None,
               extra_args: Sequence[str] = ()) -> Tuple[Optional[int], float, Dict[str, Any], str]:
        """Run pytest in the copy; returns (rc or None on timeout, seconds, plugin report, log)."""
        tmp = Path(tempfile.mkdtemp(prefix="mutrun_", dir=self.plugin_dir))
        report = tmp / "report.json"
        extra = {"MUT_REPORT": str(report)}
        if select is not None:
            (tmp / "select.json").write_text(json.dumps(list(select)))
            extra["MUT_SELECT"] = str(tmp / "select.json")
        if trace is not None:
            extra["MUT_TRACE"] = json.dumps(trace)
        if target is not None:
            extra["MUT_TARGET"] = target
        cmd = ["nice", "-n", str(self.nice), self.python, "-m", "pytest", *PYTEST_FLAGS,
               "-p", "_mutation_plugin", f"--hypothesis-seed={HYPOTHESIS_SEED}",
               *[a for d in DESELECT for a in ("--deselect", d)], *extra_args, *files]
        shutil.rmtree(self.work / ".hypothesis", ignore_errors=True)
        started = time.monotonic()
        log_path = tmp / "log.txt"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(  # noqa: S603
                cmd, cwd=self.work, env=self.env(**extra), stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )
            try:
                rc: Optional[int] = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                rc = None
                try:
                    os.killpg(proc.pid, signal.SIGKILL)  # our own process group only
                except ProcessLookupError:
                    pass
                proc.wait()
        seconds = time.monotonic() - started
        data: Dict[str, Any] = {}
        if report.exists():
            try:
                data = json.loads(report.read_text())
            except ValueError:
                data = {}
        text = log_path.read_text(errors="replace")
        shutil.rmtree(tmp, ignore_errors=True)
        return rc, seconds, data, text


def _pyc_clear(work: Path, relpath: str) -> None:
    p = work / relpath
    for pyc in (p.parent / "__pycache__").glob(p.stem + ".*.pyc"):
        pyc.unlink()


# ---------------------------------------------------------------------------------------------
# Selection of the tests that reach a mutant.


@dataclass
class Coverage:
    order: List[str]
    call: Dict[str, Dict[str, Set[int]]]
    fixture: Dict[str, Dict[str, Set[int]]]
    imported: Dict[str, Set[int]]
    durations: Dict[str, float]

    @classmethod
    def from_report(cls, cov: Dict[str, Any], durations: Dict[str, float]) -> Coverage:
        def sets(d: Dict[str, List[int]]) -> Dict[str, Set[int]]:
            return {m: set(v) for m, v in d.items()}

        tests = cov["tests"]
        return cls(
            order=[t["nodeid"] for t in tests],
            call={t["nodeid"]: sets(t["call"]) for t in tests},
            fixture={t["nodeid"]: sets(t["fixture"]) for t in tests},
            imported=sets(cov["import"]),
            durations=durations,
        )


def test_file(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def select_tests(m: Mutant, files: List[str], cov: Coverage) -> Tuple[List[str], str]:
    rank = {f: i for i, f in enumerate(files)}
    pool = [n for n in cov.order if test_file(n) in rank]
    pool.sort(key=lambda n: rank[test_file(n)])  # stable: keeps each file's own order
    lines = set(m.lines)
    if m.scope != "function":
        return pool, f"all mapped tests ({m.scope}-level code)"
    if lines & cov.imported.get(m.file, set()):
        return pool, "all mapped tests (line runs at import time)"
    by_fixture = {test_file(n) for n in pool if lines & cov.fixture[n].get(m.file, set())}
    chosen = [n for n in pool
              if test_file(n) in by_fixture or lines & cov.call[n].get(m.file, set())]
    why = "tests that execute the line"
    if by_fixture:
        why += f" (+ whole files whose fixtures execute it: {', '.join(sorted(by_fixture))})"
    return chosen, why


# ---------------------------------------------------------------------------------------------
# Reporting.


def summarize(mutants: List[Mutant], modules: List[str]) -> Dict[str, Any]:
    per: Dict[str, Any] = {}
    for mod in modules:
        ms = [m for m in mutants if m.module == mod and m.status not in ("pending", "error")]
        killed = sum(m.status in ("killed", "timeout") for m in ms)
        per[mod] = {"killed": killed, "total": len(ms),
                    "percent": round(100.0 * killed / len(ms), 1) if ms else None,
                    "errors": sum(m.module == mod and m.status == "error" for m in mutants)}
    k = sum(v["killed"] for v in per.values())
    t = sum(v["total"] for v in per.values())
    return {"modules": per, "killed": k, "total": t,
            "percent": round(100.0 * k / t, 1) if t else None}


def write_outputs(out: Path, meta: Dict[str, Any], mutants: List[Mutant],
                  modules: List[str]) -> None:
    summary = summarize(mutants, modules)
    doc = {"meta": meta, "summary": summary,
           "mutants": [{k: v for k, v in asdict(m).items() if not k.startswith("_")}
                       for m in mutants]}
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1))
    tmp.replace(out)
    out.with_suffix(".txt").write_text(render_text(meta, summary, mutants, modules))


def render_text(meta: Dict[str, Any], summary: Dict[str, Any], mutants: List[Mutant],
                modules: List[str]) -> str:
    src = meta.get("copy", {})
    what = src.get("commit") or f"tree {src.get('tree')} (HEAD {src.get('head')})"
    lines = [
        f"Mutation testing of {PACKAGE} at {what}",
        f"tool v{meta['tool_version']}, seed {meta['seed']}, quotas {meta['quotas']}",
        f"started {meta.get('started')}, wall {meta.get('wall_seconds', 0) / 60:.1f} min"
        + ("" if meta.get("finished") else "  (INCOMPLETE)"),
        "",
        f"{'module':<14}{'killed':>8}{'total':>7}{'score':>8}{'points':>8}",
    ]
    for mod in modules:
        s = summary["modules"][mod]
        pct = "-" if s["percent"] is None else f"{s['percent']:.1f}%"
        err = f"  ({s['errors']} errors)" if s["errors"] else ""
        lines.append(f"{mod:<14}{s['killed']:>8}{s['total']:>7}{pct:>8}"
                     f"{meta['points'].get(mod, 0):>8}{err}")
    pct = "-" if summary["percent"] is None else f"{summary['percent']:.1f}%"
    lines.append(f"{'overall':<14}{summary['killed']:>8}{summary['total']:>7}{pct:>8}")
    lines.append("")
    lines.append("Survivors (file:line [operator] change; original -> mutated):")
    for mod in modules:
        surv = [m for m in mutants if m.module == mod and m.status == "survived"]
        if not surv:
            continue
        lines.append(f"\n== {mod} ({len(surv)} survivors)")
        for m in surv:
            lines.append(f"{m.file}:{m.line}  [{m.op}] {m.description}  in {m.where}"
                         + (f"  -- {m.note}" if m.note else "")
                         + (f"  [confirm: {m.confirm}]" if m.confirm else ""))
            lines.append(f"    - {m.original}")
            lines.append(f"    + {m.mutated}")
    if meta.get("corrections"):
        lines.append("\nCorrections made by hand after the pass:")
        lines.extend(f"  {c}" for c in meta["corrections"])
    errors = [m for m in mutants if m.status == "error"]
    if errors:
        lines.append("\nErrors (not counted):")
        for m in errors:
            lines.append(f"{m.file}:{m.line} [{m.op}] {m.description}: {m.note}")
    if meta.get("problems"):
        lines.append("\nMutation points that could not be rendered (not sampled):")
        lines.extend(f"  {p}" for p in meta["problems"])
    return "\n".join(lines) + "\n"


def _first_failure(report: Dict[str, Any], log: str) -> Optional[str]:
    for nodeid, outcome in report.get("outcomes", {}).items():
        if outcome in ("failed", "error", "collection-error"):
            return f"{nodeid} ({outcome})"
    for line in log.splitlines():
        if line.startswith(("FAILED ", "ERROR ")):
            return line[:200]
    return None


# ---------------------------------------------------------------------------------------------


def main(argv: Optional[Sequence[str]] = None) -> int:
    here = Path(__file__).resolve().parent
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    src = p.add_mutually_exclusive_group()
    src.add_argument("--rev", help="git revision of --repo to test (git archive; default HEAD)")
    src.add_argument("--tree", help="directory to copy (uncommitted files included) and test")
    p.add_argument("--repo", default=str(here.parent), help="git repository (default: this one)")
    p.add_argument("--out", required=True, help="results JSON; the report goes to the .txt beside")
    p.add_argument("--modules", nargs="+", choices=[*QUOTAS, *MODULE_SETS],
                   help="modules, or a set: review (the default: the outside review's six), "
                        "issue19 (bearer, the four guards, m2m, token_stores, alb, alb_keys), "
                        "all")
    p.add_argument("--module-file", action="append", metavar="MODULE=PATH[,PATH...]",
                   help="the file(s) that hold MODULE now, e.g. jwks_cache=cognito_helper/jwks.py "
                        "(default: MODULE_FILES, the first layout found in the copy); the "
                        "module's quota is drawn from the points of all its files")
    p.add_argument("--limit", type=int, help="at most N mutants per module (a quick smoke run)")
    p.add_argument("--scale", type=float, default=1.0,
                   help="sample quota x SCALE per module (default 1.0: 310 for review, "
                        "210 for issue19)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"default {DEFAULT_SEED}")
    p.add_argument("--workdir", help="where to put the copy (default /tmp/mut_<out-stem>_<rev>)")
    p.add_argument("--python", default=str(here.parent / ".venv" / "bin" / "python"),
                   help="interpreter with the test dependencies (default: the repo's .venv)")
    p.add_argument("--nice", type=int, default=19)
    p.add_argument("--exclude-tests", nargs="+", metavar="NAME",
                   help="test files not to run, e.g. test_flask_example (besides "
                        + ", ".join(SLOW_TESTS) + ")")
    p.add_argument("--timeout-factor", type=float, default=3.0,
                   help="per-mutant timeout = 30 s + FACTOR x the selected tests' baseline time")
    p.add_argument("--no-select", action="store_true",
                   help="run every mapped test for every mutant (no line-coverage selection)")
    p.add_argument("--confirm-survivors", action="store_true",
                   help="re-run each survivor against all its mapped test files")
    p.add_argument("--allow-skips", action="store_true",
                   help="go on when a mapped test is skipped in the baseline (it kills nothing; "
                        "by default the pass stops and names it, e.g. no redis-server or node)")
    p.add_argument("--dry-run", action="store_true", help="list the sampled mutants and stop")
    p.add_argument("--keep", action="store_true", help="keep the copy afterwards")
    args = p.parse_args(argv)
    if not args.tree and not args.rev:
        args.rev = "HEAD"

    out = Path(args.out).resolve()
    modules = list(dict.fromkeys(
        name for m in (args.modules or ["review"]) for name in MODULE_SETS.get(m, [m])))
    t0 = time.monotonic()
    label = re.sub(r"[^A-Za-z0-9_.-]", "_", out.stem)
    label = label[4:] if label.startswith("mut_") else label
    if args.tree:
        suffix = "tree"
    else:
        suffix = _git(Path(args.repo), "rev-parse", "--short", f"{args.rev}^{{commit}}")
    work = Path(args.workdir or f"/tmp/mut_{label}_{suffix}")  # noqa: S108 - a private copy
    plugin_dir = Path(str(work) + ".plugin")
    shutil.rmtree(plugin_dir, ignore_errors=True)
    plugin_dir.mkdir(parents=True)
    (plugin_dir / "_mutation_plugin.py").write_text(PLUGIN)
    copy_info = prepare_copy(args, work)
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    log(f"copy: {work}  ({copy_info.get('commit') or copy_info.get('tree')})")

    # Mutation points and the sample.
    mutants: List[Mutant] = []
    points: Dict[str, int] = {}
    problems: List[str] = []
    hashes: Dict[str, str] = {}
    module_files = {mod: default_files(work, mod) for mod in modules}
    for spec in args.module_file or ():
        key, _, paths = spec.partition("=")
        if key not in QUOTAS or not paths:
            p.error(f"--module-file {spec!r}: expected MODULE=PATH[,PATH...], MODULE one of "
                    + ", ".join(QUOTAS))
        if key in module_files:
            module_files[key] = [x.strip() for x in paths.split(",") if x.strip()]
    for mod in modules:
        every = []
        for rel in module_files[mod]:
            if not (work / rel).is_file():
                shutil.rmtree(work, ignore_errors=True)
                shutil.rmtree(plugin_dir, ignore_errors=True)
                p.error(f"{rel} is not in the copy; map the module to its file(s) with "
                        f"--module-file {mod}=PATH[,PATH...]")
            data = (work / rel).read_bytes()
            hashes[rel] = hashlib.sha256(data).hexdigest()
            found, bad = enumerate_mutants(mod, rel, data)
            every += found
            problems += bad
        points[mod] = len(every)
        if not every:  # a thin module re-exporting code that moved (issue 20's layout)
            shutil.rmtree(work, ignore_errors=True)
            shutil.rmtree(plugin_dir, ignore_errors=True)
            p.error(f"{', '.join(module_files[mod])} holds no mutation point (the code moved?); "
                    f"map {mod} to its file(s) with --module-file {mod}=PATH[,PATH...]")
        quota = max(1, round(QUOTAS[mod] * args.scale))
        mutants += sample(every, quota, args.seed, mod, args.limit)
    files_for: Dict[str, List[str]] = {}
    present = sorted(p.stem for p in (work / "tests").glob("test_*.py"))
    skip = set(SLOW_TESTS) | set(args.exclude_tests or ())
    for mod in modules:
        names = TEST_MAP[mod] + SUITE_ORDER + present
        files_for[mod] = [f"tests/{n}.py" for n in dict.fromkeys(names)
                          if n in present and n not in skip]
    meta: Dict[str, Any] = {
        "tool_version": TOOL_VERSION, "seed": args.seed, "scale": args.scale,
        "quotas": {m: max(1, round(QUOTAS[m] * args.scale)) for m in modules},
        "limit": args.limit, "points": points, "problems": problems, "copy": copy_info,
        "module_files": module_files, "module_sha256": hashes, "test_files": files_for,
        "deselected": DESELECT,
        "excluded_tests": sorted(skip), "allow_skips": args.allow_skips,
        "pytest": [*PYTEST_FLAGS, f"--hypothesis-seed={HYPOTHESIS_SEED}"], "env": ENV,
        "selection": "all mapped tests" if args.no_select else "line coverage",
        "started": time.strftime("%Y-%m-%d %H:%M:%S"), "workdir": str(work),
        "python": args.python,
    }
    log(f"points: {points}; sampled {len(mutants)}")
    for msg in problems:
        log(f"  could not render: {msg}")
    if args.dry_run:
        for m in mutants:
            print(f"{m.id:<34} {m.file}:{m.line} [{m.op}] {m.description} in {m.where}")
            print(f"    - {m.original}\n    + {m.mutated}")
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(plugin_dir, ignore_errors=True)
        return 0

    runner = Runner(work, plugin_dir, args.python, args.nice)
    union = [f for mod in modules for f in files_for[mod]]
    union = list(dict.fromkeys(union))
    trace = {str(work / rel): rel for mod in modules for rel in module_files[mod]}

    # Baseline: every mapped file passes unmutated; the per-test times size the timeouts.
    log(f"baseline: {' '.join(union)}")
    for attempt in (1, 2):
        rc, secs, rep, text = runner.pytest(union, timeout=1800, select=None)
        if rc == 0:
            break
        log(f"baseline attempt {attempt} failed (rc={rc}):\n{text[-3000:]}")
    if rc != 0:
        meta["error"] = "the unmutated baseline fails"
        write_outputs(out, meta, mutants, modules)
        return 2
    pkg_file = rep.get("package_file")
    log(f"cognito_helper.__file__ in the copy's test run: {pkg_file}")
    if not pkg_file or not str(Path(pkg_file).resolve()).startswith(str(work.resolve()) + os.sep):
        log("the tests did not import the copy's package; stopping")
        return 2
    durations: Dict[str, float] = rep.get("durations", {})
    meta["package_file"] = pkg_file
    meta["baseline"] = {"seconds": round(secs, 1), "tests": len(durations), "modules": {}}
    for mod in modules:
        ids = [n for n in durations if test_file(n) in files_for[mod]]
        meta["baseline"]["modules"][mod] = {
            "tests": len(ids), "test_seconds": round(sum(durations[n] for n in ids), 1),
            "files": {f: round(sum(d for n, d in durations.items() if test_file(n) == f), 1)
                      for f in files_for[mod]},
        }
    log(f"baseline passed: {len(durations)} tests in {secs:.0f} s; per module "
        + ", ".join(f"{m}={v['test_seconds']}s" for m, v in meta["baseline"]["modules"].items()))
    # A skipped test kills nothing: a pass where the Redis or node tests skip would report their
    # mutants as survivors (or as reached by fewer tests). Stop and say which, unless allowed.
    baseline_skips: Dict[str, str] = rep.get("skips", {})
    meta["baseline"]["skipped"] = baseline_skips
    if baseline_skips:
        shown_skips = "\n".join(f"  {n}: {r}" for n, r in sorted(baseline_skips.items())[:20])
        log(f"{len(baseline_skips)} mapped tests were skipped in the baseline:\n{shown_skips}")
        if not args.allow_skips:
            meta["error"] = (f"{len(baseline_skips)} mapped tests skipped in the baseline "
                             "(install what they need, or --allow-skips)")
            write_outputs(out, meta, mutants, modules)
            return 2

    cov: Optional[Coverage] = None
    if not args.no_select:
        log("tracing which test executes which line ...")
        for attempt in (1, 2):
            rc, secs, rep, text = runner.pytest(union, timeout=3600, select=None, trace=trace)
            if rc == 0 and "coverage" in rep:
                break
            log(f"traced run attempt {attempt} failed (rc={rc}):\n{text[-3000:]}")
        if rc != 0 or "coverage" not in rep:
            meta["error"] = "the traced baseline fails"
            write_outputs(out, meta, mutants, modules)
            return 2
        cov = Coverage.from_report(rep["coverage"], durations)
        meta["traced_seconds"] = round(secs, 1)
        log(f"traced run: {secs:.0f} s")

    def run_one(m: Mutant, chosen: List[str]) -> Tuple[str, Optional[str], Optional[int],
                                                         float, str]:
        files = [f for f in files_for[m.module] if any(test_file(n) == f for n in chosen)]
        budget = 30 + args.timeout_factor * sum(durations.get(n, 1.0) for n in chosen)
        path = work / m.file
        mutated = _apply(m._source, m._edits)
        path.write_bytes(mutated)
        _pyc_clear(work, m.file)
        try:
            rc, secs, rep, text = runner.pytest(files, timeout=budget, select=chosen,
                                                target=m.file)
        finally:
            path.write_bytes(m._source)
            _pyc_clear(work, m.file)
        if rc == 9 or rep.get("error"):
            raise SystemExit(f"stopping: {rep.get('error') or text[-2000:]}")
        if rep.get("target_sha256") not in (None, hashlib.sha256(mutated).hexdigest()):
            raise SystemExit(f"stopping: {m.file} in the copy was not the mutant during its run")
        if rc is None:
            return "timeout", f"no result within {budget:.0f} s", rc, secs, ""
        if rc == 0:
            ran = len(rep.get("durations", {}))  # tests reported on (passed or skipped)
            if ran < len(chosen):
                return "error", None, rc, secs, f"only {ran} of {len(chosen)} selected tests ran"
            skipped = [n for n in rep.get("skips", {}) if n not in baseline_skips]
            if skipped:  # passed in the baseline, skipped under the mutant: not a judgement
                return "error", None, rc, secs, (f"{len(skipped)} selected tests skipped, "
                                                 f"e.g. {skipped[0]}")
            return "survived", None, rc, secs, ""
        if rc in (1, 2, 3):  # failed, interrupted (collection error), internal error
            return "killed", _first_failure(rep, text), rc, secs, ""
        return "error", None, rc, secs, f"pytest exit code {rc}: {text[-300:]!r}"

    all_for: Dict[str, List[str]] = {}
    for mod in modules:
        order = list(cov.order) if cov else list(durations)
        rank = {f: i for i, f in enumerate(files_for[mod])}
        ids = [n for n in order if test_file(n) in rank]
        ids.sort(key=lambda n: rank[test_file(n)])
        all_for[mod] = ids

    for i, m in enumerate(mutants, 1):
        if cov is None:
            chosen, why = all_for[m.module], "all mapped tests (--no-select)"
        else:
            chosen, why = select_tests(m, files_for[m.module], cov)
        m.selected, m.selection = len(chosen), why
        if not chosen:
            m.status, m.note = "survived", "no mapped test executes this line"
        else:
            m.status, m.killed_by, m.rc, m.seconds, m.note = run_one(m, chosen)
            m.seconds = round(m.seconds, 1)
        done = summarize(mutants, modules)
        eta = (time.monotonic() - t0) / i * (len(mutants) - i)
        log(f"[{i}/{len(mutants)}] {m.file}:{m.line} [{m.op}] {m.description}: {m.status}"
            f" ({m.selected} tests, {m.seconds:.1f} s)  score {done['killed']}/{done['total']}"
            f"  eta {eta / 60:.0f} min")
        meta["wall_seconds"] = round(time.monotonic() - t0, 1)
        write_outputs(out, meta, mutants, modules)

    if args.confirm_survivors:
        for m in mutants:
            if m.status != "survived":
                continue
            status, killed_by, _, secs, _note = run_one(m, all_for[m.module])
            m.confirm = status if status != "killed" else f"killed by {killed_by}"
            log(f"confirm {m.file}:{m.line} [{m.op}]: {m.confirm} ({secs:.0f} s)")
            meta["wall_seconds"] = round(time.monotonic() - t0, 1)
            write_outputs(out, meta, mutants, modules)

    meta["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    meta["wall_seconds"] = round(time.monotonic() - t0, 1)
    write_outputs(out, meta, mutants, modules)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(plugin_dir, ignore_errors=True)
    s = summarize(mutants, modules)
    print(out.with_suffix(".txt").read_text())
    minutes = meta["wall_seconds"] / 60
    log(f"score {s['killed']}/{s['total']} = {s['percent']}%  in {minutes:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
