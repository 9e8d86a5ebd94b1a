"""The pool's OpenID configuration: :meth:`CognitoConfig.from_discovery`'s reading of it.

Cognito publishes it at ``{issuer}/.well-known/openid-configuration``, on the issuer's host
(not the hosted-UI domain), and it stays there when the domain changes. For a pool with a
domain it lists ``issuer``, ``jwks_uri`` (``{issuer}/.well-known/jwks.json``), the
hosted-UI endpoints ``authorization_endpoint`` (``{domain}/oauth2/authorize``),
``token_endpoint`` (``/oauth2/token``), ``userinfo_endpoint`` (``/oauth2/userInfo``),
``revocation_endpoint`` (``/oauth2/revoke``) and ``end_session_endpoint`` (``/logout``),
and what it supports (``response_types_supported``, ``scopes_supported``,
``subject_types_supported``, ``id_token_signing_alg_values_supported``,
``token_endpoint_auth_methods_supported``), which a config has no use for. A pool without a
domain lists endpoints under the issuer itself (``{issuer}/token``...), which answer nothing.

A :class:`~cognito_helper.settings.config.CognitoConfig` holds one hosted-UI ``domain`` and
derives every endpoint from it, so the document maps onto its settings as:

* ``user_pool_id``: the issuer's last path segment;
* ``domain``: the base of ``token_endpoint``; every other endpoint listed must be the one the
  config derives from it, or the document is refused (a config would follow it only in part);
  none for a pool without a domain;
* ``issuer`` and ``jwks_url``: left to the pool's default when the issuer is one the default
  trusts and its keys are at ``{issuer}/.well-known/jwks.json``; else both, as listed.

The document is read with the library's one HTTP call (:func:`cognito_helper.core.http.request`:
no redirect followed, the config's ``timeout`` for the whole answer, at most
:data:`MAX_DISCOVERY_BYTES`). Every URL in it is held to the rule of every configured URL
(:func:`~cognito_helper.settings.urls.check_url`: https, plain http on loopback only).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Dict, Mapping, Optional, Tuple
from urllib.parse import urlsplit

from ..core import http as _http
from ..core.arguments import type_name
from ..core.encoding import json_object
from ..core.errors import CognitoConnectionError, ConfigError
from . import fields as _fields
from . import issuers as _issuers
from .config import CognitoConfig
from .urls import check_url

__all__ = ["DISCOVERY_PATH", "MAX_DISCOVERY_BYTES", "discover", "document_settings"]

#: Where the document is, below the issuer.
DISCOVERY_PATH = "/.well-known/openid-configuration"
#: The largest document read. Cognito's is about 1.3 KB; a larger one is refused.
MAX_DISCOVERY_BYTES = 64 * 1024

_JWKS_PATH = "/.well-known/jwks.json"
_REQUIRED = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
_OPTIONAL = ("userinfo_endpoint", "revocation_endpoint", "end_session_endpoint")
# Where a config sends each request, below its domain.
_PATHS = MappingProxyType(
    {
        "authorization_endpoint": CognitoConfig.authorize_url.path,
        "token_endpoint": CognitoConfig.token_url.path,
        "userinfo_endpoint": CognitoConfig.userinfo_url.path,
        "revocation_endpoint": CognitoConfig.revoke_url.path,
        "end_session_endpoint": "/logout",  # CognitoConfig.logout_url's
    }
)


def _shown(value: str) -> str:
    """``value`` for a message: quoted, and cut short when long."""
    return repr(value if len(value) <= 200 else value[:200] + "...")


def _locate(url: object) -> Tuple[str, str]:
    """``(issuer, document URL)`` for the issuer's URL or the document's own.

    Both are held to the rule of a configured URL; a query is refused (an issuer has none).
    """
    given = url.strip() if isinstance(url, str) else url  # as every setting is read
    checked = _fields.url("discovery URL", given, custom_scheme=False)
    if urlsplit(checked).query or "?" in checked:
        raise ConfigError(
            f"discovery URL must not contain a query string: give the pool's issuer "
            f"(https://cognito-idp.REGION.amazonaws.com/POOL_ID) or its {DISCOVERY_PATH} URL"
        )
    if checked.endswith(DISCOVERY_PATH):
        return checked[: -len(DISCOVERY_PATH)], checked
    issuer = checked[:-1] if checked.endswith("/") else checked
    return issuer, issuer + DISCOVERY_PATH


def _fetch(where: str, timeout: float) -> Dict[str, Any]:
    """The document at ``where`` as a JSON object; :class:`ConfigError` otherwise."""
    try:
        resp = _http.request(
            "GET",
            where,
            what="OpenID configuration",
            timeout=timeout,
            max_bytes=MAX_DISCOVERY_BYTES,
        )
    except CognitoConnectionError as exc:
        raise ConfigError(f"cannot read the OpenID configuration at {where}: {exc}") from None
    if resp.status != 200:
        raise ConfigError(
            f"the OpenID configuration at {where} answered HTTP {resp.status}, not 200 (a "
            "redirect is not followed): give the pool's issuer URL"
        )
    try:
        return json_object(resp.body)
    except ValueError as exc:
        raise ConfigError(
            f"the OpenID configuration at {where} is not a JSON object: {exc}"
        ) from None


def _string(document: Mapping[str, Any], key: str, where: str) -> Optional[str]:
    """The document's ``key``, a string, or ``None`` when it has none."""
    value = document.get(key)
    if value is None:
        if key in _REQUIRED:
            raise ConfigError(f"the OpenID configuration at {where} has no {key}")
        return None
    if not isinstance(value, str):
        raise ConfigError(
            f"{key} of the OpenID configuration at {where} must be a string, got {type_name(value)}"
        )
    if key != "issuer":
        check_url(f"{key} of the OpenID configuration at {where}", value, custom_scheme=False)
    return value


