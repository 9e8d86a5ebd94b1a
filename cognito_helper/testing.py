"""A local, Cognito-compatible hosted UI and token provider for tests, demos and examples.

:class:`LocalCognito` serves the user-pool endpoints an app talks to (``/oauth2/authorize``,
``/login``, ``/oauth2/token``, ``/oauth2/revoke``, ``/oauth2/userInfo``, ``/logout`` and the
pool's ``.well-known`` JWKS and discovery documents) on a loopback port, and issues real RS256
tokens shaped like Cognito's. ``lc.config`` points the whole library at it::

    with LocalCognito() as lc:
        lc.add_user("alice", "correct horse", email="alice@example.com", groups=["admin"])
        login = lc.config.start_login()
        redirect = lc.sign_in(login.url, "alice", "correct horse")  # what a browser does
        # hand `redirect` to the app's callback: it carries ?code=...&state=...

Everything goes over real HTTP/1.1 with keep-alive, so the library's HTTP code, error mapping
and key caching run as they will against Cognito. It is a test double: passwords are kept in
memory in clear, so it must never listen on anything but a loopback address.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import json
import re
import secrets
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    List,
    Mapping,
    NoReturn,
    Optional,
    Sequence,
    Set,
    Tuple,
    Union,
)
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ._encoding import b64url_decode, b64url_encode, json_object
from .config import CognitoConfig, pkce_challenge

__all__ = ["ClientAuthentication", "LocalCognito", "SignInError"]

_CODE_LIFETIME = 300  # seconds; Cognito authorization codes live five minutes
_OIDC_SCOPES = ("openid", "email", "phone", "profile", "aws.cognito.signin.user.admin")
_SCOPES_NEEDING_OPENID = frozenset({"email", "phone", "profile"})
_USERINFO_SCOPES = frozenset({"openid", "aws.cognito.signin.user.admin"})
_BOOLEAN_ATTRIBUTES = frozenset({"email_verified", "phone_number_verified"})
_FORM_TYPE = "application/x-www-form-urlencoded"
_JSON_TYPE = "application/json;charset=UTF-8"
_HTML_TYPE = "text/html;charset=UTF-8"
_MAX_BODY = 64 * 1024
_MAX_PARAMS = 64
_B64URL = re.compile(r"[A-Za-z0-9_-]+")
_S256_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
# Cognito refresh tokens are JWEs encrypted to Cognito itself; ours only look like one.
_REFRESH_HEADER = b64url_encode(b'{"cty":"JWT","enc":"A256GCM","alg":"RSA-OAEP"}')
_BAD_CREDENTIALS = "Incorrect username or password."

_KeyArg = Union[str, bytes, rsa.RSAPrivateKey]


class SignInError(Exception):
    """:meth:`LocalCognito.sign_in` could not sign in.

    Raised for a wrong username or password, an error page (unknown client, unregistered
    redirect URI), a page without a sign-in form, or a server that cannot be reached. The
    message says which and never contains the password.
    """


@dataclass(frozen=True)
class ClientAuthentication:
    """How one request to ``/oauth2/token`` or ``/oauth2/revoke`` authenticated its client.

    Recorded as sent, before LocalCognito judges it, so refused requests are listed too.
    ``method`` names the OAuth client authentication method: ``"client_secret_basic"`` (an
    ``Authorization: Basic`` header), ``"client_secret_post"`` (``client_secret`` in the form
    body and no Basic header) or ``"none"`` (neither: a public client's ``client_id`` in the
    body, or nothing at all). ``secret_in_body`` is true whenever the body carried a non-empty
    ``client_secret``, with or without a Basic header. No secret is kept.
    """

    endpoint: str  # "token" or "revoke"
    method: str
    client_id: Optional[str]  # as claimed: the Basic user name, else the body's client_id
    secret_in_body: bool


# -- state records -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Client:
    client_id: str
    client_secret: Optional[str] = field(repr=False)
    redirect_uris: Tuple[str, ...]
    logout_uris: Tuple[str, ...]
    scopes: Tuple[str, ...]  # granted when the authorize request names none


@dataclass(frozen=True)
class _User:
    username: str
    password: str = field(repr=False)
    attributes: Dict[str, str]  # as Cognito stores them: every value a string; has "sub"
    groups: Tuple[str, ...]


@dataclass(frozen=True)
class _Grant:
    """What one sign-in granted; shared by its code, its refresh tokens and their tokens."""

    client_id: str
    username: str
    scopes: Tuple[str, ...]
    auth_time: int
    origin_jti: str


@dataclass(frozen=True)
class _AuthCode:
    grant: _Grant
    redirect_uri: str
    nonce: Optional[str]
    code_challenge: Optional[str]
    expires_at: int


@dataclass
class _RefreshToken:
    grant: _Grant
    expires_at: int  # lowered to the end of the grace period when rotated away


@dataclass(frozen=True)
class _SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey = field(repr=False)

    @classmethod
    def generate(cls) -> _SigningKey:
        # Cognito kids are standard base64 (with + / and = padding) of 32 random bytes.
        kid = base64.b64encode(secrets.token_bytes(32)).decode("ascii")
        return cls(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @property
    def jwk(self) -> Dict[str, str]:
        numbers = self.private_key.public_key().public_numbers()
        return {
            "alg": "RS256",
            "e": _b64url_uint(numbers.e),
            "kid": self.kid,
            "kty": "RSA",
            "n": _b64url_uint(numbers.n),
            "use": "sig",
        }


# -- HTTP plumbing -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    query_string: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes


@dataclass(frozen=True)
class _Response:
    status: int
    body: bytes = b""
    headers: Tuple[Tuple[str, str], ...] = ()


class _EndpointError(Exception):
    """Stop handling a request and answer with ``response``."""

    def __init__(self, response: _Response) -> None:
        super().__init__(response.status)
        self.response = response


def _json_response(
    status: int,
    payload: Mapping[str, Any],
    *,
    no_store: bool = True,
    headers: Tuple[Tuple[str, str], ...] = (),
) -> _Response:
    extra = (("Cache-Control", "no-store"), ("Pragma", "no-cache")) if no_store else ()
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return _Response(status, body, (("Content-Type", _JSON_TYPE), *extra, *headers))


def _oauth_error(
    error: str,
    description: Optional[str] = None,
    *,
    status: int = 400,
    headers: Tuple[Tuple[str, str], ...] = (),
) -> _EndpointError:
    """The one place OAuth JSON errors are made: ``{"error": ..., "error_description"?: ...}``."""
    payload = {"error": error}
    if description is not None:
        payload["error_description"] = description
    return _EndpointError(_json_response(status, payload, headers=headers))


def _invalid_token(description: str) -> _EndpointError:
    challenge = f'Bearer error="invalid_token", error_description="{description}"'
    return _oauth_error(
        "invalid_token", description, status=401, headers=(("WWW-Authenticate", challenge),)
    )


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{title}</title></head>
<body>
{content}
</body>
</html>
"""


