"""What the user configures, and the hosted-UI URLs built from it.

:class:`CognitoConfig` holds one app client of one user pool. Every public function of the
package takes ``config=``; when it is omitted the process default set by :func:`configure` is
used, or one read from the ``COGNITO_*`` environment variables.
"""

from __future__ import annotations

import hashlib
import inspect
import ipaddress
import os
import re
import secrets
import string
import threading
from dataclasses import dataclass, field
from typing import (
    Any,
    Dict,
    Iterable,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Type,
    Union,
    overload,
)
from urllib.parse import SplitResult, quote, urlencode, urlsplit

from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from ._encoding import b64url_encode
from .errors import ConfigError

__all__ = [
    "CognitoConfig",
    "LoginRequest",
    "configure",
    "get_config",
    "pkce_challenge",
]

_POOL_ID = re.compile(r"([a-z]{2}(?:-[a-z]+)+-\d+)_([0-9A-Za-z]+)")
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d+")
_PREFIX = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_HOST = re.compile(r"[A-Za-z0-9.-]+(?::\d{1,5})?|\[[0-9A-Fa-f:.]+\](?::\d{1,5})?")
_UNSAFE_SCHEMES = frozenset({"javascript", "data", "vbscript", "file", "blob"})

DEFAULT_SCOPES: Tuple[str, ...] = ("openid", "email", "profile")
DEFAULT_TIMEOUT = 10.0

_ENV_VARS = (
    "COGNITO_USER_POOL_ID",
    "COGNITO_CLIENT_ID",
    "COGNITO_CLIENT_SECRET",
    "COGNITO_DOMAIN",
    "COGNITO_REDIRECT_URI",
    "COGNITO_LOGOUT_URI",
    "COGNITO_REGION",
    "COGNITO_SCOPES",
    "COGNITO_ISSUER",
    "COGNITO_JWKS_URL",
)

_VARIABLE_OF_FIELD = {
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
}

_HOW_TO_CONFIGURE = (
    "call cognito_helper.configure(CognitoConfig(...)) or configure({...}) at start-up, pass "
    "config= to each call, or set COGNITO_USER_POOL_ID and COGNITO_CLIENT_ID (plus "
    "COGNITO_DOMAIN, COGNITO_REDIRECT_URI, COGNITO_CLIENT_SECRET as needed)"
)


def _type_name(value: object) -> str:
    """How a wrong value's type is named in a message: ``None`` or the type's name."""
    return "None" if value is None else type(value).__name__


