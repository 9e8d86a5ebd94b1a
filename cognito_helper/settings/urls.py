"""The rules a configured URL or host must pass, whichever setting it is given for.

Every function takes the setting's ``name`` and names it first in the :class:`ConfigError`
it raises, so that the message says which setting to fix. urllib3, which makes the
connections, is imported only when an http(s) URL is checked.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Sequence
from urllib.parse import SplitResult, urlsplit

from ..core.arguments import wrong_type
from ..core.errors import ConfigError

__all__ = ["check_names_this_pool", "check_resource", "check_url", "connecting_host"]
__all__ += ["domain_url", "is_loopback"]

_PREFIX = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_HOST = re.compile(r"[A-Za-z0-9.-]+(?::\d{1,5})?|\[[0-9A-Fa-f:.]+\](?::\d{1,5})?")
_URL_HOST = re.compile(r"[a-z0-9._-]+")
_UNSAFE_SCHEMES = frozenset({"javascript", "data", "vbscript", "file", "blob"})
# Anything but printable ASCII, and the backslash that WHATWG-style parsers read as "/".
_UNSAFE_URL_CHAR = re.compile(r"[^\x21-\x5b\x5d-\x7e]")
_AWS_POOL_URL = re.compile(
    r"https://(?:issuer-)?cognito-idp\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?/([^/]+)(?:/.*)?"
)
# A resource indicator (RFC 8707) names a Cognito resource server, whose identifier is 1-256
# characters of printable ASCII without space, '"' or backslash (ResourceServerType.Identifier).
_RESOURCE_CHARS = re.compile(r"[\x21\x23-\x5B\x5D-\x7E]{1,256}")
_RESOURCE_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_BASE_ONLY = (
    "give only the base URL or host (e.g. 'https://my-app.auth.us-east-1.amazoncognito.com' "
    "or 'auth.example.com'); the library adds /oauth2/... itself"
)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is ``localhost`` or a loopback IP address (the hosts plain http may use)."""
    if host == "localhost":
        return True  # not *.localhost: resolvers may send those to DNS
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_ipv6(host: str) -> bool:
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        return False
    return True


def _refuse_unsafe_characters(name: str, value: str) -> None:
    """Refuse what no two URL parsers are sure to read alike: see :func:`check_url`."""
    found = _UNSAFE_URL_CHAR.search(value)
    if found is None:
        return
    char = found.group()
    hint = "percent-encode it if it belongs in the path or query"
    if char == "\\":
        what = "a backslash"
    elif char.isspace():
        what = "whitespace"
    elif ord(char) <= 0x7F:
        what = "a control character"
    else:
        what = "a non-ASCII character"
        hint += ", and give an internationalised host in its xn-- (punycode) form"
    raise ConfigError(
        f"{name} must not contain whitespace, control characters, backslashes or non-ASCII "
        f"characters, found {what} ({char!r}) at position {found.start()} of {value!r}: {hint}"
    )


def connecting_host(name: str, value: str, parts: SplitResult) -> str:
    """The host an http(s) request to ``value`` goes to, as urllib3 (under requests) reads it.

    ``urllib.parse`` validated the URL, but the connection is made by urllib3, which parses
    it again. Where the two differ (a backslash before ``@``, a percent-escape in the host,
    ...), the host the checks judged is not the host that receives the request, so ``value``
    is accepted only when both agree on scheme, host and port.
    """
    # Imported here: the offline commands and a bare `import cognito_helper` need no urllib3.
    from urllib3.exceptions import LocationParseError
    from urllib3.util import parse_url

    try:
        other = parse_url(value)
    except (LocationParseError, ValueError) as exc:
        raise ConfigError(f"{name} is not a valid URL: {exc}") from None
    host = (other.host or "").lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    ours = (parts.scheme.lower(), (parts.hostname or "").lower(), parts.port)
    theirs = ((other.scheme or "").lower(), host, other.port)
    if ours != theirs or other.auth is not None:
        raise ConfigError(
            f"{name} {value!r} is read differently by urllib.parse (host {ours[1]!r}, port "
            f"{ours[2]}) and by urllib3, which makes the connection (host {theirs[1]!r}, port "
            f"{theirs[2]}); give a plain URL such as 'https://host/path'"
        )
    if not _URL_HOST.fullmatch(host) and not _is_ipv6(host):
        raise ConfigError(
            f"{name} {value!r} has host {host!r}: use letters, digits, '.', '-' and '_', "
            "or an IP address"
        )
    return host