def _pool_of(issuer: str, where: str) -> Tuple[str, str]:
    """The pool id the issuer ends with, and its region."""
    try:
        return _fields.user_pool_id(issuer.rsplit("/", 1)[-1])
    except ConfigError as exc:
        raise ConfigError(
            f"the issuer {_shown(issuer)} of the OpenID configuration at {where} does not end "
            f"with a Cognito user pool id: {exc}"
        ) from None


def _domain(
    listed: Mapping[str, Optional[str]], issuer: str, region: str, where: str
) -> Optional[str]:
    """The hosted-UI domain the endpoints are on; ``None`` for a pool without a domain."""
    token = str(listed["token_endpoint"])
    if token == issuer + "/token":
        return None  # no domain: Cognito lists endpoints under the issuer, which answer nothing
    path = _PATHS["token_endpoint"]
    if not token.endswith(path):
        raise ConfigError(
            f"token_endpoint {_shown(token)} of the OpenID configuration at {where} is not a "
            f"hosted-UI domain's {path}: a config sends token requests to {{domain}}{path}"
        )
    try:
        domain = _fields.domain(token[: -len(path)], region) or ""
    except ConfigError as exc:
        raise ConfigError(
            f"token_endpoint {_shown(token)} of the OpenID configuration at {where} is not "
            f"below a hosted-UI domain a config can hold: {exc}"
        ) from None
    for key, below in _PATHS.items():
        found = listed.get(key)
        if found is not None and found != domain + below:
            raise ConfigError(
                f"{key} {_shown(found)} of the OpenID configuration at {where} is not on the "
                f"token endpoint's domain: a config sends these requests to {domain + below}"
            )
    return domain


def document_settings(url: str, document: Mapping[str, Any]) -> Dict[str, str]:
    """The :class:`CognitoConfig` settings that ``document``, read from ``url``, gives.

    ``url`` is the issuer's URL or the document's. The result has ``user_pool_id``;
    ``domain`` unless the pool has none; ``issuer`` and ``jwks_url`` only when they are not
    the pool's defaults (see the module docstring). Raises :class:`ConfigError` for a
    document whose ``issuer`` is not the URL's, a required field missing or not a string, an
    endpoint that is not https (loopback aside) or not where a config sends its requests.
    """
    issuer, where = _locate(url)
    found = {key: _string(document, key, where) for key in (*_REQUIRED, *_OPTIONAL)}
    if found["issuer"] != issuer:
        raise ConfigError(
            f"the OpenID configuration at {where} names the issuer {_shown(str(found['issuer']))}"
            f", not {issuer!r}: it describes another pool, or was not served by its issuer"
        )
    pool, region = _pool_of(issuer, where)
    settings = {"user_pool_id": pool}
    domain = _domain(found, issuer, region, where)
    if domain is not None:
        settings["domain"] = domain
    trusted = (_issuers.original_issuer(region, pool), _issuers.updated_issuer(region, pool))
    if issuer not in trusted or found["jwks_uri"] != issuer + _JWKS_PATH:
        settings["issuer"] = _fields.url("issuer", issuer, custom_scheme=False)
        settings["jwks_url"] = _issuers.jwks_url(found["jwks_uri"], pool, region)
    return settings


def discover(url: str, *, timeout: float) -> Dict[str, str]:
    """Read the pool's OpenID configuration from ``url`` (one request) and return the
    settings it gives (:func:`document_settings`).

    ``timeout`` bounds the whole request, in seconds. Raises :class:`ConfigError` for a URL
    that cannot be an issuer (checked before any request), a document that cannot be read
    (unreachable, an HTTP status other than 200, larger than :data:`MAX_DISCOVERY_BYTES`,
    slower than ``timeout``, not a JSON object), and what :func:`document_settings` refuses.
    """
    _, where = _locate(url)
    return document_settings(url, _fetch(where, timeout))
