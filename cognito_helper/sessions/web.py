"""The web rules every integration applies alike: where ``next`` may lead, the cookies'
attributes, which sign-out requests are refused, and which requests without a session are
sent to sign in (a browser's) rather than answered 401 (an API client's).

Pure functions of their arguments (and of the config), so Flask, Django and Starlette answer
the same request the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional, Tuple
from urllib.parse import urlsplit

from ..core.errors import ConfigError
from ..settings.config import CognitoConfig
from ..settings.urls import is_loopback

__all__ = [
    "CookieSettings",
    "SIGN_IN_TIMEOUT",
    "accepts_html",
    "app_origin",
    "cookie_settings",
    "cookie_value",
    "safe_next",
    "same_origin",
    "sign_out_refusal",
]

#: Seconds a started sign-in may take (its pending id, cookie and state live this long).
SIGN_IN_TIMEOUT = 600
_MAX_NEXT = 2048
_MAX_MEDIA_RANGES = 64
_MAX_COOKIE_HEADER = 16 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


def safe_next(path: object) -> str:
    """``path`` when it is a path on this app (``/orders?id=3``), else ``"/"``.

    Refused: anything that is not a string starting with one ``/``; ``//host`` and ``/\\host``
    (browsers read both as another host); a scheme or host (``https://evil``,
    ``javascript:``); a backslash anywhere; control characters, spaces and non-ASCII
    characters; more than 2048 characters.
    """
    if not isinstance(path, str) or not path.startswith("/") or len(path) > _MAX_NEXT:
        return "/"
    if path.startswith("//") or "\\" in path:
        return "/"
    if any(not ("!" <= c <= "~") for c in path):
        return "/"
    parts = urlsplit(path)
    if parts.scheme or parts.netloc:
        return "/"
    return path


def _callback(config: CognitoConfig) -> Tuple[str, str, Optional[int]]:
    """The scheme, host and port of the config's ``redirect_uri`` (an http(s) URL)."""
    if not config.redirect_uri:
        raise ConfigError(
            "a signed-in web app needs redirect_uri: the callback URL on the app, registered "
            "with the app client (config key 'redirect_uri' or COGNITO_REDIRECT_URI)"
        )
    parts = urlsplit(config.redirect_uri)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ConfigError(
            f"a signed-in web app needs an http(s) redirect_uri on the app, got "
            f"{config.redirect_uri!r}"
        )
    return scheme, parts.hostname.lower(), parts.port


@dataclass(frozen=True)
class CookieSettings:
    """The attributes of every cookie the sessions set (session id and pending sign-in).

    ``http_only`` (no script reads it), ``same_site`` ``"Lax"`` (not sent on cross-site
    POSTs or subrequests, sent on top-level navigation: the redirect back from the hosted
    UI), ``secure`` (HTTPS only), ``path``. Each integration maps them to its framework's
    ``set_cookie`` keywords.
    """

    secure: bool
    http_only: bool = True
    same_site: str = "Lax"
    path: str = "/"


def cookie_settings(config: CognitoConfig) -> CookieSettings:
    """The cookies' attributes for the app of ``config``: ``Secure`` unless its
    ``redirect_uri`` is plain http on a loopback host (local development), where a browser
    would not send a ``Secure`` cookie back. Raises :class:`ConfigError` without an http(s)
    ``redirect_uri``."""
    scheme, host, _ = _callback(config)
    return CookieSettings(secure=not (scheme == "http" and is_loopback(host.strip("[]"))))


def _origin(scheme: str, host: str, port: Optional[int]) -> str:
    shown = f"[{host}]" if ":" in host else host
    if port is None or port == _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{shown}"
    return f"{scheme}://{shown}:{port}"


def app_origin(config: CognitoConfig) -> str:
    """The app's origin, ``scheme://host[:port]``, read from ``config.redirect_uri`` (the
    callback is on the app). Raises :class:`ConfigError` without an http(s) ``redirect_uri``."""
    return _origin(*_callback(config))


