"""The configuration of an ALB verification call (:func:`~cognito_helper.verify_alb_jwt`):
its ``alb_arn``, ``region``, ``client_id``, ``issuer`` and ``key_url`` checked once and
remembered (:func:`alb_settings`), and its ``leeway`` and ``timeout`` checked on every call.
"""

from __future__ import annotations

from typing import Any, Dict, FrozenSet, NamedTuple, Optional

from ..core.errors import ConfigError
from .alb_keys import alb_key_url, parse_arns

__all__ = ["AlbSettings", "alb_settings", "checked_leeway", "checked_timeout"]


class AlbSettings(NamedTuple):
    """One call's configuration, checked once and remembered."""

    arns: FrozenSet[str]
    clients: Optional[FrozenSet[str]]
    issuer: Optional[str]
    key_url: str  # a template holding "{kid}" once, the region already filled in


_settings_cache: Dict[Any, AlbSettings] = {}
_MAX_SETTINGS = 64


def forget_alb_settings() -> None:
    """Forget every remembered settings (``cognito_helper.testing.reset()`` calls it)."""
    _settings_cache.clear()


def alb_settings(
    alb_arn: Any, region: Any, client_id: Any, issuer: Any, key_url: Any
) -> AlbSettings:
    """The checked settings for these arguments; :class:`ConfigError` for a bad one."""
    arn_key = tuple(alb_arn) if isinstance(alb_arn, (list, tuple)) else alb_arn
    client_key = tuple(client_id) if isinstance(client_id, (list, tuple)) else client_id
    key: Any = (arn_key, region, client_key, issuer, key_url)
    try:
        found = _settings_cache.get(key)
    except TypeError:  # something unhashable: the checks below name it
        found = None
        key = None
    if found is not None:
        return found
    arns, regions, partitions = parse_arns(alb_arn)
    clients = _clients(client_id)
    if issuer is not None and (type(issuer) is not str or not issuer):
        raise ConfigError("issuer must be a non-empty string (the tokens' 'iss') or None")
    settings = AlbSettings(arns, clients, issuer, alb_key_url(key_url, region, regions, partitions))
    if key is not None:
        if len(_settings_cache) >= _MAX_SETTINGS:
            _settings_cache.clear()
        _settings_cache[key] = settings
    return settings


def _clients(client_id: Any) -> Optional[FrozenSet[str]]:
    if client_id is None:
        return None
    clients = (client_id,) if isinstance(client_id, str) else client_id
    if (
        not isinstance(clients, (list, tuple))
        or not clients
        or not all(type(c) is str and c for c in clients)
    ):
        raise ConfigError("client_id must be a non-empty string, a list of them, or None")
    return frozenset(clients)


def checked_timeout(timeout: Any) -> float:
    """``timeout`` if it is a number of seconds in (0, 3600]; ``ValueError`` otherwise."""
    if type(timeout) is float or type(timeout) is int:
        if 0 < timeout <= 3600:
            return timeout
    raise ValueError("timeout must be a number of seconds above 0 (at most 3600)")


def checked_leeway(leeway: Any) -> float:
    """``leeway`` if it is a number of seconds in [0, 1e9); ``ValueError`` otherwise."""
    if type(leeway) is int and 0 <= leeway < 10**9:
        return leeway
    if isinstance(leeway, bool) or not isinstance(leeway, (int, float)) or not 0 <= leeway < 1e9:
        raise ValueError("leeway must be a non-negative number of seconds")
    return float(leeway)