def _html_response(status: int, title: str, content: str) -> _Response:
    body = _PAGE.format(title=html.escape(title), content=content).encode("utf-8")
    headers = (("Content-Type", _HTML_TYPE), ("Cache-Control", "no-store"))
    return _Response(status, body, headers)


def _error_page(error: str, description: str, *, status: int = 400) -> _EndpointError:
    content = (
        "<h1>An error was encountered with the requested page.</h1>\n"
        f'<p id="error">{html.escape(error)}: {html.escape(description)}</p>'
    )
    return _EndpointError(_html_response(status, "Error", content))


def _redirect(location: str) -> _Response:
    return _Response(302, b"", (("Location", location), ("Cache-Control", "no-store")))


def _add_query(uri: str, params: Iterable[Tuple[str, Optional[str]]]) -> str:
    """Append ``params`` (skipping ``None`` values) to ``uri``, keeping any query it has."""
    extra = urlencode([(name, value) for name, value in params if value is not None])
    parts = urlsplit(uri)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit(parts._replace(query=query))


def _parse_params(text: str) -> Dict[str, str]:
    """Parse a query string or form body; a repeated name is a ``ValueError``.

    Empty values are dropped, so ``code=`` reads as a missing ``code``.
    """
    pairs = parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=_MAX_PARAMS)
    params: Dict[str, str] = {}
    seen: Set[str] = set()
    for name, value in pairs:
        if name in seen:
            raise ValueError(f"parameter {name!r} is repeated")
        seen.add(name)
        if value:
            params[name] = value
    return params