def _urlsplit(value: str) -> SplitResult:
    """``urlsplit(value)``, whose port is also checked: ``ValueError`` for a bad one."""
    parts = urlsplit(value)
    parts.port  # noqa: B018 - raises ValueError on a bad port
    return parts


def _split(name: str, value: str) -> SplitResult:
    """``value`` split by ``urllib.parse``, with an absolute URL's shape checked."""
    try:
        parts = _urlsplit(value)
    except ValueError as exc:
        raise ConfigError(f"{name} is not a valid URL: {exc}") from None
    if not parts.scheme:
        raise ConfigError(f"{name} must be an absolute URL (with a scheme), got {value!r}")
    if parts.fragment or "#" in value:
        raise ConfigError(f"{name} must not contain a #fragment")
    if "@" in parts.netloc:
        raise ConfigError(
            f"{name} must not contain user info ('user@' or 'user:password@' before the "
            f"host), got {value!r}"
        )
    return parts


def check_url(name: str, value: str, *, custom_scheme: bool) -> str:
    """Return ``value`` if it is an absolute URL fit for ``name``; else raise ConfigError.

    Refused anywhere in the URL: whitespace, control characters, backslashes and non-ASCII
    characters (percent-escapes such as ``%0a`` are inert data and are allowed where both
    parsers agree). Refused in the authority: user info (``user@``, ``user:pw@``). An http(s)
    URL must be read alike by ``urllib.parse`` and by urllib3, which connects; its host is
    judged as urllib3 reads it. Plain http is for loopback hosts only; ``custom_scheme``
    allows native-app schemes (``myapp://cb``, ``com.example.app:/cb``) for redirect URIs.
    """
    if not value:
        raise ConfigError(f"{name} must be a non-empty absolute URL")
    _refuse_unsafe_characters(name, value)
    parts = _split(name, value)
    scheme = parts.scheme.lower()
    if scheme in ("https", "http"):
        if not parts.hostname:
            raise ConfigError(f"{name} must name a host, got {value!r}")
        host = connecting_host(name, value, parts)
        if scheme == "https" or is_loopback(host):
            return value
        raise ConfigError(
            f"{name} must use https (plain http is allowed only for localhost, 127.0.0.0/8 "
            f"and ::1), got {value!r}"
        )
    if custom_scheme and scheme not in _UNSAFE_SCHEMES and value[len(scheme) + 1 :][:1] == "/":
        # Native-app schemes such as myapp://callback or com.example.app:/cb. "host:8080/cb"
        # (a forgotten http://) parses as scheme "host" and is refused by the "/" rule. No
        # HTTP client connects to these, so urllib3's reading does not matter.
        return value
    raise ConfigError(f"{name} must be an https URL, got {value!r}")


def check_names_this_pool(name: str, urls: Sequence[str], pool: str) -> None:
    """An AWS issuer or JWKS URL must name this pool.

    A copy-paste of another pool's URL, or a config built by
    ``dataclasses.replace(config, user_pool_id=...)`` (which keeps the old pool's issuer and
    JWKS URL, filled in when the config was built), would accept the wrong pool's tokens.
    """
    for url in urls:
        match = _AWS_POOL_URL.fullmatch(url)
        if match and match.group(1) != pool:
            raise ConfigError(
                f"{name} {url!r} names user pool {match.group(1)!r}, but user_pool_id is "
                f"{pool!r}: correct {name} (or user_pool_id) so that both name the same pool, "
                f"or leave {name} out to use this pool's default. (If this config came from "
                "dataclasses.replace(config, user_pool_id=...), which keeps the old pool's "
                "issuer and jwks_url, build a new CognitoConfig instead.)"
            )


