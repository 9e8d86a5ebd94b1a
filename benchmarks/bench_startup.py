"""How long a process takes to start with cognito_helper, as ratios to ``python -c pass``.

Run: ``python benchmarks/bench_startup.py`` (``--check`` exits 1 when a target is missed).

Each round runs every command once, in a shuffled order, so a noisy neighbour slows all of
them alike; the report gives each command's median and its ratio to the median of
``python -c pass`` measured in the same rounds. Targets: ``import cognito_helper``,
``cognito-helper --help`` and ``cognito-helper decode TOKEN`` at most 4x ``python -c pass``.
The last rows show what the first verification or HTTP call pays on top: the imports of
requests, urllib3, python-jose and cryptography, made on first use.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

TARGET = 4.0


def _token() -> str:
    def part(obj: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"sub": "x", "iss": "https://example.com/p", "token_use": "id", "exp": now + 60}
    return f"{part({'alg': 'RS256', 'kid': 'k'})}.{part(claims)}.c2ln"


def _commands(as_module: bool) -> List[Tuple[str, List[str], Optional[str]]]:
    """(label, argv, stdin) for each command measured; the first one is the baseline."""
    python = sys.executable
    script = "" if as_module else shutil.which("cognito-helper") or ""
    cli = [script] if script else [python, "-m", "cognito_helper"]
    token = _token()
    return [
        ("python -c pass", [python, "-c", "pass"], None),
        ("import cognito_helper", [python, "-c", "import cognito_helper"], None),
        ("cognito-helper --help", [*cli, "--help"], None),
        ("cognito-helper --version", [*cli, "--version"], None),
        ("cognito-helper decode TOKEN", [*cli, "decode", token], None),
        (
            "import + first verify (jwt_helper)",
            [python, "-c", "import cognito_helper; cognito_helper.decode_verify_jwt"],
            None,
        ),
        (
            "import + first HTTP call (token_helper)",
            [python, "-c", "import cognito_helper; cognito_helper.get_cognito_tokens"],
            None,
        ),
    ]


def _run_once(argv: Sequence[str], stdin: Optional[str], tree: Optional[str]) -> float:
    env = dict(os.environ)
    if tree:
        env["PYTHONPATH"] = tree
    for name in list(env):
        if name.startswith("COGNITO_"):
            del env[name]
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own interpreter and console script
        list(argv), input=stdin, capture_output=True, text=True, env=env, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):  # decode of a fake token is fine; a crash is not
        raise SystemExit(f"{' '.join(argv[:3])} failed: {done.stderr[-500:]}")
    return elapsed


def measure(rounds: int, seed: int, tree: Optional[str] = None) -> Dict[str, float]:
    """The median seconds of each command over ``rounds`` interleaved rounds.

    ``tree``: measure the package in that source tree (put first on ``PYTHONPATH``; the CLI
    then runs as ``python -m cognito_helper``), e.g. an older commit's worktree.
    """
    commands = _commands(as_module=tree is not None)
    samples: Dict[str, List[float]] = {label: [] for label, _, _ in commands}
    rng = random.Random(seed)  # noqa: S311 - the order of the runs, not a secret
    for _ in range(2):  # warm the file cache
        for _, argv, stdin in commands:
            _run_once(argv, stdin, tree)
    for _ in range(rounds):
        order = list(commands)
        rng.shuffle(order)
        for label, argv, stdin in order:
            samples[label].append(_run_once(argv, stdin, tree))
    return {label: statistics.median(times) for label, times in samples.items()}


def report(medians: Dict[str, float]) -> Tuple[List[str], bool]:
    """The table, and whether every target holds."""
    base = medians["python -c pass"]
    targeted = {"import cognito_helper", "cognito-helper --help", "cognito-helper decode TOKEN"}
    lines = [f"{'command':42} {'median ms':>10} {'x python -c pass':>17}  target"]
    ok = True
    for label, seconds in medians.items():
        ratio = seconds / base
        verdict = ""
        if label in targeted:
            passed = ratio <= TARGET
            ok = ok and passed
            verdict = f"<= {TARGET:g}x: {'PASS' if passed else 'FAIL'}"
        lines.append(f"{label:42} {seconds * 1000:10.1f} {ratio:17.2f}  {verdict}")
    return lines, ok


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Measure, print the table, and with ``--check`` exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--tree", help="measure the package in this source tree (CLI as python -m cognito_helper)"
    )
    args = parser.parse_args(argv)
    lines, ok = report(measure(args.rounds, args.seed, args.tree))
    where = f"; tree {args.tree}" if args.tree else ""
    print(f"{args.rounds} interleaved rounds; medians; python {sys.version.split()[0]}{where}")
    print("\n".join(lines))
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
