"""The ``cognito-helper`` command: a demo of the whole flow, and the daily chores.

``demo`` runs the hosted-UI flow against an embedded LocalCognito (``--serve`` keeps it
running) and takes no ``--config``; ``login-url``, ``exchange``, ``refresh``, ``m2m-token``
and ``verify`` work against the pool configured by the ``COGNITO_*`` variables or
``--config FILE`` (before or after the command); ``decode`` needs no configuration and
ignores it. ``verify`` alone trusts several app clients or pools: ``--config`` given once for
each, or several ids in ``COGNITO_CLIENT_ID``; the other commands act as one app client and
refuse several ids. ``discover`` reads a pool's OpenID configuration and prints the
``COGNITO_*`` variables it gives; it ignores ``--config``.

Exit codes: 0 success; 1 the token or grant was rejected (or a demo step misbehaved);
2 usage or configuration error; 3 Cognito (or its JWKS) unreachable. Every error is one
``error:`` line naming the exception and the reason, then a ``hint:`` saying what to fix.
Secrets are printed only by the commands whose job is to print them (``exchange``,
``refresh`` and ``m2m-token`` print tokens, ``login-url --pkce`` the verifier,
``demo --serve`` the demo user's password and the throwaway secret of its local
machine-to-machine client); never a client secret of yours.

Where things are: :mod:`.parser` (the command line and its help), :mod:`.context` (one run:
arguments, streams, config, exit codes), :mod:`.commands` (login-url, exchange, refresh,
m2m-token, verify, decode), :mod:`.demo`, :mod:`.discover` and :mod:`.diagnose` (the
``error:`` and ``hint:`` lines).
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any, Callable, Optional, Sequence, TextIO, Type

from ..core.errors import CognitoError
from ..settings.env import UnknownVariableWarning
from .context import EXIT_OK, Context, DemoStepError, UsageError
from .diagnose import diagnose
from .parser import build_parser

__all__ = ["main"]


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the ``cognito-helper`` command line; return its exit code.

    0 success, 1 token or grant rejected, 2 usage or configuration error, 3 Cognito
    unreachable. ``argv`` defaults to ``sys.argv[1:]``; argparse itself exits with 2 on a
    malformed command line.
    """
    args = build_parser().parse_args(argv)
    ctx = Context(args, sys.stdout, sys.stderr, sys.stdin)
    with warnings.catch_warnings():
        warnings.showwarning = _warning_line(ctx.err, warnings.showwarning)
        return _run(args.run, ctx)


def _warning_line(err: TextIO, otherwise: Callable[..., None]) -> Callable[..., None]:
    """A ``warnings.showwarning`` that prints the library's warnings as ``warning:`` lines."""

    def show(message: Warning | str, category: Type[Warning], *args: Any, **kwargs: Any) -> None:
        if issubclass(category, UnknownVariableWarning):
            err.write(f"warning: {message}\n")
            err.flush()
        else:
            otherwise(message, category, *args, **kwargs)

    return show


def _run(run: Callable[[Context], int], ctx: Context) -> int:
    """Run the command; turn what it raises into the exit code and the error lines."""
    try:
        return run(ctx)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, and keep Python's final
        # flush of stdout from complaining about it again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        return 130
    except (UsageError, ValueError, DemoStepError, CognitoError) as exc:
        code, lines = diagnose(exc, ctx)
        ctx.out.flush()
        ctx.err.write("".join(line + "\n" for line in lines))
        return code
