"""The process's state, part by part, and its one reset: :func:`reset`.

Everything the package keeps at module level between calls is one of the :data:`PARTS`: a
named object in a named module, each with the call that empties it. :func:`reset` makes every
part as a fresh import has it, so that a test starts where a new process would; the
project's ``tests/test_reset.py`` fails when a module gains state that no part names.

A part whose module was never imported holds nothing, and :func:`reset` leaves that module
unimported (so it never needs Flask, FastAPI or Django installed).
"""

from __future__ import annotations

import sys
from typing import Callable, NamedTuple, Tuple

__all__ = ["PARTS", "StatePart", "reset"]


class StatePart(NamedTuple):
    """One piece of process state: where it is, what it holds, and how it is emptied."""

    #: A short name for it, as :func:`reset`'s docstring lists it.
    label: str
    #: The module that holds it.
    module: str
    #: Its module-level names there (the object, or the names a function rebinds).
    names: Tuple[str, ...]
    #: Empties it (the module is imported already when this is called).
    reset: Callable[[], None]


def _jwks_caches() -> None:
    from ..verification.jwks_registry import caches

    caches.clear()


def _alb_key_caches() -> None:
    from ..verification.alb_keys import forget_alb_key_caches

    forget_alb_key_caches()  # each cache's keys are withdrawn: the ALB memo drops their tokens


def _memo() -> None:
    from ..verification.memo import DEFAULT_MAXSIZE, memo

    memo.resize(DEFAULT_MAXSIZE)
    memo.clear()


def _alb_memo() -> None:
    from ..verification.alb import MEMO_SIZE, memo

    memo.resize(MEMO_SIZE)
    memo.clear()


def _header_kids() -> None:
    from ..verification.jws import forget_header_kids

    forget_header_kids()


def _alb_verifiers() -> None:
    from ..verification.alb import forget_alb_verifiers

    forget_alb_verifiers()


def _m2m_slots() -> None:
    from ..oauth.m2m_slots import slots

    slots.clear()


def _working_secrets() -> None:
    from ..oauth.client_secrets import forget_working_secrets

    forget_working_secrets()


def _default_config() -> None:
    from ..settings.default import configure

    configure(None)  # also forgets the config read from the COGNITO_* variables


def _env_warnings() -> None:
    from ..settings.env import forget_warnings

    forget_warnings()


def _django_sign_in() -> None:
    from ..integrations.django_settings import forget_sign_in

    forget_sign_in()


def _http_session() -> None:
    from ..core.http import close_session

    close_session()


def _at_hash() -> None:
    from ..core.encoding import at_hash

    at_hash.cache_clear()


_V = "cognito_helper.verification."

#: Every piece of process state, in the order :func:`reset` empties them.
PARTS: Tuple[StatePart, ...] = (
    StatePart("JWKS caches", _V + "jwks_registry", ("caches",), _jwks_caches),
    StatePart("ALB key caches", _V + "alb_keys", ("_caches",), _alb_key_caches),
    StatePart("verification memo", _V + "memo", ("memo",), _memo),
    StatePart("ALB verification memo", _V + "alb", ("memo",), _alb_memo),
    StatePart("header kid cache", _V + "jws", ("_header_kids",), _header_kids),
    StatePart("ALB verifiers", _V + "alb", ("_verifiers",), _alb_verifiers),
    StatePart("M2M slots", "cognito_helper.oauth.m2m_slots", ("slots",), _m2m_slots),
    StatePart(
        "working client secrets",
        "cognito_helper.oauth.client_secrets",
        ("_working",),
        _working_secrets,
    ),
    StatePart(
        "default config",
        "cognito_helper.settings.default",
        ("_default", "_env_config"),
        _default_config,
    ),
    StatePart("env warnings", "cognito_helper.settings.env", ("_warned",), _env_warnings),
    StatePart(
        "Django sign-in",
        "cognito_helper.integrations.django_settings",
        ("_current",),
        _django_sign_in,
    ),
    StatePart("HTTP session", "cognito_helper.core.http", ("_session",), _http_session),
    StatePart("at_hash cache", "cognito_helper.core.encoding", ("at_hash",), _at_hash),
)


def reset() -> None:
    """Return the process's state to that of a fresh import: for tests, between them.

    Clears, in this order:

    * the JWKS caches: every ``jwks_cache(url)`` (the next verification fetches anew);
    * the ALB key caches (``forget_alb_key_caches()``);
    * the verification memo: emptied, its counters zeroed, its size back to
      ``DEFAULT_MAXSIZE`` (4096);
    * the ALB verification memo: emptied, its size back to ``MEMO_SIZE`` (1024);
    * the header kid cache (header segments already checked, and their ``kid``);
    * the ALB verifiers ``verify_alb_jwt`` built (its checked options);
    * the M2M slots: the tokens and cool-downs shared by ``ClientCredentials`` instances
      (an instance made before keeps its slot; a new one starts with no token);
    * the working client secrets: which of two configured client secrets Cognito accepted
      (each config sends its first one first again);
    * the default config: ``configure(None)``, which also forgets the config read from the
      ``COGNITO_*`` variables (they are read again when needed);
    * the env warnings: each misspelt ``COGNITO_*`` name is warned about again, once;
    * the Django sign-in: the ``CognitoSessions`` built from ``COGNITO`` and
      ``COGNITO_LOGIN``, with its memory store (the next request builds a new one);
    * the HTTP session: its pooled connections closed (the next request makes a new one);
    * the at_hash cache (the ``at_hash`` of recent access tokens).

    Not cleared: what instances hold (a ``JwksCache`` or ``ClientCredentials`` kept by the
    caller), and the record of views ``require_token`` decorated (weak references to live
    functions, not a cache). Not safe while other threads verify or request tokens.
    """
    for part in PARTS:
        if part.module in sys.modules:
            part.reset()