def _opt_str(name: str, value: object) -> Optional[str]:
    """``value`` stripped, ``None`` when unset or blank; ConfigError naming ``name`` if not text."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be a string, got {_type_name(value)}")
    return value.strip() or None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True  # not *.localhost: resolvers may send those to DNS
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# Anything but printable ASCII, and the backslash that WHATWG-style parsers read as "/".
_UNSAFE_URL_CHAR = re.compile(r"[^\x21-\x5b\x5d-\x7e]")


def _refuse_unsafe_characters(name: str, value: str) -> None:
    """Refuse what no two URL parsers are sure to read alike: see :func:`_check_url`."""
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


def _connecting_host(name: str, value: str, parts: SplitResult) -> str:
    """The host an http(s) request to ``value`` goes to, as urllib3 (under requests) reads it.

    ``urllib.parse`` validated the URL, but the connection is made by urllib3, which parses
    it again. Where the two differ (a backslash before ``@``, a percent-escape in the host,
    ...), the host the checks judged is not the host that receives the request, so ``value``
    is accepted only when both agree on scheme, host and port.
    """
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


_URL_HOST = re.compile(r"[a-z0-9._-]+")


def _is_ipv6(host: str) -> bool:
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        return False
    return True


def _check_url(name: str, value: object, *, custom_scheme: bool) -> str:
    """Return ``value`` if it is an absolute URL fit for ``name``; else raise ConfigError.

    Refused anywhere in the URL: whitespace, control characters, backslashes and non-ASCII
    characters (percent-escapes such as ``%0a`` are inert data and are allowed where both
    parsers agree). Refused in the authority: user info (``user@``, ``user:pw@``). An http(s)
    URL must be read alike by ``urllib.parse`` and by urllib3, which connects; its host is
    judged as urllib3 reads it. Plain http is for loopback hosts only; ``custom_scheme``
    allows native-app schemes (``myapp://cb``, ``com.example.app:/cb``) for redirect URIs.
    """
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be a string (an absolute URL), got {_type_name(value)}")
    if not value:
        raise ConfigError(f"{name} must be a non-empty absolute URL")
    _refuse_unsafe_characters(name, value)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
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
    scheme = parts.scheme.lower()
    if scheme in ("https", "http"):
        if not parts.hostname:
            raise ConfigError(f"{name} must name a host, got {value!r}")
        host = _connecting_host(name, value, parts)
        if scheme == "https" or _is_loopback(host):
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


_AWS_POOL_URL = re.compile(
    r"https://(?:issuer-)?cognito-idp\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?/([^/]+)(?:/.*)?"
)


def _check_names_this_pool(name: str, urls: Sequence[str], pool: str) -> None:
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


_BASE_ONLY = (
    "give only the base URL or host (e.g. 'https://my-app.auth.us-east-1.amazoncognito.com' "
    "or 'auth.example.com'); the library adds /oauth2/... itself"
)


def _domain_url(domain: str, region: str) -> str:
    """Turn a prefix, a custom host or a full URL into the hosted-UI base URL.

    The URL and host forms name the base only: a path other than one trailing ``/`` is
    refused (it would be doubled by ``/oauth2/...``), as are a query and a fragment.
    """
    if "://" in domain:
        url = _check_url("domain", domain, custom_scheme=False)
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
        url = _check_url("domain", "https://" + host, custom_scheme=False)
        if not _HOST.fullmatch(host) or host.endswith(".") or ".." in host:
            raise ConfigError(f"domain {domain!r} is not a valid host name")
        return url
    if not _PREFIX.fullmatch(host):
        raise ConfigError(
            f"domain {domain!r} is neither a domain prefix (lower-case letters, digits and "
            "hyphens), a custom host (auth.example.com) nor a URL"
        )
    return f"https://{host}.auth.{region}.amazoncognito.com"


# RFC 6749 section 3.3: a scope token is printable ASCII except space, '"' and '\'.
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5B\x5D-\x7E]+")


def _scope_problem(scope: object) -> Optional[str]:
    """Why ``scope`` is not one scope name, or ``None`` when it is fine."""
    if not isinstance(scope, str):
        return (
            "scopes must be a space-separated string or a list of strings; found "
            f"{_type_name(scope)} {scope!r} in the list"
        )
    if not scope or any(c.isspace() for c in scope):
        return f"scopes must be non-empty strings without spaces: {scope!r}"
    if "," in scope:
        # Legal in RFC 6749 and in Cognito's ScopeName pattern, but in practice always a
        # comma-separated list, which Cognito refuses (invalid_scope).
        return (
            f"scopes entry {scope!r} contains a comma: scopes are space-separated "
            "('openid email'), or given as a list of strings"
        )
    if not _SCOPE_TOKEN.fullmatch(scope):
        return (
            f"scopes entry {scope!r} is not a scope name: printable ASCII without spaces, '\"' "
            "or '\\' (e.g. 'openid' or 'resource-server/scope-name')"
        )
    return None


def _checked_scopes(scopes: object, error: Type[Exception]) -> Tuple[str, ...]:
    """Scopes given as a space-separated string or an iterable of strings, as a tuple.

    Raises ``error`` for any other type, and for an entry :func:`_scope_problem` refuses.
    """
    if isinstance(scopes, str):
        items: Tuple[object, ...] = tuple(scopes.split())
    elif isinstance(scopes, (bytes, bytearray, Mapping)) or not isinstance(scopes, Iterable):
        raise error(
            "scopes must be a space-separated string or a list of strings, got "
            f"{_type_name(scopes)}"
        )
    else:
        items = tuple(scopes)
    checked = []
    for item in items:
        problem = _scope_problem(item)
        if problem is not None or not isinstance(item, str):
            raise error(problem)
        checked.append(item)
    return tuple(checked)


def scope_tuple(scopes: Union[str, Iterable[str]]) -> Tuple[str, ...]:
    """Scopes given as a space-separated string or a list, as a tuple.

    Raises ``ValueError`` for anything else, for an empty or space-holding entry, and for a
    comma-separated ``"openid,email"`` (scopes are space-separated).
    """
    return _checked_scopes(scopes, ValueError)


def pkce_challenge(code_verifier: str) -> str:
    """Return the S256 PKCE ``code_challenge`` for ``code_verifier`` (RFC 7636).

    Raises ``ValueError`` for a verifier that is not ASCII text, without repeating it.
    """
    ascii_verifier = code_verifier.isascii() if isinstance(code_verifier, str) else False
    if not ascii_verifier:
        # Checked rather than caught: a UnicodeEncodeError holds (and its repr shows) the
        # whole verifier, and would ride along as the __context__ of any error raised for it.
        raise ValueError("a PKCE code_verifier must be ASCII text ([A-Za-z0-9-._~])")
    return b64url_encode(hashlib.sha256(code_verifier.encode("ascii")).digest())


_VERIFIER_FIRST = string.ascii_letters + string.digits


def _pkce_verifier() -> str:
    """A fresh RFC 7636 code verifier: 86 base64url characters that never start with ``-``.

    About 1 in 64 ``token_urlsafe`` strings start with ``-``, which a command line then reads
    as an option (``--code-verifier -x...``). Such a first character is redrawn from letters
    and digits; the other 85 characters keep over 500 bits of randomness either way.
    """
    verifier = secrets.token_urlsafe(64)
    if verifier.startswith("-"):
        verifier = secrets.choice(_VERIFIER_FIRST) + verifier[1:]
    return verifier


@dataclass(frozen=True)
class LoginRequest:
    """A sign-in about to start: send the user to ``url``; keep the rest server-side.

    ``state`` must be compared with the ``state`` on the redirect, ``nonce`` passed to
    :func:`decode_verify_jwt`, and ``code_verifier`` to :func:`get_cognito_tokens`.
    The verifier is kept out of ``repr()``.
    """

    url: str
    state: str
    nonce: str
    code_verifier: str = field(repr=False)


@dataclass(frozen=True, init=False)
class CognitoConfig:
    """One app client of one Cognito user pool, validated on construction.

    Every argument is keyword-only (``CognitoConfig(user_pool_id=..., client_id=...)``), so
    no value can land in the wrong field. Every field is checked when the object is built and
    :class:`ConfigError` names the one that is wrong. ``region`` is the pool id's region (it
    may be given, but must agree with it); ``issuer`` defaults to the ORIGINAL issuer form
    ``https://cognito-idp.{region}.amazonaws.com/{pool}`` (a string, or a sequence of accepted
    issuers, e.g. during a switch to the UPDATED form); ``jwks_url`` to the pool's AWS JWKS
    URL. After construction ``domain`` holds the hosted-UI base URL, ``issuer`` the accepted
    issuer (or a tuple of them) and ``jwks_url`` the URL keys are fetched from. ``repr()`` and
    ``str()`` never show the client secret. ``timeout`` bounds each HTTP call to Cognito, in
    seconds, from connect to the last byte. It is a frozen dataclass: ``dataclasses.replace``
    builds a validated copy.
    """

    user_pool_id: str
    client_id: str
    region: Optional[str] = None
    client_secret: Optional[str] = field(default=None, repr=False)
    domain: Optional[str] = None
    redirect_uri: Optional[str] = None
    logout_uri: Optional[str] = None
    scopes: Union[Tuple[str, ...], Sequence[str], str] = DEFAULT_SCOPES
    issuer: Union[str, Sequence[str], None] = None
    jwks_url: Optional[str] = None
    timeout: float = DEFAULT_TIMEOUT

    def __new__(cls, *args: Any, **kwargs: Any) -> CognitoConfig:
        """Refuse positional arguments with a message that says why.

        Python 3.9 has no ``dataclass(kw_only=True)``; ``__init__`` below is keyword-only,
        and this gives a positional call a clearer ``TypeError`` than Python's own.
        """
        if args:
            raise TypeError(
                f"CognitoConfig takes keyword arguments only, got {len(args)} positional "
                "argument(s): write CognitoConfig(user_pool_id=..., client_id=..., ...) so "
                "that no value lands in the wrong field"
            )
        return super().__new__(cls)

    def __init__(
        self,
        *,
        user_pool_id: str,
        client_id: str,
        region: Optional[str] = None,
        client_secret: Optional[str] = None,
        domain: Optional[str] = None,
        redirect_uri: Optional[str] = None,
        logout_uri: Optional[str] = None,
        scopes: Union[Tuple[str, ...], Sequence[str], str] = DEFAULT_SCOPES,
        issuer: Union[str, Sequence[str], None] = None,
        jwks_url: Optional[str] = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Validate and store the settings; :class:`ConfigError` names a wrong one."""
        set_ = object.__setattr__
        set_(self, "user_pool_id", user_pool_id)
        set_(self, "client_id", client_id)
        set_(self, "region", region)
        set_(self, "client_secret", client_secret)
        set_(self, "domain", domain)
        set_(self, "redirect_uri", redirect_uri)
        set_(self, "logout_uri", logout_uri)
        set_(self, "scopes", scopes)
        set_(self, "issuer", issuer)
        set_(self, "jwks_url", jwks_url)
        set_(self, "timeout", timeout)
        self.__post_init__()

    # What inspect.signature() and help() show: __init__'s keywords, not __new__'s catch-all.
    __signature__ = inspect.signature(__init__).replace(
        parameters=tuple(inspect.signature(__init__).parameters.values())[1:]
    )

    def __post_init__(self) -> None:
        """Check every field and store it in its normal form (see the class docstring)."""
        set_ = object.__setattr__
        pool = _opt_str("user_pool_id", self.user_pool_id)
        if pool is None:
            raise ConfigError("user_pool_id is required (e.g. 'us-east-1_AbC123')")
        match = _POOL_ID.fullmatch(pool)
        if not match:
            raise ConfigError(
                f"user_pool_id {pool!r} does not look like a Cognito pool id "
                "('{region}_{id}', e.g. 'us-east-1_AbC123')"
            )
        set_(self, "user_pool_id", pool)
        pool_region = match.group(1)

        client_id = _opt_str("client_id", self.client_id)
        if client_id is None:
            raise ConfigError("client_id is required")
        if any(c.isspace() for c in client_id):
            raise ConfigError("client_id must not contain spaces")
        set_(self, "client_id", client_id)

        region = _opt_str("region", self.region) or pool_region
        if not _REGION.fullmatch(region):
            raise ConfigError(f"region {region!r} is not an AWS region such as 'us-east-1'")
        if region != pool_region:
            raise ConfigError(
                f"region {region!r} contradicts user_pool_id {pool!r}, whose region is "
                f"{pool_region!r}: leave region out (it is derived from the pool id) or "
                f"correct it. For a hosted-UI domain in another region, give domain as a "
                "full URL. (If this config came from dataclasses.replace(config, "
                "user_pool_id=...), which keeps the old region, issuer and jwks_url, build a "
                "new CognitoConfig instead.)"
            )
        set_(self, "region", region)

        set_(self, "client_secret", _opt_str("client_secret", self.client_secret))

        domain = _opt_str("domain", self.domain)
        set_(self, "domain", None if domain is None else _domain_url(domain, region))

        for name in ("redirect_uri", "logout_uri"):
            value = _opt_str(name, getattr(self, name))
            if value is not None:
                value = _check_url(name, value, custom_scheme=True)
            set_(self, name, value)

        scopes: object = self.scopes
        if isinstance(scopes, str) and not scopes.split():
            # An empty string means unset, as for every other setting: the default scopes.
            scopes = DEFAULT_SCOPES
        set_(self, "scopes", _checked_scopes(scopes, ConfigError))

        issuer: object = self.issuer
        if isinstance(issuer, str):
            issuer = issuer.strip()
        if issuer is None or issuer == "":
            issuer = f"https://cognito-idp.{pool_region}.amazonaws.com/{pool}"
        issuers: Tuple[str, ...]
        if isinstance(issuer, str):
            issuers = (issuer,)
        elif isinstance(issuer, (bytes, bytearray, Mapping)) or not isinstance(issuer, Iterable):
            raise ConfigError(
                f"issuer must be a string or a list of strings, got {_type_name(issuer)}"
            )
        else:
            listed: List[str] = []
            for one in tuple(issuer):
                if not isinstance(one, str):
                    raise ConfigError(
                        "issuer must be a string or a list of strings; found "
                        f"{_type_name(one)} in the list"
                    )
                listed.append(one)
            issuers = tuple(listed)
        if not issuers:
            raise ConfigError("issuer must name at least one accepted issuer")
        for one in issuers:
            _check_url("issuer", one, custom_scheme=False)
        _check_names_this_pool("issuer", issuers, pool)
        set_(self, "issuer", issuers[0] if len(issuers) == 1 else issuers)

        jwks_url = _opt_str("jwks_url", self.jwks_url)
        if jwks_url is None:
            jwks_url = (
                f"https://cognito-idp.{pool_region}.amazonaws.com/{pool}/.well-known/jwks.json"
            )
        jwks_url = _check_url("jwks_url", jwks_url, custom_scheme=False)
        _check_names_this_pool("jwks_url", (jwks_url,), pool)
        set_(self, "jwks_url", jwks_url)

        timeout: object = self.timeout
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            raise ConfigError(
                f"timeout must be a number of seconds (int or float), got {_type_name(timeout)}"
            )
        if not (0 < timeout <= 300):
            raise ConfigError("timeout must be a number of seconds between 0 and 300")

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in (
                "user_pool_id",
                "client_id",
                "region",
                "domain",
                "redirect_uri",
                "logout_uri",
                "scopes",
                "issuer",
                "jwks_url",
            )
        )
        secret = "'***'" if self.client_secret else "None"
        return f"CognitoConfig({shown}, client_secret={secret})"

    __str__ = __repr__

    # -- derived values -------------------------------------------------------------------

    @property
    def issuers(self) -> Tuple[str, ...]:
        """Every accepted ``iss`` value, as a tuple."""
        issuer = self.issuer
        return (issuer,) if isinstance(issuer, str) else tuple(issuer or ())

    @property
    def base_url(self) -> str:
        """The hosted-UI base URL; raises :class:`ConfigError` when no ``domain`` is set."""
        if not self.domain:
            raise ConfigError(
                "domain is not set: give the hosted-UI domain prefix ('my-app'), custom "
                "host ('auth.example.com') or URL (config key 'domain' or COGNITO_DOMAIN)"
            )
        return self.domain

    @property
    def token_url(self) -> str:
        """``{domain}/oauth2/token``."""
        return self.base_url + "/oauth2/token"

    @property
    def authorize_url(self) -> str:
        """``{domain}/oauth2/authorize``."""
        return self.base_url + "/oauth2/authorize"

    @property
    def revoke_url(self) -> str:
        """``{domain}/oauth2/revoke``."""
        return self.base_url + "/oauth2/revoke"

    @property
    def userinfo_url(self) -> str:
        """``{domain}/oauth2/userInfo``."""
        return self.base_url + "/oauth2/userInfo"

    def _redirect_uri(self, override: Optional[str]) -> str:
        if override is not None:
            return _check_url("redirect_uri", override, custom_scheme=True)
        if not self.redirect_uri:
            raise ConfigError(
                "redirect_uri is not set: give the app's registered callback URL (config key "
                "'redirect_uri' or COGNITO_REDIRECT_URI) or pass redirect_uri="
            )
        return self.redirect_uri

    # -- hosted-UI URLs -------------------------------------------------------------------

    def login_url(
        self,
        state: Optional[str] = None,
        nonce: Optional[str] = None,
        code_challenge: Optional[str] = None,
        *,
        redirect_uri: Optional[str] = None,
        scopes: Optional[Sequence[str]] = None,
        identity_provider: Optional[str] = None,
        idp_identifier: Optional[str] = None,
        login_hint: Optional[str] = None,
        lang: Optional[str] = None,
        prompt: Optional[str] = None,
    ) -> str:
        """Return the ``/oauth2/authorize`` URL for the authorization-code flow.

        ``code_challenge`` is an S256 PKCE challenge (see :func:`pkce_challenge`); Cognito
        supports no other method. Prefer :meth:`start_login`, which makes state, nonce and
        PKCE for you. Every value is percent-encoded; scopes are space-separated.
        """
        scope_list = self.scopes if scopes is None else scope_tuple(scopes)
        params: Dict[str, str] = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self._redirect_uri(redirect_uri),
        }
        if scope_list:
            params["scope"] = " ".join(scope_list)
        optional = {
            "state": state,
            "nonce": nonce,
            "identity_provider": identity_provider,
            "idp_identifier": idp_identifier,
            "login_hint": login_hint,
            "lang": lang,
            "prompt": prompt,
        }
        for key, value in optional.items():
            if value is not None:
                if not isinstance(value, str) or not value:
                    raise ValueError(f"{key} must be a non-empty string")
                params[key] = value
        if code_challenge is not None:
            if not isinstance(code_challenge, str) or not re.fullmatch(
                r"[A-Za-z0-9_-]{43}", code_challenge
            ):
                raise ValueError("code_challenge must be an S256 challenge (43 base64url chars)")
            params["code_challenge_method"] = "S256"
            params["code_challenge"] = code_challenge
        return self.authorize_url + "?" + urlencode(params, quote_via=quote)

    def start_login(
        self,
        *,
        redirect_uri: Optional[str] = None,
        scopes: Optional[Sequence[str]] = None,
        identity_provider: Optional[str] = None,
        idp_identifier: Optional[str] = None,
        login_hint: Optional[str] = None,
        lang: Optional[str] = None,
        prompt: Optional[str] = None,
    ) -> LoginRequest:
        """Begin a sign-in: fresh random ``state`` and ``nonce``, a PKCE verifier, and the URL.

        Each call draws 256 bits of randomness for state and nonce and an 86-character PKCE
        verifier (over 500 bits) from :mod:`secrets`; the verifier never starts with ``-``.
        The URL carries the S256 challenge. Keep the returned object in the server-side
        session and check ``state`` when the user comes back.
        """
        state = secrets.token_urlsafe(32)
        nonce = secrets.token_urlsafe(32)
        verifier = _pkce_verifier()
        url = self.login_url(
            state,
            nonce,
            pkce_challenge(verifier),
            redirect_uri=redirect_uri,
            scopes=scopes,
            identity_provider=identity_provider,
            idp_identifier=idp_identifier,
            login_hint=login_hint,
            lang=lang,
            prompt=prompt,
        )
        return LoginRequest(url=url, state=state, nonce=nonce, code_verifier=verifier)

    def logout_url(
        self,
        logout_uri: Optional[str] = None,
        *,
        login_redirect_uri: Optional[str] = None,
        state: Optional[str] = None,
    ) -> str:
        """Return the hosted-UI ``/logout`` URL.

        By default Cognito sends the user to ``logout_uri`` (or the config's), which must be a
        registered sign-out URL. With ``login_redirect_uri`` instead, Cognito signs the user out
        and shows sign-in again, returning to that (registered callback) URL.
        """
        params: Dict[str, str] = {"client_id": self.client_id}
        if login_redirect_uri is not None:
            if logout_uri is not None:
                raise ValueError("give logout_uri or login_redirect_uri, not both")
            params["response_type"] = "code"
            params["redirect_uri"] = self._redirect_uri(login_redirect_uri)
            if self.scopes:
                params["scope"] = " ".join(self.scopes)
        else:
            target = logout_uri if logout_uri is not None else self.logout_uri
            if not target:
                raise ConfigError(
                    "logout_uri is not set: give a registered sign-out URL (config key "
                    "'logout_uri' or COGNITO_LOGOUT_URI) or pass logout_uri="
                )
            params["logout_uri"] = _check_url("logout_uri", target, custom_scheme=True)
        if state is not None:
            params["state"] = state
        return self.base_url + "/logout?" + urlencode(params, quote_via=quote)

    # -- other constructors ---------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CognitoConfig:
        """Build a config from a dict such as the ``cognito_config`` of ``config.example.py``.

        Keys are the constructor's keywords (``region``, ``domain``, ``client_id``,
        ``client_secret``, ``user_pool_id``, ``redirect_uri``, ...). An unknown key is a
        :class:`ConfigError`, so a typo cannot silently drop a setting.
        """
        if not isinstance(data, Mapping):
            raise ConfigError(f"expected a dict of settings, got {type(data).__name__}")
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(str(k) for k in data if k not in known)
        if unknown:
            raise ConfigError(
                f"unknown config key(s) {', '.join(unknown)}; "
                f"known keys: {', '.join(sorted(known))}"
            )
        for required in ("user_pool_id", "client_id"):
            value = data.get(required)
            if value is None or (isinstance(value, str) and not value.strip()):
                raise ConfigError(f"config key {required!r} is required")
        return cls(**dict(data))

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> CognitoConfig:
        """Build a config from the ``COGNITO_*`` environment variables.

        ``COGNITO_USER_POOL_ID`` and ``COGNITO_CLIENT_ID`` are required; ``COGNITO_SCOPES`` and
        ``COGNITO_ISSUER`` are space-separated lists.
        """
        env = os.environ if environ is None else environ
        values = {name: (env.get(name) or "").strip() for name in _ENV_VARS}
        for required in ("COGNITO_USER_POOL_ID", "COGNITO_CLIENT_ID"):
            if not values[required]:
                raise ConfigError(f"{required} is not set; {_HOW_TO_CONFIGURE}")
        kwargs: Dict[str, Any] = {
            "user_pool_id": values["COGNITO_USER_POOL_ID"],
            "client_id": values["COGNITO_CLIENT_ID"],
            "client_secret": values["COGNITO_CLIENT_SECRET"] or None,
            "domain": values["COGNITO_DOMAIN"] or None,
            "redirect_uri": values["COGNITO_REDIRECT_URI"] or None,
            "logout_uri": values["COGNITO_LOGOUT_URI"] or None,
            "region": values["COGNITO_REGION"] or None,
            "jwks_url": values["COGNITO_JWKS_URL"] or None,
        }
        if values["COGNITO_SCOPES"]:
            kwargs["scopes"] = tuple(values["COGNITO_SCOPES"].split())
        if values["COGNITO_ISSUER"]:
            issuers = values["COGNITO_ISSUER"].split()
            kwargs["issuer"] = issuers[0] if len(issuers) == 1 else tuple(issuers)
        try:
            return cls(**kwargs)
        except ConfigError as exc:
            # Messages start with the field they are about; name its variable instead.
            message = str(exc)
            variable = _VARIABLE_OF_FIELD.get(message.split(" ", 1)[0])
            where = variable or "from the COGNITO_* environment variables"
            raise ConfigError(f"{where}: {message}") from None


