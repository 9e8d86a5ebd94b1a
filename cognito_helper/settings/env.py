"""The ``COGNITO_*`` environment variables: which setting each one sets, and reading them.

:data:`ENV_NAMES` is the one table of them. :meth:`CognitoConfig.from_env
<cognito_helper.config.CognitoConfig.from_env>`, :func:`~cognito_helper.config.get_config` and
the ``cognito-helper`` command all read the environment through :func:`settings`, so all of
them say the same when a variable is missing, and name the variable when one is wrong.
"""

from __future__ import annotations

import os
import threading
import warnings
from types import MappingProxyType
from typing import Any, Dict, FrozenSet, Mapping, Optional, Set

from ..core.errors import ConfigError
from .fields import closest

__all__ = [
    "CONFIGURE_IN_CODE",
    "ENV_COMMA_LISTS",
    "ENV_LISTS",
    "ENV_NAMES",
    "LIBRARY_VARIABLES",
    "NotConfiguredError",
    "UnknownVariableWarning",
    "naming_the_variable",
    "settings",
    "values",
]

#: The environment variable each setting is read from, keyed by the field it sets.
ENV_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "user_pool_id": "COGNITO_USER_POOL_ID",
        "client_id": "COGNITO_CLIENT_ID",
        "client_secret": "COGNITO_CLIENT_SECRET",
        "domain": "COGNITO_DOMAIN",
        "redirect_uri": "COGNITO_REDIRECT_URI",
        "logout_uri": "COGNITO_LOGOUT_URI",
        "region": "COGNITO_REGION",
        "scopes": "COGNITO_SCOPES",
        "issuer": "COGNITO_ISSUER",
        "jwks_url": "COGNITO_JWKS_URL",
        "replica_regions": "COGNITO_REPLICA_REGIONS",
    }
)

#: The fields of :data:`ENV_NAMES` whose variable holds a space-separated list.
ENV_LISTS: FrozenSet[str] = frozenset({"scopes", "issuer"})

#: The fields of :data:`ENV_NAMES` whose variable holds a comma-separated list:
#: ``COGNITO_CLIENT_SECRET``, whose two secrets (while one is rotated) no Cognito secret's
#: characters can be confused with (they are letters, digits, ``_`` and ``+``), and
#: ``COGNITO_REPLICA_REGIONS`` (``eu-west-1,us-west-2``).
ENV_COMMA_LISTS: FrozenSet[str] = frozenset({"client_secret", "replica_regions"})

#: Every ``COGNITO_*`` environment variable the library reads: those of :data:`ENV_NAMES`, and
#: ``COGNITO_JWKS`` (a JWKS to preload, read by :mod:`cognito_helper.verification.jwks`).
LIBRARY_VARIABLES: FrozenSet[str] = frozenset({*ENV_NAMES.values(), "COGNITO_JWKS"})

# COGNITO_* names of the library's that are no variable it reads: the Django setting, and the
# project's own test knobs (COGNITO_HELPER_FUZZ_EXAMPLES, ...). Never warned about.
_NOT_VARIABLES = frozenset({"COGNITO_AUTHENTICATION"})
_TOOL_PREFIX = "COGNITO_HELPER_"
_PREFIX = "COGNITO_"

_REQUIRED = ("user_pool_id", "client_id")

#: What the library's messages offer instead of setting the variables (the CLI offers --config).
CONFIGURE_IN_CODE = (
    "call cognito_helper.configure(CognitoConfig(...)) or configure({...}) at start-up, or "
    "pass config= to each call"
)


class NotConfiguredError(ConfigError):
    """No ``COGNITO_*`` variable is set at all; the message lists every way to configure."""


class UnknownVariableWarning(UserWarning):
    """A ``COGNITO_*`` variable the library does not read looks like a misspelling of one it does.

    The message names both (never the value). It is given once per name per process.
    """


_warned: Set[str] = set()
_warned_lock = threading.Lock()