def domain_url(domain: str, region: str) -> str:
    """Turn a prefix, a custom host or a full URL into the hosted-UI base URL.

    The URL and host forms name the base only: a path other than one trailing ``/`` is
    refused (it would be doubled by ``/oauth2/...``), as are a query and a fragment.
    """
    if "://" in domain:
        url = check_url("domain", domain, custom_scheme=False)
        parts = urlsplit(url)
        if parts.path not in ("", "/"):
            raise ConfigError(f"domain {domain!r} has a path ({parts.path!r}): {_BASE_ONLY}")
        if parts.query or "?" in url:
            raise ConfigError(f"domain must not contain a query string: {_BASE_ONLY}")
        return url[:-1] if url.endswith("/") else url
    host = domain[:-1] if domain.endswith("/") else domain
    if "/" in host:
        raise ConfigError(
            f"domain {domain!r} has a path ({host[host.index('/') :]!r}): {_BASE_ONLY}"
        )
    if "." in host or ":" in host or host == "localhost":
        url = check_url("domain", "https://" + host, custom_scheme=False)
        if not _HOST.fullmatch(host) or host.endswith(".") or ".." in host:
            raise ConfigError(f"domain {domain!r} is not a valid host name")
        return url
    if not _PREFIX.fullmatch(host):
        raise ConfigError(
            f"domain {domain!r} is neither a domain prefix (lower-case letters, digits and "
            "hyphens), a custom host (auth.example.com) nor a URL"
        )
    return f"https://{host}.auth.{region}.amazoncognito.com"


def check_resource(name: str, value: object) -> str:
    """Return ``value`` if it is a resource indicator Cognito can accept; else ``ValueError``.

    A resource (RFC 8707, Cognito's ``resource`` parameter) is an absolute URI naming a
    resource server of the pool: a scheme, ``://`` and a host, at most 256 characters of
    printable ASCII without space, ``"`` or ``\\`` (the pattern of a resource server
    identifier), and no ``#fragment`` (RFC 8707 section 2). It is an identifier that is
    compared, never fetched, so any scheme is accepted, plain ``http`` to any host included.
    Unlike the rest of this module it checks a call argument, not a setting, so it raises
    ``ValueError`` (a ``TypeError`` for a value that is not a string, see
    :mod:`cognito_helper.core.arguments`); the message starts with ``name``.
    """
    if not isinstance(value, str):
        raise wrong_type(name, value, "a string (an absolute URI)")
    if not value:
        raise ValueError(f"{name} must be a non-empty absolute URI, got ''")
    if not _RESOURCE_CHARS.fullmatch(value):
        if len(value) > 256:
            raise ValueError(f"{name} must be at most 256 characters, got {len(value)}")
        raise ValueError(
            f"{name} must be printable ASCII without whitespace, control characters, '\"' or "
            f"backslashes (percent-encode them), got {value!r}"
        )
    if "#" in value:
        raise ValueError(f"{name} must not contain a #fragment, got {value!r}")
    scheme, sep, _ = value.partition("://")
    if not sep or not _RESOURCE_SCHEME.fullmatch(scheme):
        raise ValueError(
            f"{name} must be an absolute URI with a scheme and a host, such as "
            f"'https://api.example.com', got {value!r}"
        )
    try:
        parts = _urlsplit(value)
    except ValueError as exc:
        raise ValueError(f"{name} is not a valid URI ({exc}): {value!r}") from None
    if not parts.hostname:
        raise ValueError(
            f"{name} must name a host, such as 'https://api.example.com', got {value!r}"
        )
    return value
