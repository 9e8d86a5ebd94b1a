"""The one reader of the Python snippets in the project's Markdown: README.md, SECURITY.md and
every ``docs/*.md``. Every test that runs a snippet takes it from here.

Each ```` ```python ```` fence is a :class:`Snippet`. The line right before the fence may hold a
marker that names the test that runs it (a function, or a class whose tests share the setup)::

    <!-- snippet: runs in tests/test_guard_flask.py::test_the_readme_snippet -->
    <!-- snippet: fragment, completed by tests/test_snippets.py::test_verify_tokens -->

* **no marker**: the snippet is complete and offline; ``tests/test_snippets.py`` runs it as
  printed, in a fresh namespace (``test_snippet_runs_as_printed``).
* **runs in**: complete as printed, but it needs what the named test sets up around it (the
  ``COGNITO_*`` variables naming a LocalCognito, a framework's settings, a module it imports),
  and the test then drives what it defines (routes, handlers). The source runs unchanged, in a
  fresh namespace: :meth:`Snippet.run` refuses to supply names to it.
* **fragment**: not complete alone. It uses names the reader's code has (a ``token``, the
  ``request``, an earlier snippet's object), or hosts that exist only in production
  (``orders.example.com``, a Redis at ``cache.internal``). The named test supplies those names
  (``run(token=...)``) or swaps those hosts for loopback ones (:meth:`Snippet.replacing`),
  and runs the rest as printed.

A test gets its snippets with ``snippets_for(the_test_itself)``, which returns the snippets
whose marker names it, in document order, and fails if there are none; ``tests/test_snippets.py``
checks that every marker names an existing test that asks for its snippets that way, so no
snippet can be left unrun.
"""

from __future__ import annotations

import dataclasses
import inspect
import linecache
import re
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

ROOT = Path(__file__).resolve().parents[1]

#: What a fence's info string may say for Python; only ``python`` is used (a test checks).
PYTHON_INFO = ("python", "py", "python3", "py3", "pycon", "ipython")

RUNS_IN = "runs in"
FRAGMENT = "fragment"
AS_PRINTED = "as printed"  # no marker

_MARKER = re.compile(
    r"<!--\s*snippet:\s*(?:(?P<runs>runs in)|(?P<fragment>fragment, completed by))"
    r"\s+(?P<test>tests/[\w/]+\.py::[A-Za-z_][\w.]*)\s*-->"
)
_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)")


def documents() -> List[Path]:
    """The Markdown files whose Python snippets must run: README.md, SECURITY.md, docs/*.md."""
    found = [ROOT / "README.md", ROOT / "SECURITY.md", *sorted((ROOT / "docs").glob("**/*.md"))]
    return [path for path in found if path.is_file()]


@dataclasses.dataclass(frozen=True)
class Fence:
    """One fenced block of a document: its info string's first word, its text, where it is."""

    path: Path
    line: int  # 1-based line of the block's first line of text (after the opening fence)
    info: str
    text: str
    heading: str  # the nearest heading above it
    marker: str  # the line just before the opening fence


@dataclasses.dataclass(frozen=True)
class Snippet:
    """A ```` ```python ```` block: ``kind`` is ``"as printed"``, ``"runs in"`` or
    ``"fragment"``; ``test`` names the test that runs it (``tests/x.py::name``) or is None."""

    path: Path
    line: int
    heading: str
    source: str = dataclasses.field(repr=False)
    kind: str
    test: Optional[str]

    @property
    def document(self) -> str:
        return self.path.relative_to(ROOT).as_posix()

    @property
    def id(self) -> str:
        """``README.md:998 (Test your app with LocalCognito)``: where to find it."""
        return f"{self.document}:{self.line} ({self.heading})"

    def __str__(self) -> str:
        return self.id

    def replacing(self, replacements: Mapping[str, str]) -> Snippet:
        """A fragment with production hosts swapped for test ones: each ``old`` must appear in
        it, and the new text keeps the line numbers (no newlines)."""
        assert self.kind == FRAGMENT, f"{self} runs as printed: nothing in it may be replaced"
        source = self.source
        for old, new in replacements.items():
            assert old in source, f"{self} no longer says {old!r}: update its test"
            assert "\n" not in new, "a replacement keeps the snippet's line numbers"
            source = source.replace(old, new)
        return dataclasses.replace(self, source=source)

    def run(self, *, module: str = "readme_snippet", **names: Any) -> Dict[str, Any]:
        """Run the snippet in a fresh namespace named ``module`` and return the namespace.

        ``names`` (only for a fragment) are what the fragment leaves to the reader's code.
        A traceback names the snippet, ``<README.md:998 (heading)>``, and its line in the
        snippet, and shows the snippet's code (through ``linecache``).
        """
        assert not names or self.kind == FRAGMENT, f"{self} must run with nothing supplied"
        namespace: Dict[str, Any] = {"__name__": module, **names}
        filename = f"<{self.id}>"
        lines = self.source.splitlines(keepends=True)
        linecache.cache[filename] = (len(self.source), None, lines, filename)
        exec(compile(self.source, filename, "exec"), namespace)
        return namespace


def fences(path: Path) -> List[Fence]:
    """Every fenced block of ``path``, with the heading above it and the line before it."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: List[Fence] = []
    heading = ""
    opened: Optional[Tuple[str, str, int]] = None  # fence, info, index of the opening line
    for index, line in enumerate(lines):
        if opened is None:
            match = _FENCE.match(line)
            if match:
                opened = (match.group("fence"), match.group("info").lower(), index)
            elif line.startswith("#"):
                heading = line.lstrip("#").strip()
            continue
        fence, info, start = opened
        if line.strip().startswith(fence[0] * len(fence)) and not line.strip(fence[0]).strip():
            before = lines[start - 1] if start else ""
            text = "".join(f"{body}\n" for body in lines[start + 1 : index])
            found.append(Fence(path, start + 2, info, text, heading, before.strip()))
            opened = None
    assert opened is None, f"{path.name}: a fence opened at line {opened[2] + 1} never closes"
    return found


def snippet_of(fence: Fence) -> Snippet:
    """The fence as a Snippet, its marker read; a line that looks like a marker but is not
    one is an error (a typo must not turn a fragment into a snippet run as printed)."""
    match = _MARKER.fullmatch(fence.marker)
    if match is None:
        assert "snippet:" not in fence.marker, (
            f"{fence.path.name}:{fence.line - 1}: malformed snippet marker {fence.marker!r}"
        )
        return Snippet(fence.path, fence.line, fence.heading, fence.text, AS_PRINTED, None)
    kind = RUNS_IN if match.group("runs") else FRAGMENT
    return Snippet(fence.path, fence.line, fence.heading, fence.text, kind, match.group("test"))


def all_snippets() -> List[Snippet]:
    """Every Python snippet of every document, in document order."""
    return [
        snippet_of(fence)
        for path in documents()
        for fence in fences(path)
        if fence.info == "python"
    ]


def test_id(test: Any) -> str:
    """``tests/test_x.py::name`` for a test function or class (or a method: ``Class.name``)."""
    path = Path(inspect.getfile(test)).resolve().relative_to(ROOT).as_posix()
    return f"{path}::{test.__qualname__}"


def snippets_for(test: Any) -> List[Snippet]:
    """The snippets whose marker names ``test`` (the calling test function or class itself),
    in document order; fails when none does, so a renamed test or marker cannot go unnoticed."""
    wanted = test_id(test)
    found = [snippet for snippet in all_snippets() if snippet.test == wanted]
    assert found, f"no snippet in {[p.name for p in documents()]} is marked for {wanted}"
    return found
