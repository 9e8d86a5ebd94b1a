"""LocalCognito: one user pool with its app clients and hosted UI, served on a loopback port.

The class ties the parts together and is the public face of the package; each part has its
own module: the pool's state (:mod:`.store`), keys (:mod:`.keys`) and tokens (:mod:`.minting`),
the endpoints (:mod:`.hosted_ui`, :mod:`.oauth`, :mod:`.discovery`) and their routing
(:mod:`.router`), the browser (:mod:`.browser`) and the server (:mod:`.server`).
"""

from __future__ import annotations

import functools
import time
import uuid
from dataclasses import replace
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from ..settings.config import CognitoConfig
from ..settings.fields import app_client_id
from ..settings.issuers import JWKS_PATH
from ..settings.urls import check_resource
from .browser import sign_in
from .client_auth import PresentedClientAuth
from .customisation import PreTokenGeneration, check_hook
from .discovery import Discovery
from .hosted_ui import HostedUI
from .issuer_forms import IssuerForms
from .keys import KeyArg, KeyPool, KeyRing
from .minting import Minter
from .oauth import OAuthEndpoints, TokenEndpointFault, TokenEndpointHold
from .router import Router
from .server import LoopbackServer
from .settings import now
from .store import (
    Client,
    Grant,
    Store,
    User,
    new_user,
    with_secret_added,
    with_secret_deleted,
)
from .wire import Endpoint, EndpointHandler