def same_origin(origin_or_referer: Optional[str], origin: str) -> bool:
    """Whether a request's ``Origin`` header (or, without one, its ``Referer``) names
    ``origin`` (see :func:`app_origin`); ``False`` for ``None``, ``"null"`` or anything that
    is not an http(s) URL. Scheme and host compare case-insensitively, default ports equal
    none."""
    if not isinstance(origin_or_referer, str) or not origin_or_referer:
        return False
    try:
        parts = urlsplit(origin_or_referer.strip())
        port = parts.port
    except ValueError:
        return False
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc:
        return False
    return _origin(scheme, parts.hostname.lower(), port) == origin


def sign_out_refusal(
    method: str, origin: Optional[str], referer: Optional[str], app: str
) -> Optional[int]:
    """How an integration answers a request to the sign-out route: ``None`` to sign out,
    ``405`` for a method other than POST (send ``Allow: POST``), ``403`` when the request's
    ``Origin`` (or, without one, its ``Referer``) is not ``app`` (:func:`app_origin`) or
    neither header is there: a cross-site form cannot sign a user out."""
    if not isinstance(method, str) or method.upper() != "POST":
        return 405
    return None if same_origin(origin or referer, app) else 403


def _media_ranges(accept: str) -> List[Tuple[str, str, float]]:
    """``accept``'s media ranges as (type, subtype, quality), lower case; a range without a
    subtype is left out, a quality that is not a number from 0 to 1 is 0 (not acceptable)."""
    found = []
    for part in accept.split(",")[:_MAX_MEDIA_RANGES]:
        media, *parameters = part.split(";")
        kind, _, subtype = media.strip().lower().partition("/")
        if not kind or not subtype:
            continue
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
                if not (math.isfinite(quality) and 0 <= quality <= 1):
                    quality = 0.0
        found.append((kind, subtype, quality))
    return found


def _quality(ranges: List[Tuple[str, str, float]], kind: str, subtype: str) -> float:
    """The quality the most specific matching range gives ``kind/subtype`` (RFC 9110 12.5.1)."""
    best, quality = -1, 0.0
    for range_kind, range_subtype, range_quality in ranges:
        if (range_kind, range_subtype) == (kind, subtype):
            specificity = 2
        elif range_kind == kind and range_subtype == "*":
            specificity = 1
        elif (range_kind, range_subtype) == ("*", "*"):
            specificity = 0
        else:
            continue
        if specificity > best:
            best, quality = specificity, range_quality
    return quality


def accepts_html(accept: object) -> bool:
    """Whether a request whose ``Accept`` header is ``accept`` is a browser asking for a page:
    the one rule every integration applies to a request that needs a session and has none.

    ``True`` (a redirect to sign in that comes back to the page): it names ``text/html`` or
    ``application/xhtml+xml`` explicitly with a quality above 0 (a browser's navigation
    always does), at least as high as the one it gives ``application/json`` (RFC 9110
    12.5.1: the most specific range decides). ``False`` (an API client, a 401): JSON only,
    HTML at a lower quality than JSON, wildcards only (``*/*``, ``text/*``), no header, or
    anything that is not a string. ``fetch()``, ``requests`` and ``curl`` send ``*/*``, and a
    redirect to a sign-in page is no answer for them.
    """
    if not isinstance(accept, str) or not accept.strip():
        return False
    ranges = _media_ranges(accept)
    html = max(
        (q for kind, subtype, q in ranges if f"{kind}/{subtype}" in _HTML_TYPES), default=0.0
    )
    return html > 0 and html >= _quality(ranges, "application", "json")


def cookie_value(cookie_header: Optional[str], name: str) -> Optional[str]:
    """The value of the first cookie called ``name`` in a request's ``Cookie`` header (RFC 6265
    section 4.2: ``name=value`` pairs separated by ``;``), or ``None``. The value is returned
    as sent (the session cookies' values are base64url: never quoted or escaped); a header over
    16 KiB is not read. Cheaper than parsing every cookie, for a lookup made on each request."""
    if not cookie_header or len(cookie_header) > _MAX_COOKIE_HEADER or name not in cookie_header:
        return None
    for pair in cookie_header.split(";"):
        key, equals, value = pair.partition("=")
        if equals and key.strip() == name:
            return value.strip()
    return None