# -- the process default -----------------------------------------------------------------

_default_lock = threading.Lock()
_default: Optional[CognitoConfig] = None
_env_config: Optional[CognitoConfig] = None  # read from the environment once


@overload
def configure(config: Union[CognitoConfig, Mapping[str, Any]]) -> CognitoConfig: ...


@overload
def configure(config: None) -> None: ...


def configure(config: Union[CognitoConfig, Mapping[str, Any], None]) -> Optional[CognitoConfig]:
    """Set the process-wide default config used when a function's ``config=`` is omitted.

    Accepts a :class:`CognitoConfig` or a settings dict (see :meth:`CognitoConfig.from_dict`)
    and returns the config now in force. ``configure(None)`` clears it, and also the config
    read from the ``COGNITO_*`` variables, which are then read again on the next call.
    Safe to call from any thread; calls already running keep the
    config they started with.
    """
    global _default, _env_config
    if config is None:
        new: Optional[CognitoConfig] = None
    elif isinstance(config, CognitoConfig):
        new = config
    else:
        new = CognitoConfig.from_dict(config)
    with _default_lock:
        _default = new
        if new is None:
            _env_config = None
    return new


def get_config(config: Optional[CognitoConfig] = None) -> CognitoConfig:
    """Return ``config`` if given, else the :func:`configure` default, else one from the env.

    The ``COGNITO_*`` variables are read once, on the first call that needs them (reading
    them costs several times a remembered verification); ``configure(None)`` re-reads them.
    Raises :class:`ConfigError` saying how to configure when none of them is available.
    """
    global _env_config
    if config is not None:
        if not isinstance(config, CognitoConfig):
            raise ConfigError(f"config must be a CognitoConfig, got {type(config).__name__}")
        return config
    default = _default
    if default is not None:
        return default
    from_env = _env_config
    if from_env is not None:
        return from_env
    if not os.environ.get("COGNITO_USER_POOL_ID") and not os.environ.get("COGNITO_CLIENT_ID"):
        raise ConfigError(f"cognito_helper is not configured: {_HOW_TO_CONFIGURE}")
    from_env = CognitoConfig.from_env()
    _env_config = from_env
    return from_env