def _form_params(request: _Request) -> Dict[str, str]:
    """The body of an ``/oauth2/*`` POST; ``invalid_request`` unless it is a proper form."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != _FORM_TYPE:
        raise _oauth_error("invalid_request", f"Content-Type must be {_FORM_TYPE}")
    try:
        return _parse_params(request.body.decode("utf-8"))
    except ValueError:
        raise _oauth_error("invalid_request", "malformed or repeated parameter") from None


def _required(form: Mapping[str, str], name: str) -> str:
    value = form.get(name)
    if value is None:
        raise _oauth_error("invalid_request", f"{name} is required")
    return value


def _basic_credentials(authorization: Optional[str]) -> Optional[Tuple[str, str]]:
    """``(client_id, client_secret)`` from an ``Authorization: Basic`` header, if there is one.

    Raises ``ValueError`` for a Basic header that does not decode to ``id:secret``.
    """
    if authorization is None:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ValueError("malformed Basic credentials") from None
    client_id, colon, secret = decoded.partition(":")
    if not colon or not client_id:
        raise ValueError("malformed Basic credentials")
    return client_id, secret


# -- tokens -----------------------------------------------------------------------------


def _b64url_uint(value: int) -> str:
    return b64url_encode(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _encode_jws(
    header: Mapping[str, Any], claims: Mapping[str, Any], key: rsa.RSAPrivateKey
) -> str:
    """Serialise and RS256-sign; the header is used exactly as given (no ``typ`` added)."""

    def segment(obj: Mapping[str, Any]) -> str:
        return b64url_encode(json.dumps(obj, separators=(",", ":")).encode("utf-8"))

    signing_input = f"{segment(header)}.{segment(claims)}"
    signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url_encode(signature)}"


def _at_hash(access_token: str) -> str:
    """OIDC ``at_hash``: the left-most 128 bits of SHA-256 of the access token, base64url."""
    return b64url_encode(hashlib.sha256(access_token.encode("ascii")).digest()[:16])


def _merge(target: Dict[str, Any], changes: Mapping[str, Any]) -> None:
    """Apply ``changes`` to ``target``; a ``None`` value removes the entry."""
    for name, value in changes.items():
        if value is None:
            target.pop(name, None)
        else:
            target[name] = value


def _attribute_string(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int)):
        return str(value)
    raise TypeError(f"attribute {name!r} must be a str, int or bool, got {type(value).__name__}")


def _token_attributes(attributes: Mapping[str, str]) -> Dict[str, Any]:
    """User attributes as an ID token carries them: ``*_verified`` booleans, else strings."""
    claims: Dict[str, Any] = {}
    for name, value in attributes.items():
        if name == "sub":
            continue
        if name in _BOOLEAN_ATTRIBUTES:
            claims[name] = value == "true"
        elif name == "updated_at" and value.isdigit():
            claims[name] = int(value)
        else:
            claims[name] = value
    return claims


def _new_refresh_token() -> str:
    # header . encrypted key (RSA-2048) . IV (96 bits) . ciphertext . tag (128 bits)
    parts = (b64url_encode(secrets.token_bytes(n)) for n in (256, 12, 400, 16))
    return ".".join((_REFRESH_HEADER, *parts))


def _load_private_key(key: Union[str, bytes]) -> rsa.RSAPrivateKey:
    data = key.encode("ascii") if isinstance(key, str) else key
    loaded = serialization.load_pem_private_key(data, password=None)
    if not isinstance(loaded, rsa.RSAPrivateKey):
        raise ValueError("key must be an RSA private key")
    return loaded


# -- the provider --------------------------------------------------------------------------


@dataclass(frozen=True)
class _AuthorizeRequest:
    client: _Client
    redirect_uri: str
    scopes: Tuple[str, ...]
    state: Optional[str]
    nonce: Optional[str]
    code_challenge: Optional[str]


_Endpoint = Callable[[_Request], _Response]


class LocalCognito:
    """A Cognito user pool with one app client and its hosted UI, served on a loopback port.

    Construct, :meth:`start` (or use ``with LocalCognito() as lc:``), then use :attr:`config`.
    Two RSA-2048 key pairs (ID and access tokens use different ``kid``) are made at
    construction. Every time decision (token ``iat``/``exp``/``auth_time``, code and refresh
    token expiry, userInfo's ``exp`` check) reads :attr:`clock`, so a test can move time with
    :meth:`advance_clock` or by assigning ``lc.clock``.

    Public attributes, which may be changed while running: ``token_lifetime`` (seconds, ID and
    access tokens), ``refresh_token_lifetime``, ``refresh_token_rotation`` (refresh grants
    return a new refresh token and the old one dies ``rotation_grace_period`` seconds later),
    ``rotation_grace_period`` and ``clock``. ``server_errors`` lists exceptions raised by
    LocalCognito's own code while handling a request (each answered with 500), so a test can
    assert it stays empty. Safe to use from several threads; ``repr()`` shows the URL, pool id
    and client id only.
    """

    def __init__(
        self,
        *,
        user_pool_id: str = "us-east-1_LocalPool1",
        client_id: str = "localclient1234567890abcdef",
        client_secret: Optional[str] = None,
        redirect_uri: str = "http://localhost:8000/cognito_redirect",
        redirect_uris: Sequence[str] = (),
        logout_uri: str = "http://localhost:8000/",
        scopes: Sequence[str] = ("openid", "email", "profile"),
        custom_scopes: Sequence[str] = ("localapi/read", "localapi/write"),
        token_lifetime: int = 3600,
        refresh_token_lifetime: int = 30 * 86400,
        refresh_token_rotation: bool = False,
        rotation_grace_period: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """Set up the pool; nothing listens until :meth:`start`.

        ``redirect_uri`` and ``logout_uri`` are registered callback and sign-out URLs and go
        into :attr:`config`; ``redirect_uris`` registers more callback URLs. ``scopes`` is what
        :attr:`config` asks for and what an authorize request without ``scope`` is granted.
        ``custom_scopes`` are the resource-server scopes the client may request (the only ones
        ``client_credentials`` grants). Raises :class:`~cognito_helper.errors.ConfigError` for
        an id or URL Cognito would not accept and ``ValueError`` for a bad lifetime.
        """
        for name, value in (
            ("token_lifetime", token_lifetime),
            ("refresh_token_lifetime", refresh_token_lifetime),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive number of seconds")
        if not 0 <= rotation_grace_period <= 60:
            raise ValueError("rotation_grace_period must be between 0 and 60 seconds")
        self._base_config = CognitoConfig(
            user_pool_id=user_pool_id,
            client_id=client_id,
            client_secret=client_secret,
            redirect_uri=redirect_uri,
            logout_uri=logout_uri,
            scopes=tuple(scopes),
        )
        self.user_pool_id: str = self._base_config.user_pool_id
        self.client_id: str = self._base_config.client_id
        self.token_lifetime = token_lifetime
        self.refresh_token_lifetime = refresh_token_lifetime
        self.refresh_token_rotation = refresh_token_rotation
        self.rotation_grace_period = rotation_grace_period
        self.clock: Callable[[], float] = time.time
        self.server_errors: List[BaseException] = []
        self._host = host
        self._port = port
        self._default_scopes = tuple(scopes)
        self._custom_scopes = tuple(custom_scopes)

        self._lock = threading.Lock()
        self._clients: Dict[str, _Client] = {}
        self._users: Dict[str, _User] = {}
        self._codes: Dict[str, _AuthCode] = {}
        self._refresh_tokens: Dict[str, _RefreshToken] = {}
        self._revoked_origins: Set[str] = set()
        self._keys = {"id": _SigningKey.generate(), "access": _SigningKey.generate()}
        self._previous_keys: Optional[Dict[str, _SigningKey]] = None
        self._kept_keys: List[_SigningKey] = []
        self._connections_opened = 0
        self._requests_seen: List[Tuple[str, str]] = []
        self._client_authentications: List[ClientAuthentication] = []
        self._server: Optional[_Server] = None
        self._thread: Optional[threading.Thread] = None
        self._url: Optional[str] = None
        self._config: Optional[CognitoConfig] = None
        self._synthetic_user = _User(
            username="local-user",
            password=secrets.token_urlsafe(32),
            attributes={
                "sub": str(uuid.uuid4()),
                "email": "local-user@example.com",
                "email_verified": "true",
            },
            groups=(),
        )
        self.add_client(
            self.client_id,
            client_secret=self._base_config.client_secret,
            redirect_uris=(redirect_uri, *redirect_uris),
            logout_uris=(logout_uri,),
            scopes=scopes,
        )
        pool = self.user_pool_id
        self._jwks_path = f"/{pool}/.well-known/jwks.json"
        self._routes: Dict[str, Dict[str, _Endpoint]] = {
            "/oauth2/authorize": {"GET": self._authorize_page},
            "/login": {"GET": self._authorize_page, "POST": self._login_submit},
            "/oauth2/token": {"POST": self._token},
            "/oauth2/revoke": {"POST": self._revoke},
            "/oauth2/userInfo": {"GET": self._userinfo, "POST": self._userinfo},
            "/oauth2/userinfo": {"GET": self._userinfo, "POST": self._userinfo},
            "/logout": {"GET": self._logout},
            self._jwks_path: {"GET": self._jwks},
            f"/{pool}/.well-known/openid-configuration": {"GET": self._openid_configuration},
        }

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> LocalCognito:
        """Listen on ``host:port`` (port 0 picks a free one) in a daemon thread; return self.

        Calling it again while running does nothing. After :meth:`stop` it may be started
        again (on a new port when ``port`` is 0), keeping users, keys and tokens.
        """
        if self._server is not None:
            return self
        server_class = _Server6 if ":" in self._host else _Server
        server = server_class((self._host, self._port), self)
        host = f"[{self._host}]" if ":" in self._host else self._host
        url = f"http://{host}:{server.server_port}"
        self._url = url
        self._config = replace(
            self._base_config,
            domain=url,
            issuer=f"{url}/{self.user_pool_id}",
            jwks_url=url + self._jwks_path,
        )
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"LocalCognito {url}",
            daemon=True,
        )
        self._server, self._thread = server, thread
        thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the listening socket and every open connection, join the thread.

        Idempotent. Clients holding a keep-alive connection see it closed.
        """
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=10)

    def __enter__(self) -> LocalCognito:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return (
            f"LocalCognito(url={self._url!r}, user_pool_id={self.user_pool_id!r}, "
            f"client_id={self.client_id!r})"
        )

    # -- where it is ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:54321`` (no trailing slash); after start()."""
        if self._url is None:
            raise RuntimeError("LocalCognito is not started: call start() or use it in a with")
        return self._url

    @property
    def issuer(self) -> str:
        """The ``iss`` of every token: ``{url}/{user_pool_id}``."""
        return f"{self.url}/{self.user_pool_id}"

    @property
    def jwks_url(self) -> str:
        """``{url}/{user_pool_id}/.well-known/jwks.json``."""
        return self.url + self._jwks_path

    @property
    def config(self) -> CognitoConfig:
        """A :class:`CognitoConfig` for the main app client, pointing every URL here.

        ``domain`` is :attr:`url`, ``issuer`` :attr:`issuer`, ``jwks_url`` :attr:`jwks_url`;
        the client id, secret, redirect and logout URIs and scopes are the constructor's.
        """
        self.url  # noqa: B018 - raises the "not started" error
        assert self._config is not None
        return self._config

    # -- what it has seen -----------------------------------------------------------------

    @property
    def connections_opened(self) -> int:
        """How many TCP connections the server has accepted (keep-alive reuse keeps it low)."""
        with self._lock:
            return self._connections_opened

    @property
    def requests_seen(self) -> List[Tuple[str, str]]:
        """A copy of every ``(method, path)`` handled so far, oldest first; paths lack queries."""
        with self._lock:
            return list(self._requests_seen)

    @property
    def client_authentications(self) -> List[ClientAuthentication]:
        """A copy of how each token and revocation request authenticated, oldest first.

        One :class:`ClientAuthentication` per request to ``/oauth2/token`` or
        ``/oauth2/revoke`` whose form body could be read, including refused ones, so a test can
        assert that a confidential client used HTTP Basic and never sent its secret in the body.
        """
        with self._lock:
            return list(self._client_authentications)

    @property
    def jwks_requests(self) -> int:
        """How many times the JWKS document has been requested."""
        with self._lock:
            return sum(1 for _, path in self._requests_seen if path == self._jwks_path)

    def _connection_opened(self) -> None:
        with self._lock:
            self._connections_opened += 1

    # -- setting it up --------------------------------------------------------------------

    def add_client(
        self,
        client_id: str,
        *,
        client_secret: Optional[str] = None,
        redirect_uris: Sequence[str] = ("http://localhost:8000/cognito_redirect",),
        logout_uris: Sequence[str] = ("http://localhost:8000/",),
        scopes: Sequence[str] = ("openid", "email", "profile"),
    ) -> None:
        """Register another app client of the same pool (the main one is made by the constructor).

        Tokens, codes and refresh tokens are bound to the client they were issued to, so a
        second client lets a test prove that one client cannot use another's. To drive the
        library with it: ``dataclasses.replace(lc.config, client_id=..., client_secret=...)``.
        Raises ``ValueError`` if the id is taken.
        """
        if not client_id or any(c.isspace() for c in client_id):
            raise ValueError("client_id must be non-empty and contain no spaces")
        client = _Client(
            client_id=client_id,
            client_secret=client_secret or None,
            redirect_uris=tuple(redirect_uris),
            logout_uris=tuple(logout_uris),
            scopes=tuple(scopes),
        )
        with self._lock:
            if client_id in self._clients:
                raise ValueError(f"app client {client_id!r} already exists")
            self._clients[client_id] = client

    def add_user(
        self,
        username: str,
        password: str,
        /,
        *,
        groups: Optional[Sequence[str]] = None,
        **attributes: Any,
    ) -> Dict[str, str]:
        """Create a user who can sign in with ``username`` and ``password``.

        ``attributes`` are user-pool attributes (``email="a@b.c"``,
        ``**{"custom:tier": "gold"}``); values are stored as Cognito stores them, as strings
        (booleans as ``"true"``/``"false"``). ``sub`` is a fresh uuid4 unless given;
        ``email_verified`` defaults to ``"true"`` when ``email`` is given. ``groups`` become
        ``cognito:groups`` in both tokens. Returns a copy of the stored attributes, including
        ``sub``. Raises ``ValueError`` if the username is taken.
        """
        if not isinstance(username, str) or not username:
            raise ValueError("username must be a non-empty string")
        if not isinstance(password, str) or not password:
            raise ValueError("password must be a non-empty string")
        if isinstance(groups, str):
            raise TypeError("groups must be a sequence of group names, not one string")
        stored = {"sub": str(uuid.uuid4())}
        if "email" in attributes:
            stored["email_verified"] = "true"
        for name, value in attributes.items():
            stored[name] = _attribute_string(name, value)
        user = _User(username, password, stored, tuple(str(g) for g in groups or ()))
        with self._lock:
            if username in self._users:
                raise ValueError(f"user {username!r} already exists")
            self._users[username] = user
        return dict(stored)

    def advance_clock(self, seconds: float) -> None:
        """Move :attr:`clock` forward by ``seconds`` (on top of any earlier change)."""
        previous = self.clock
        self.clock = lambda: previous() + seconds

    def rotate_keys(self, *, keep_old: bool = False) -> None:
        """Replace both signing key pairs with fresh RSA-2048 ones with new ``kid`` values.

        With ``keep_old`` the public keys published so far stay in the JWKS (tokens signed with
        them keep verifying); otherwise the JWKS holds only the new pair. Either way
        ``mint(..., key="previous")`` can still sign with the replaced pair.
        """
        fresh = {"id": _SigningKey.generate(), "access": _SigningKey.generate()}
        with self._lock:
            old = self._keys
            self._kept_keys = [*old.values(), *self._kept_keys] if keep_old else []
            self._previous_keys = old
            self._keys = fresh

    # -- tokens without HTTP --------------------------------------------------------------

    def mint(
        self,
        token_use: str,
        /,
        *,
        header: Optional[Mapping[str, Any]] = None,
        key: _KeyArg = "current",
        **claims: Any,
    ) -> str:
        """Return an RS256 JWT like Cognito's ``token_use`` ("id" or "access") token.

        The claims are the full Cognito set for a synthetic user of the main client, issued
        now and expiring after ``token_lifetime``, with ``claims`` merged on top (use
        ``**{"cognito:groups": [...]}`` for names with a colon); a claim given as ``None`` is
        removed. ``header`` entries are merged into ``{"kid": ..., "alg": "RS256"}`` the same
        way, but the signature is always RS256. ``key`` is ``"current"`` (the current key of
        that token use), ``"previous"`` (the pair replaced by the last :meth:`rotate_keys`,
        with its kid), or any other RSA private key (object or PEM) which signs while the
        header keeps the current kid, for forged-signature tests. Raises ``ValueError`` for
        another token use or an unusable key; needs :meth:`start` (the issuer is the URL).
        """
        kid, private_key = self._signing_key(token_use, key)
        now = self._now()
        grant = _Grant(
            client_id=self.client_id,
            username=self._synthetic_user.username,
            scopes=self._default_scopes,
            auth_time=now,
            origin_jti=str(uuid.uuid4()),
        )
        payload = self._claims(token_use, self._synthetic_user, grant, now, str(uuid.uuid4()))
        _merge(payload, claims)
        jws_header: Dict[str, Any] = {"kid": kid, "alg": "RS256"}
        _merge(jws_header, header or {})
        return _encode_jws(jws_header, payload, private_key)

    def _signing_key(self, token_use: str, key: _KeyArg) -> Tuple[str, rsa.RSAPrivateKey]:
        if token_use not in ("id", "access"):
            raise ValueError(f"token_use must be 'id' or 'access', got {token_use!r}")
        with self._lock:
            current = self._keys[token_use]
            previous = self._previous_keys
        if key == "current":
            return current.kid, current.private_key
        if key == "previous":
            if previous is None:
                raise ValueError("there is no previous key: rotate_keys() has not been called")
            return previous[token_use].kid, previous[token_use].private_key
        if isinstance(key, rsa.RSAPrivateKey):
            return current.kid, key
        if isinstance(key, (str, bytes)):
            return current.kid, _load_private_key(key)
        raise ValueError("key must be 'current', 'previous', an RSA private key or a PEM")

    def _claims(
        self, token_use: str, user: _User, grant: _Grant, now: int, event_id: str
    ) -> Dict[str, Any]:
        """Cognito's claim set for an ID (``aud``) or access (``client_id``) token."""
        claims: Dict[str, Any] = {"sub": user.attributes["sub"]}
        if user.groups:
            claims["cognito:groups"] = list(user.groups)
        if token_use == "id":
            claims.update(_token_attributes(user.attributes))
            claims.update(
                {
                    "iss": self.issuer,
                    "cognito:username": user.username,
                    "origin_jti": grant.origin_jti,
                    "aud": grant.client_id,
                    "event_id": event_id,
                    "token_use": "id",
                }
            )
        else:
            claims.update(
                {
                    "iss": self.issuer,
                    "version": 2,
                    "client_id": grant.client_id,
                    "origin_jti": grant.origin_jti,
                    "event_id": event_id,
                    "token_use": "access",
                    "scope": " ".join(grant.scopes),
                }
            )
        claims.update(
            {
                "auth_time": grant.auth_time,
                "exp": now + self.token_lifetime,
                "iat": now,
                "jti": str(uuid.uuid4()),
            }
        )
        if token_use == "access":
            claims["username"] = user.username
        return claims

    def _sign(self, token_use: str, claims: Mapping[str, Any]) -> str:
        kid, private_key = self._signing_key(token_use, "current")
        return _encode_jws({"kid": kid, "alg": "RS256"}, claims, private_key)

    # -- what a browser does ----------------------------------------------------------------

    def sign_in(self, login_url: str, username: str, password: str) -> str:
        """Sign in through the hosted UI as a browser would; return the redirect back to the app.

        GETs ``login_url`` (an authorize or login URL, e.g. ``lc.config.start_login().url``)
        with a fresh ``requests`` session, fills in the sign-in form and returns the absolute
        ``Location`` of the 302 back to the app: it carries ``code`` and ``state``, or
        ``error`` when the authorize request was bad in a way Cognito reports on the redirect.
        Raises :class:`SignInError` for a wrong username or password, an error page or an
        unreachable server; the message never contains the password.
        """
        try:
            with requests.Session() as session:
                session.trust_env = False  # a proxy from the environment must not see this
                page = session.get(login_url, allow_redirects=False, timeout=10)
                if page.is_redirect:
                    return urljoin(page.url, page.headers["Location"])
                form = _PageReader.read(page.text)
                if page.status_code != 200 or form.action is None:
                    reason = form.error_message or "the page has no sign-in form"
                    raise SignInError(f"sign-in page answered HTTP {page.status_code}: {reason}")
                data = dict(form.hidden_fields, username=username, password=password)
                answer = session.post(
                    urljoin(page.url, form.action), data=data, allow_redirects=False, timeout=10
                )
        except requests.RequestException as exc:
            raise SignInError(f"could not reach the sign-in page: {type(exc).__name__}") from None
        if answer.is_redirect:
            return urljoin(answer.url, answer.headers["Location"])
        reason = _PageReader.read(answer.text).error_message or f"HTTP {answer.status_code}"
        message = f"sign-in as {username!r} failed: {reason}"
        raise SignInError(message.replace(password, "***") if password else message)

    # -- state helpers ----------------------------------------------------------------------

    def _now(self) -> int:
        return int(self.clock())

    def _client_or_none(self, client_id: Optional[str]) -> Optional[_Client]:
        with self._lock:
            return self._clients.get(client_id or "")

    def _find_user(self, username: Optional[str]) -> Optional[_User]:
        with self._lock:
            user = self._users.get(username or "")
        if user is None and username == self._synthetic_user.username:
            return self._synthetic_user  # so tokens from mint() work at userInfo too
        return user

    def _published_keys(self) -> List[_SigningKey]:
        with self._lock:
            return [self._keys["id"], self._keys["access"], *self._kept_keys]

    # -- request dispatch -------------------------------------------------------------------

    def _dispatch(self, request: _Request) -> _Response:
        with self._lock:
            self._requests_seen.append((request.method, request.path))
        methods = self._routes.get(request.path)
        if methods is None:
            return _html_response(404, "Not found", "<h1>Not found</h1>")
        endpoint = methods.get(request.method)
        if endpoint is None:
            allow = ", ".join(methods)
            return _Response(405, b"", (("Allow", allow),))
        try:
            return endpoint(request)
        except _EndpointError as abort:
            return abort.response
        except Exception as exc:  # a bug in LocalCognito; kept for the test to see
            with self._lock:
                self.server_errors.append(exc)
            return _json_response(500, {"error": "server_error"})

    def _authenticate_client(
        self, request: _Request, form: Mapping[str, str], *, endpoint: str
    ) -> _Client:
        """The one place clients authenticate: Basic ``id:secret`` or ``client_id`` in the body.

        At the token endpoint a confidential client may also send ``client_secret`` in the
        body and failures are 400; at the revocation endpoint it must use Basic and failures
        are 401. Every failure is ``invalid_client``. Each attempt, refused or not, is first
        recorded in :attr:`client_authentications`.
        """
        status = 401 if endpoint == "revoke" else 400

        def refuse(description: str) -> _EndpointError:
            return _oauth_error("invalid_client", description, status=status)

        body_id, body_secret = form.get("client_id"), form.get("client_secret")
        try:
            basic = _basic_credentials(request.headers.get("authorization"))
        except ValueError as exc:
            self._record_client_authentication(
                ClientAuthentication(endpoint, "client_secret_basic", None, body_secret is not None)
            )
            raise refuse(str(exc)) from None
        claimed_id: Optional[str] = body_id if basic is None else basic[0]
        if basic is not None:
            method = "client_secret_basic"
        elif body_secret is not None:
            method = "client_secret_post"
        else:
            method = "none"
        self._record_client_authentication(
            ClientAuthentication(endpoint, method, claimed_id, body_secret is not None)
        )
        client_id: Optional[str]
        secret: Optional[str]
        if basic is not None:
            client_id, secret = basic[0], basic[1] or None
            if body_id is not None and body_id != client_id:
                raise refuse("client_id in the body differs from the Basic credentials")
            if body_secret is not None and body_secret != secret:
                raise refuse("client_secret in the body differs from the Basic credentials")
        else:
            client_id, secret = body_id, body_secret
        if client_id is None:
            raise refuse("client authentication is required")
        client = self._client_or_none(client_id)
        if client is None:
            raise refuse("Client does not exist.")
        if client.client_secret is None:
            if secret is not None:
                raise refuse("this app client has no secret")
            return client
        if secret is None or not hmac.compare_digest(
            secret.encode("utf-8"), client.client_secret.encode("utf-8")
        ):
            raise refuse("client secret is missing or wrong")
        if endpoint == "revoke" and basic is None:
            raise refuse("a client with a secret must authenticate with HTTP Basic")
        return client

    def _record_client_authentication(self, record: ClientAuthentication) -> None:
        with self._lock:
            self._client_authentications.append(record)

    # -- /oauth2/authorize, /login ---------------------------------------------------------

    def _page_params(self, query_string: str) -> Dict[str, str]:
        try:
            return _parse_params(query_string)
        except ValueError:
            raise _error_page("invalid_request", "malformed or repeated parameter") from None

    def _page_client(self, client_id: Optional[str]) -> _Client:
        client = self._client_or_none(client_id)
        if client is None:
            raise _error_page("invalid_request", "Client does not exist or client_id is missing")
        return client

    def _authorize_request(self, query_string: str) -> _AuthorizeRequest:
        """Validate an authorize/login query the way Cognito does, in Cognito's order.

        A bad client or redirect URI is an error page (never a redirect to an unknown URI);
        every later problem is reported on the redirect, with ``state``.
        """
        query = self._page_params(query_string)
        client = self._page_client(query.get("client_id"))
        redirect_uri = query.get("redirect_uri")
        if redirect_uri is None or redirect_uri not in client.redirect_uris:
            raise _error_page(
                "redirect_mismatch", "redirect_uri is not a callback URL of this app client"
            )
        state = query.get("state")

        def reject(error: str, description: str) -> _EndpointError:
            params = (("error_description", description), ("error", error), ("state", state))
            return _EndpointError(_redirect(_add_query(redirect_uri, params)))

        if query.get("response_type") != "code":
            raise reject("invalid_request", "response_type must be code")
        scopes = tuple(dict.fromkeys(query.get("scope", "").split())) or client.scopes
        allowed = set(_OIDC_SCOPES) | set(self._custom_scopes)
        if any(scope not in allowed for scope in scopes):
            raise reject("invalid_scope", "invalid_scope")
        if "openid" not in scopes and _SCOPES_NEEDING_OPENID.intersection(scopes):
            raise reject("invalid_scope", "email, phone and profile need the openid scope")
        challenge = query.get("code_challenge")
        method = query.get("code_challenge_method")
        if (challenge is None) != (method is None):
            raise reject("invalid_request", "code_challenge and code_challenge_method go together")
        if challenge and (method != "S256" or not _S256_CHALLENGE.fullmatch(challenge)):
            raise reject("invalid_request", "only S256 PKCE code challenges are supported")
        return _AuthorizeRequest(client, redirect_uri, scopes, state, query.get("nonce"), challenge)

    def _login_page(
        self, query_string: str, auth: _AuthorizeRequest, *, username: str = "", error: str = ""
    ) -> _Response:
        message = f'<p id="error" role="alert">{html.escape(error)}</p>\n' if error else ""
        content = (
            "<h1>Sign in</h1>\n"
            f'<p>App client <code id="client-id">{html.escape(auth.client.client_id)}</code></p>\n'
            f"{message}"
            f'<form method="post" action="/login?{html.escape(query_string)}">\n'
            '<label for="username">Username</label>\n'
            '<input id="username" name="username" type="text" autocomplete="username" '
            f'value="{html.escape(username)}" required>\n'
            '<label for="password">Password</label>\n'
            '<input id="password" name="password" type="password" '
            'autocomplete="current-password" required>\n'
            '<button id="signin" name="signin" type="submit">Sign in</button>\n'
            "</form>"
        )
        return _html_response(200, "Sign in", content)

    def _authorize_page(self, request: _Request) -> _Response:
        auth = self._authorize_request(request.query_string)
        return self._login_page(request.query_string, auth)

    def _login_submit(self, request: _Request) -> _Response:
        auth = self._authorize_request(request.query_string)
        try:
            form = _parse_params(request.body.decode("utf-8"))
        except ValueError:
            form = {}
        username = form.get("username", "")
        user = self._find_user(username)
        password = form.get("password", "").encode("utf-8")
        if (
            user is None
            or user is self._synthetic_user
            or not hmac.compare_digest(password, user.password.encode("utf-8"))
        ):
            return self._login_page(
                request.query_string, auth, username=username, error=_BAD_CREDENTIALS
            )
        now = self._now()
        code = str(uuid.uuid4())
        grant = _Grant(auth.client.client_id, user.username, auth.scopes, now, str(uuid.uuid4()))
        record = _AuthCode(
            grant, auth.redirect_uri, auth.nonce, auth.code_challenge, now + _CODE_LIFETIME
        )
        with self._lock:
            self._codes = {c: r for c, r in self._codes.items() if r.expires_at > now}
            self._codes[code] = record
        return _redirect(_add_query(auth.redirect_uri, (("code", code), ("state", auth.state))))

    # -- /oauth2/token --------------------------------------------------------------------

    def _token(self, request: _Request) -> _Response:
        form = _form_params(request)
        client = self._authenticate_client(request, form, endpoint="token")
        grants: Dict[str, Callable[[_Client, Mapping[str, str]], Dict[str, Any]]] = {
            "authorization_code": self._authorization_code_grant,
            "refresh_token": self._refresh_token_grant,
            "client_credentials": self._client_credentials_grant,
        }
        grant = grants.get(_required(form, "grant_type"))
        if grant is None:
            raise _oauth_error("unsupported_grant_type")
        return _json_response(200, grant(client, form))

    def _authorization_code_grant(self, client: _Client, form: Mapping[str, str]) -> Dict[str, Any]:
        code = _required(form, "code")
        redirect_uri = _required(form, "redirect_uri")
        with self._lock:
            record = self._codes.pop(code, None)  # consumed by its first use, even a failed one
        if (
            record is None
            or record.expires_at <= self._now()
            or record.grant.client_id != client.client_id
        ):
            raise _oauth_error("invalid_grant")
        if redirect_uri != record.redirect_uri:
            raise _oauth_error("unauthorized_client", "invalid_redirect")
        if record.code_challenge is not None:
            verifier = form.get("code_verifier")
            try:
                matches = verifier is not None and hmac.compare_digest(
                    pkce_challenge(verifier), record.code_challenge
                )
            except ValueError:  # not ASCII
                matches = False
            if not matches:
                raise _oauth_error("invalid_grant", "code_verifier does not match")
        return self._issue_tokens(record.grant, nonce=record.nonce, with_refresh=True)

    def _refresh_token_grant(self, client: _Client, form: Mapping[str, str]) -> Dict[str, Any]:
        token = _required(form, "refresh_token")
        now = self._now()
        with self._lock:
            record = self._refresh_tokens.get(token)
            if (
                record is None
                or record.grant.client_id != client.client_id
                or record.expires_at <= now
                or record.grant.origin_jti in self._revoked_origins
            ):
                raise _oauth_error("invalid_grant", "Invalid Refresh Token")
            rotate = self.refresh_token_rotation
            if rotate:
                record.expires_at = min(record.expires_at, now + self.rotation_grace_period)
        return self._issue_tokens(record.grant, nonce=None, with_refresh=rotate)

    def _client_credentials_grant(self, client: _Client, form: Mapping[str, str]) -> Dict[str, Any]:
        if client.client_secret is None:
            raise _oauth_error("unauthorized_client", "client_credentials needs a client secret")
        requested = form.get("scope")
        scopes = tuple(dict.fromkeys(requested.split())) if requested else self._custom_scopes
        if not scopes or any(scope not in self._custom_scopes for scope in scopes):
            raise _oauth_error("invalid_scope")
        now = self._now()
        claims = {
            "sub": client.client_id,
            "token_use": "access",
            "scope": " ".join(scopes),
            "auth_time": now,
            "iss": self.issuer,
            "exp": now + self.token_lifetime,
            "iat": now,
            "version": 2,
            "jti": str(uuid.uuid4()),
            "client_id": client.client_id,
        }
        return {
            "access_token": self._sign("access", claims),
            "expires_in": self.token_lifetime,
            "token_type": "Bearer",
        }

    def _issue_tokens(
        self, grant: _Grant, *, nonce: Optional[str], with_refresh: bool
    ) -> Dict[str, Any]:
        """Sign the tokens of one grant: ID (when ``openid``), access, maybe a refresh token."""
        user = self._find_user(grant.username)
        if user is None:
            raise _oauth_error("invalid_grant", "User does not exist.")
        now = self._now()
        event_id = str(uuid.uuid4())
        access_token = self._sign("access", self._claims("access", user, grant, now, event_id))
        tokens: Dict[str, Any] = {}
        if "openid" in grant.scopes:
            id_claims = self._claims("id", user, grant, now, event_id)
            id_claims["at_hash"] = _at_hash(access_token)
            if nonce is not None:
                id_claims["nonce"] = nonce
            tokens["id_token"] = self._sign("id", id_claims)
        tokens["access_token"] = access_token
        if with_refresh:
            refresh_token = _new_refresh_token()
            record = _RefreshToken(grant, now + self.refresh_token_lifetime)
            with self._lock:
                self._refresh_tokens[refresh_token] = record
            tokens["refresh_token"] = refresh_token
        tokens["expires_in"] = self.token_lifetime
        tokens["token_type"] = "Bearer"
        return tokens

    # -- /oauth2/revoke -------------------------------------------------------------------

    def _revoke(self, request: _Request) -> _Response:
        form = _form_params(request)
        client = self._authenticate_client(request, form, endpoint="revoke")
        token = _required(form, "token")
        if token.count(".") == 2:
            raise _oauth_error("unsupported_token_type", "only refresh tokens can be revoked")
        with self._lock:
            record = self._refresh_tokens.get(token)
            if record is not None:
                if record.grant.client_id != client.client_id:
                    raise _oauth_error("invalid_request", "token was not issued to this client")
                # kills the refresh token, its rotations and every access token from them
                self._revoked_origins.add(record.grant.origin_jti)
        return _Response(200)

    # -- /oauth2/userInfo -----------------------------------------------------------------

    def _userinfo(self, request: _Request) -> _Response:
        claims = self._verified_access_claims(request.headers.get("authorization"))
        user = self._find_user(claims.get("username"))
        if user is None:
            raise _invalid_token("Access token does not belong to a user")
        info: Dict[str, str] = {"sub": user.attributes["sub"]}
        info.update((k, v) for k, v in user.attributes.items() if k != "sub")
        info["username"] = user.username
        return _json_response(200, info)

    def _verified_access_claims(self, authorization: Optional[str]) -> Dict[str, Any]:
        """The claims of a Bearer access token that this pool issued and has not revoked."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _invalid_token("Access token is missing")
        segments = token.split(".")
        try:
            if len(segments) != 3 or not all(_B64URL.fullmatch(s) for s in segments):
                raise ValueError("not a JWS")
            header = json_object(b64url_decode(segments[0]))
            claims = json_object(b64url_decode(segments[1]))
            signature = b64url_decode(segments[2])
        except ValueError:
            raise _invalid_token("Access token is malformed") from None
        key = next((k for k in self._published_keys() if k.kid == header.get("kid")), None)
        if key is None or header.get("alg") != "RS256":
            raise _invalid_token("Access token is not signed by this user pool")
        signing_input = f"{segments[0]}.{segments[1]}".encode("ascii")
        try:
            key.private_key.public_key().verify(
                signature, signing_input, padding.PKCS1v15(), hashes.SHA256()
            )
        except InvalidSignature:
            raise _invalid_token("Access token signature is invalid") from None
        exp = claims.get("exp")
        if not isinstance(exp, int) or isinstance(exp, bool) or exp <= self._now():
            raise _invalid_token("Access token has expired")
        if claims.get("token_use") != "access" or claims.get("iss") != self.issuer:
            raise _invalid_token("Not an access token of this user pool")
        origin_jti = claims.get("origin_jti")
        with self._lock:
            revoked = isinstance(origin_jti, str) and origin_jti in self._revoked_origins
        if revoked:
            raise _invalid_token("Access token has been revoked")
        scope = claims.get("scope")
        if not isinstance(scope, str) or not _USERINFO_SCOPES.intersection(scope.split()):
            raise _invalid_token("Access token does not have the openid scope")
        return claims

    # -- /logout ----------------------------------------------------------------------------

    def _logout(self, request: _Request) -> _Response:
        query = self._page_params(request.query_string)
        client = self._page_client(query.get("client_id"))
        logout_uri = query.get("logout_uri")
        if logout_uri is not None:
            if logout_uri not in client.logout_uris:
                raise _error_page(
                    "invalid_request", "logout_uri is not a sign-out URL of this app client"
                )
            return _redirect(logout_uri)
        redirect_uri = query.get("redirect_uri")
        if redirect_uri is None:
            raise _error_page("invalid_request", "logout_uri or redirect_uri is required")
        if redirect_uri not in client.redirect_uris:
            raise _error_page(
                "redirect_mismatch", "redirect_uri is not a callback URL of this app client"
            )
        if query.get("response_type") != "code":
            raise _error_page("invalid_request", "response_type must be code")
        return _redirect("/login?" + request.query_string)

    # -- /.well-known -----------------------------------------------------------------------

    def _jwks(self, request: _Request) -> _Response:
        keys = [key.jwk for key in self._published_keys()]
        return _json_response(200, {"keys": keys}, no_store=False)

    def _openid_configuration(self, request: _Request) -> _Response:
        base = self.url
        document = {
            "issuer": self.issuer,
            "authorization_endpoint": base + "/oauth2/authorize",
            "token_endpoint": base + "/oauth2/token",
            "userinfo_endpoint": base + "/oauth2/userInfo",
            "revocation_endpoint": base + "/oauth2/revoke",
            "jwks_uri": self.jwks_url,
            "response_types_supported": ["code", "token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "phone", "profile"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
            ],
        }
        return _json_response(200, document, no_store=False)


# -- the HTTP server -----------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    """Counts and tracks connections so ``stop()`` can close idle keep-alive ones."""

    daemon_threads = True
    # socketserver's default backlog of 5 overflows when a dozen clients connect at once, and
    # the kernel then resets connections the client believes are open.
    request_queue_size = 128

    def __init__(self, address: Tuple[str, int], provider: LocalCognito) -> None:
        self.provider = provider
        self._open: Set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.provider._connection_opened()
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client hanging up mid-response is not worth a traceback on stderr

    def close_connections(self) -> None:
        """Wake every handler waiting on a keep-alive connection so its thread ends."""
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm the body waits for the
    # client's delayed ACK of the headers, 40 ms on every answer.
    disable_nagle_algorithm = True
    server: _Server

    def version_string(self) -> str:
        return "LocalCognito"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # no request log: URLs carry codes and state

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            return
        parts = urlsplit(self.path)
        request = _Request(
            method=self.command,
            path=parts.path,
            query_string=parts.query,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        self._send(self.server.provider._dispatch(request))

    def _read_body(self) -> Optional[bytes]:
        """The request body, or ``None`` after answering a request whose body cannot be read."""
        if "Transfer-Encoding" in self.headers:
            self._send(_Response(411), close=True)
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= _MAX_BODY:
            self._send(_Response(413 if length > _MAX_BODY else 400), close=True)
            return None
        return self.rfile.read(length) if length else b""

    def _send(self, response: _Response, *, close: bool = False) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(response.body)


# -- reading the sign-in page --------------------------------------------------------------


class _PageReader(HTMLParser):
    """Finds the first form's action and hidden fields, and the text of ``id="error"``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.action: Optional[str] = None
        self.hidden_fields: Dict[str, str] = {}
        self._in_form = False
        self._error_tag: Optional[str] = None
        self._error_text: List[str] = []

    @classmethod
    def read(cls, text: str) -> _PageReader:
        """What ``text`` holds, up to any markup the parser gives up on."""
        reader = cls()
        try:
            reader.feed(text)
            reader.close()
        except (AssertionError, ValueError):  # how html.parser gives up: see error()
            pass
        return reader

    def error(self, message: str) -> NoReturn:
        """Called by Python 3.9's parser on markup it cannot parse; 3.10+ raise AssertionError."""
        raise ValueError(message)

    @property
    def error_message(self) -> str:
        """The text of the element with ``id="error"``, whitespace collapsed."""
        return " ".join("".join(self._error_text).split())

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, Optional[str]]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form" and self.action is None:
            self.action = attributes.get("action", "")
            self._in_form = True
        elif tag == "input" and self._in_form and attributes.get("type", "").lower() == "hidden":
            if attributes.get("name"):
                self.hidden_fields[attributes["name"]] = attributes.get("value", "")
        if attributes.get("id") == "error":
            self._error_tag = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False
        if tag == self._error_tag:
            self._error_tag = None

    def handle_data(self, data: str) -> None:
        if self._error_tag is not None:
            self._error_text.append(data)