def _check_lifetimes(token: int, refresh_token: int, rotation_grace_period: int) -> None:
    for name, value in (("token_lifetime", token), ("refresh_token_lifetime", refresh_token)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name} must be a positive number of seconds")
    if not 0 <= rotation_grace_period <= 60:
        raise ValueError("rotation_grace_period must be between 0 and 60 seconds")


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
    assert it stays empty. :meth:`token_requests` counts token requests per grant type (what
    Cognito would bill for ``client_credentials``), :meth:`fail_token_endpoint` makes the
    token endpoint answer an error for a while, and :meth:`hold_token_endpoint` makes it
    slow. :meth:`add_client_secret` and :meth:`delete_client_secret` rotate a client's
    secret as Cognito's API does. Safe to use from several threads; ``repr()`` shows the
    URL, pool id and client id only.
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
        resources: Sequence[str] = (),
        token_lifetime: int = 3600,
        refresh_token_lifetime: int = 30 * 86400,
        refresh_token_rotation: bool = False,
        rotation_grace_period: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        key_pool: Optional[KeyPool] = None,
        pre_token_generation: Optional[PreTokenGeneration] = None,
        issuer_form: str = "original",
        replica_regions: Sequence[str] = (),
    ) -> None:
        """Set up the pool; nothing listens until :meth:`start`.

        ``redirect_uri`` and ``logout_uri`` are registered callback and sign-out URLs and go
        into :attr:`config`; ``redirect_uris`` registers more callback URLs. ``scopes`` is what
        :attr:`config` asks for and what an authorize request without ``scope`` is granted.
        ``custom_scopes`` are the resource-server scopes the client may request (the only ones
        ``client_credentials`` grants). ``resources`` are the resource indicators the main
        client may ask for (see :meth:`add_client`). ``key_pool`` (a :class:`KeyPool`) gives
        the signing keys instead of generating two RSA keys here, which is most of what starting
        a provider costs: for a test suite that starts one per test. ``pre_token_generation``
        (an attribute too, settable while running) customises tokens as the V2/V3 trigger does
        (:mod:`cognito_helper.testing.customisation`). ``issuer_form`` and ``replica_regions``:
        see :attr:`forms` (:class:`IssuerForms`). Raises
        :class:`~cognito_helper.errors.ConfigError` for an id or URL Cognito would not accept
        and ``ValueError`` for a bad lifetime or resource.
        """
        _check_lifetimes(token_lifetime, refresh_token_lifetime, rotation_grace_period)
        self._base_config = CognitoConfig(
            user_pool_id=user_pool_id,
            client_id=client_id,
            client_secret=client_secret,
            redirect_uri=redirect_uri,
            logout_uri=logout_uri,
            scopes=tuple(scopes),
        )
        self.user_pool_id: str = self._base_config.user_pool_id
        self.client_id: str = app_client_id(self._base_config.client_id, "LocalCognito")
        self.token_lifetime = token_lifetime
        self.refresh_token_lifetime = refresh_token_lifetime
        self.refresh_token_rotation = refresh_token_rotation
        self.rotation_grace_period = rotation_grace_period
        self.clock: Callable[[], float] = time.time
        self.pre_token_generation = check_hook(pre_token_generation)
        self.server_errors: List[BaseException] = []
        self._host = host
        self._port = port
        self._default_scopes = tuple(scopes)
        self.forms = IssuerForms(self.user_pool_id, issuer_form, replica_regions, lambda: self.url)
        self._server: Optional[LoopbackServer] = None
        self._connections_before = 0  # accepted by servers stopped since
        self._url: Optional[str] = None
        self._config: Optional[CognitoConfig] = None
        self._store = Store()
        self._keys = KeyRing() if key_pool is None else KeyRing(key_pool.signing_key)
        self._minter = Minter(self._keys, self)
        self._oauth = OAuthEndpoints(self._store, self._keys, self._minter, self, custom_scopes)
        self._router = self._make_router(HostedUI(self._store, self, custom_scopes))
        self.add_client(
            self.client_id,
            client_secret=client_secret,
            redirect_uris=(redirect_uri, *redirect_uris),
            logout_uris=(logout_uri,),
            scopes=scopes,
            resources=resources,
        )

    def _make_router(self, hosted_ui: HostedUI) -> Router:
        oauth, discovery = self._oauth, Discovery(self._keys, self)
        userinfo = {"GET": oauth.userinfo, "POST": oauth.userinfo}
        routes: Dict[str, Mapping[str, Endpoint]] = {
            "/oauth2/authorize": {"GET": hosted_ui.authorize_page},
            "/login": {"GET": hosted_ui.authorize_page, "POST": hosted_ui.login_submit},
            "/oauth2/token": {"POST": oauth.token},
            "/oauth2/revoke": {"POST": oauth.revoke},
            "/oauth2/userInfo": userinfo,
            "/oauth2/userinfo": userinfo,
            "/logout": {"GET": hosted_ui.logout},
            **self.forms.routes(discovery.jwks, discovery.openid_configuration),
        }
        return Router(routes, on_error=self._server_error)

    def _server_error(self, exc: Exception) -> None:
        self.server_errors.append(exc)

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> LocalCognito:
        """Listen on ``host:port`` (port 0 picks a free one) in a daemon thread; return self.

        Calling it again while running does nothing. After :meth:`stop` it may be started
        again (on a new port when ``port`` is 0), keeping users, keys and tokens.
        """
        if self._server is not None:
            return self
        handler = functools.partial(EndpointHandler, endpoint=self._router.dispatch)
        server = LoopbackServer(handler, host=self._host, port=self._port, name="LocalCognito")
        url = server.url
        self._url = url
        self._config = replace(
            self._base_config,
            domain=url,
            issuer=self.issuer,
            jwks_url=self.jwks_url,
        )
        self._server = server.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the listening socket and every open connection, join the thread.

        Idempotent. Clients holding a keep-alive connection see it closed.
        """
        server, self._server = self._server, None
        if server is None:
            return
        server.stop()
        self._connections_before += server.connections

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
        """The ``iss`` of the tokens it issues now: ``{url}/{user_pool_id}`` (the ORIGINAL
        form), or another of :attr:`issuers` (see :attr:`forms`)."""
        return self.forms.issuer

    @property
    def issuers(self) -> Tuple[str, ...]:
        """Every issuer it publishes (keys and OpenID configuration): see :attr:`forms`."""
        return self.forms.issuers

    @property
    def forms_config(self) -> CognitoConfig:
        """:attr:`config` trusting each of :attr:`issuers` with its own key set, as a config
        given no ``issuer=`` trusts both of Cognito's issuer forms (and replica regions')."""
        return self.forms.config(self.config)

    @property
    def jwks_url(self) -> str:
        """:attr:`issuer`'s key set: ``{issuer}/.well-known/jwks.json``."""
        return self.issuer + JWKS_PATH

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
        server = self._server
        return self._connections_before + (server.connections if server is not None else 0)

    @property
    def requests_seen(self) -> List[Tuple[str, str]]:
        """A copy of every ``(method, path)`` handled so far, oldest first; paths lack queries."""
        return self._router.requests_seen

    @property
    def client_authentications(self) -> List[PresentedClientAuth]:
        """A copy of how each token and revocation request authenticated, oldest first.

        One :class:`PresentedClientAuth` per request to ``/oauth2/token`` or
        ``/oauth2/revoke`` whose form body could be read, including refused ones, so a test can
        assert that a confidential client used HTTP Basic and never sent its secret in the body.
        """
        return self._oauth.client_authentications

    @property
    def jwks_requests(self) -> int:
        """How many times a key set has been requested, of any issuer."""
        return sum(self.key_requests(issuer) for issuer in self.issuers)

    def key_requests(self, issuer: str) -> int:
        """How many times the key set of ``issuer`` (one of :attr:`issuers`) was requested."""
        return self._router.count(issuer[len(self.url) :] + JWKS_PATH)

    def token_requests(self, grant_type: Optional[str] = None) -> int:
        """How many requests ``/oauth2/token`` has received, refused ones included.

        With ``grant_type`` (``"client_credentials"``, ``"authorization_code"``,
        ``"refresh_token"`` or any other value a request named), only the requests whose form
        named it, whatever the answer was (a bad client, a bad grant, or an error made by
        :meth:`fail_token_endpoint`). Without it, every request to the path, including ones
        whose body was not a readable form. Safe to call while requests run.
        """
        if grant_type is None:
            return self._router.count("/oauth2/token")
        return self._oauth.token_requests(grant_type)

    # -- making it fail -------------------------------------------------------------------

    def fail_token_endpoint(
        self, status: int = 500, *, error: str = "server_error", times: Optional[int] = None
    ) -> TokenEndpointFault:
        """Make ``/oauth2/token`` answer ``status`` with ``{"error": error}``, as an outage would.

        Every token request is answered so (and still counted by :meth:`token_requests`)
        until the returned :class:`~cognito_helper.testing.oauth.TokenEndpointFault` ends:
        on its :meth:`~cognito_helper.testing.oauth.TokenEndpointFault.end`, at the end of
        ``with lc.fail_token_endpoint():``, or after ``times`` answers. A new call replaces the
        fault in force. 5xx and 429 read as "Cognito unavailable" to the library
        (:class:`~cognito_helper.errors.CognitoConnectionError`); a 4xx with an OAuth error code
        as a refusal. These answers are not internal errors: :attr:`server_errors` stays empty.
        Raises ``ValueError`` for a status outside 400..599, an empty ``error`` or ``times``
        below 1.
        """
        fault = TokenEndpointFault(status, error, times)
        self._oauth.fail(fault)
        return fault

    def hold_token_endpoint(self, *, timeout: float = 30.0) -> TokenEndpointHold:
        """Make ``/oauth2/token`` slow: each token request is held until the returned
        :class:`~cognito_helper.testing.oauth.TokenEndpointHold` is released (its
        ``release()``, the end of ``with lc.hold_token_endpoint() as hold:``) or for at most
        ``timeout`` seconds (more than 0, at most 60); ``hold.waiting`` counts the requests
        held now. For testing what an app does while a code exchange or a refresh is in
        flight. A new call replaces the hold in force. Raises ``ValueError`` for a bad
        ``timeout``.
        """
        hold = TokenEndpointHold(timeout)
        self._oauth.hold(hold)
        return hold

    # -- setting it up --------------------------------------------------------------------

    def add_client(
        self,
        client_id: str,
        *,
        client_secret: Optional[str] = None,
        redirect_uris: Sequence[str] = ("http://localhost:8000/cognito_redirect",),
        logout_uris: Sequence[str] = ("http://localhost:8000/",),
        scopes: Sequence[str] = ("openid", "email", "profile"),
        resources: Sequence[str] = (),
    ) -> None:
        """Register another app client of the same pool (the main one is made by the constructor).

        Tokens, codes and refresh tokens are bound to the client they were issued to, so a
        second client lets a test prove that one client cannot use another's. To drive the
        library with it: ``dataclasses.replace(lc.config, client_id=..., client_secret=...)``.

        ``resources`` are the resource indicators (RFC 8707; in Cognito, identifiers of the
        pool's resource servers) this client may send as ``resource`` on ``/oauth2/authorize``
        or on a ``client_credentials`` grant: the access tokens of that grant then carry it as
        their ``aud`` (a string; the ID token's ``aud`` stays the client id, and tokens from a
        refresh keep the binding). Any other ``resource`` is refused with ``invalid_request``:
        on the authorize redirect, or as the token endpoint's JSON error. Access tokens
        without a resource have no ``aud``.

        Raises ``ValueError`` if the id is taken or a resource is not an absolute URI (scheme
        and host, no fragment, printable ASCII), ``TypeError`` if ``resources`` is one string.
        """
        if not client_id or any(c.isspace() for c in client_id):
            raise ValueError("client_id must be non-empty and contain no spaces")
        if isinstance(resources, str):
            raise TypeError("resources must be a sequence of absolute URIs, not one string")
        client = Client(
            client_id=client_id,
            client_secrets=(client_secret.strip(),) if client_secret else (),
            redirect_uris=tuple(redirect_uris),
            logout_uris=tuple(logout_uris),
            scopes=tuple(scopes),
            resources=tuple(check_resource("resources entry", r) for r in resources),
        )
        self._store.add_client(client)

    def add_client_secret(self, client_id: str, *, client_secret: Optional[str] = None) -> str:
        """Give a confidential app client another secret, as ``AddUserPoolClientSecret`` does;
        return it. Both secrets work until one is deleted (:meth:`delete_client_secret`).

        ``client_secret`` chooses the value (24 to 64 letters, digits, ``_`` or ``+``);
        otherwise a random one is made. Raises ``ValueError`` for an unknown or public
        client, a client with two secrets already, or a value Cognito would refuse.
        """
        added: List[str] = []

        def add(client: Client) -> Tuple[str, ...]:
            secrets = with_secret_added(client, client_secret)
            added.append(secrets[-1])
            return secrets

        self._store.change_secrets(client_id, add)
        return added[0]

    def delete_client_secret(self, client_id: str, secret: str) -> None:
        """Delete one of an app client's secrets, as ``DeleteUserPoolClientSecret`` does: a
        request authenticated with it gets ``invalid_client`` from then on.

        Raises ``ValueError`` for an unknown client, a value that is not one of its secrets,
        and its last secret (Cognito keeps that one).
        """
        self._store.change_secrets(client_id, lambda client: with_secret_deleted(client, secret))

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
        user = new_user(username, password, groups, attributes)
        self._store.add_user(user)
        return dict(user.attributes)

    def user(self, username: Optional[str] = None) -> User:
        """The user called ``username`` (``None``: the synthetic user :meth:`mint` signs for).

        Read-only: its ``username``, ``attributes`` (a copy is what callers should change) and
        groups. Raises ``ValueError`` when there is no such user.
        """
        store = self._store
        user = store.synthetic_user if username is None else store.user(username)
        if user is None:
            raise ValueError(f"LocalCognito has no user {username!r}")
        return user

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
        self._keys.rotate(keep_old=keep_old)

    # -- tokens without HTTP --------------------------------------------------------------

    def mint(
        self,
        token_use: str,
        /,
        *,
        header: Optional[Mapping[str, Any]] = None,
        key: KeyArg = "current",
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
        user = self._store.synthetic_user
        grant = Grant(
            self.client_id, user.username, self._default_scopes, now(self), str(uuid.uuid4())
        )
        return self._minter.mint(
            token_use, user, grant, header=header or {}, key=key, changes=claims
        )

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
        return sign_in(login_url, username, password)
