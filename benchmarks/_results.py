"""``--results FILE``: write one benchmark's report as its section of ``benchmarks/RESULTS.md``.

Each benchmark owns one ``# ...`` section of the file; writing it replaces that section (up to
the next ``# `` heading) and keeps the others, so the three benchmarks can be re-run one at a
time. A section not in the file yet is added at the end.
"""

from __future__ import annotations

import os
from typing import List, Optional, Sequence


def write_section(path: str, title: str, command: str, report: Sequence[str]) -> None:
    """Replace (or add) the section ``# {title}`` of ``path`` with ``report``, a code block."""
    section = [
        f"# {title}",
        "",
        f"Regenerate with `{command}` (see docs/performance.md).",
        "",
        "```",
        *report,
        "```",
        "",
    ]
    lines: List[str] = []
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    start = next((i for i, line in enumerate(lines) if line == f"# {title}"), None)
    if start is None:
        if lines and lines[-1].strip():
            lines.append("")
        lines.extend(section)
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("# ")), len(lines)
        )
        lines[start:end] = section
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines).rstrip("\n") + "\n")


def publish(report: Sequence[str], results: Optional[str], title: str, script: str) -> None:
    """Print ``report``; with ``--results FILE`` also write it as the section ``# {title}``
    (``script``, e.g. ``bench_m2m.py``, names the command that regenerates it)."""
    print("\n".join(report))
    if results:
        command = f"python benchmarks/{script} --results benchmarks/RESULTS.md"
        write_section(results, title, command, report)