def forget_warnings() -> None:
    """Forget which misspelt names were warned about: each is warned about again, once
    (``cognito_helper.testing.reset()`` calls it)."""
    with _warned_lock:
        _warned.clear()


def _misspelled(env: Mapping[str, str]) -> Dict[str, str]:
    """Each unknown ``COGNITO_*`` name of ``env`` that misspells an unset library variable.

    A name is compared with the variables that are not set (one that is set was not missed),
    without their common ``COGNITO_`` prefix; a name like none of them belongs to another tool.
    """
    cut = len(_PREFIX)
    unset = [name[cut:] for name in LIBRARY_VARIABLES if not (env.get(name) or "").strip()]
    found = {}
    for name in env:
        if not name.startswith(_PREFIX) or name.startswith(_TOOL_PREFIX):
            continue
        if name in LIBRARY_VARIABLES or name in _NOT_VARIABLES:
            continue
        meant = closest(name[cut:], unset)
        if meant is not None:
            found[name] = _PREFIX + meant
    return found


def _warn_misspelled(env: Mapping[str, str]) -> None:
    """An :class:`UnknownVariableWarning` for each misspelled name not yet warned about."""
    for name, meant in sorted(_misspelled(env).items()):
        with _warned_lock:
            if name in _warned:
                continue
            _warned.add(name)
        warnings.warn(
            f"{name} is set, but cognito_helper reads no such variable (it is ignored): "
            f"did you mean {meant}?",
            UnknownVariableWarning,
            stacklevel=3,  # the caller of values()
        )


def values(environ: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """The value of each variable that is set, stripped, keyed by field; blank ones left out.

    ``environ`` defaults to ``os.environ``. A ``COGNITO_*`` name the library does not read
    but that looks like a misspelling of one it does gives an :class:`UnknownVariableWarning`
    naming that one, once per name per process.
    """
    env = os.environ if environ is None else environ
    _warn_misspelled(env)
    found = {}
    for field, name in ENV_NAMES.items():
        value = (env.get(name) or "").strip()
        if value:
            found[field] = value
    return found


def settings(
    environ: Optional[Mapping[str, str]] = None, otherwise: str = CONFIGURE_IN_CODE
) -> Dict[str, Any]:
    """The constructor keywords the variables give (lists split at spaces, the client
    secrets at a comma), not yet checked.

    Raises :class:`NotConfiguredError` when no variable is set, and :class:`ConfigError`
    naming the variables when a required one is not; both messages end with ``otherwise``,
    the other ways to configure.
    """
    given = values(environ)
    if not given:
        pool, client = ENV_NAMES["user_pool_id"], ENV_NAMES["client_id"]
        raise NotConfiguredError(
            f"no Cognito configuration: set {pool} and {client} (plus COGNITO_DOMAIN and "
            "COGNITO_REDIRECT_URI to sign in, COGNITO_CLIENT_SECRET for a confidential app "
            f"client), or {otherwise}"
        )
    missing = [ENV_NAMES[field] for field in _REQUIRED if field not in given]
    if missing:
        verb, them = ("is", "it") if len(missing) == 1 else ("are", "them")
        raise ConfigError(
            f"{' and '.join(missing)} {verb} not set (other COGNITO_* variables are): set "
            f"{them}, or {otherwise}"
        )
    return {field: _split(field, value) for field, value in given.items()}


def _split(field: str, value: str) -> Any:
    """A variable's value as the constructor takes it: a list variable as a tuple."""
    if field in ENV_LISTS:
        return tuple(value.split())
    if field in ENV_COMMA_LISTS and "," in value:
        return tuple(part.strip() for part in value.split(","))
    return value


def naming_the_variable(exc: ConfigError) -> ConfigError:
    """``exc`` from checking :func:`settings`, led by the variable to fix instead of the field.

    Every message of :mod:`cognito_helper.settings.fields` starts with the field it is about.
    """
    message = str(exc)
    variable = ENV_NAMES.get(message.split(" ", 1)[0])
    where = variable or "from the COGNITO_* environment variables"
    return ConfigError(f"{where}: {message}")
