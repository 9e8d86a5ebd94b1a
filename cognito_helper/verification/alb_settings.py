"""The configuration of an ALB verifier (:class:`~cognito_helper.verification.alb.AlbVerifier`):
its ``alb_arn``, ``region``, ``client_id``, ``issuer`` and ``key_url`` checked
(:func:`alb_settings`), and its ``timeout`` (:func:`checked_timeout`). ``leeway`` has the
rule every verifier shares (:func:`~cognito_helper.verification.claims.checked_leeway`).
"""

from __future__ import annotations

from typing import Any, FrozenSet, NamedTuple, Optional

from ..core.errors import ConfigError
from ..settings import fields
from .alb_keys import alb_key_url, parse_arns

__all__ = ["AlbSettings", "alb_settings", "checked_timeout"]


class AlbSettings(NamedTuple):
    """A verifier's configuration, checked."""

    arns: FrozenSet[str]
    clients: Optional[FrozenSet[str]]
    issuer: Optional[str]
    key_url: str  # a template holding "{kid}" once, the region already filled in


def alb_settings(
    alb_arn: Any, region: Any, client_id: Any, issuer: Any, key_url: Any
) -> AlbSettings:
    """The checked settings for these arguments; :class:`ConfigError` for a bad one.

    ``client_id`` is one app client id or a list of them, read by the library's one rule for
    such options (:func:`~cognito_helper.settings.fields.names`).
    """
    arns, regions, partitions = parse_arns(alb_arn)
    clients = None
    if client_id is not None:
        clients = frozenset(fields.names("client_id", client_id, ConfigError))
    if issuer is not None and (type(issuer) is not str or not issuer):
        raise ConfigError("issuer must be a non-empty string (the tokens' 'iss') or None")
    return AlbSettings(arns, clients, issuer, alb_key_url(key_url, region, regions, partitions))


def checked_timeout(timeout: Any) -> float:
    """``timeout``, seconds a key fetch may take, by the library's one rule for timeouts
    (:func:`~cognito_helper.settings.fields.timeout`: a number in (0, 300]); ``ValueError``
    otherwise."""
    return fields.timeout(timeout, ValueError)
