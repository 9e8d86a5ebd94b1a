"""LocalALB: the headers an Application Load Balancer's Cognito authenticate action adds to a
request, minted offline, and the ALB's public-key endpoint on a loopback port.

:class:`LocalALB` signs ``x-amzn-oidc-data`` the way the ALB does (ES256 with its own P-256 key,
a header with ``kid``, ``signer``, ``iss``, ``client`` and ``exp``, segments in base64url *with*
``=`` padding, the signature in the JOSE ``r || s`` form) and serves each key's PEM at
``/{kid}``, so :func:`~cognito_helper.verify_alb_jwt` can be pointed at it with ``key_url``::

    with LocalCognito() as lc, LocalALB(lc) as alb:
        lc.add_user("alice", "correct horse", email="alice@example.com")
        headers = alb.headers("alice")  # the three x-amzn-oidc-* headers
        identity = verify_alb_request(headers, config=lc.config, **alb.verify_options)

With a :class:`~cognito_helper.testing.LocalCognito`, the claims are the user's as its userInfo
endpoint gives them, and the access token is one of its real access tokens for that user;
without one, the claims are made up from the username and the access token is opaque random
text (as from an OIDC provider whose access tokens are not JWTs).
"""

from __future__ import annotations

import base64
import functools
import json
import secrets
import threading
import time
import uuid
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple, Union

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from .local_cognito import LocalCognito
from .minting import merge_changes  # the one "None removes" rule LocalCognito uses
from .router import Router
from .server import LoopbackServer
from .store import User
from .wire import Endpoint, EndpointHandler, Request, Response

__all__ = ["DEFAULT_ALB_ARN", "AlbKeyArg", "LocalALB", "encode_alb_jwt"]

#: The load balancer a :class:`LocalALB` signs as unless told otherwise.
DEFAULT_ALB_ARN = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/local-alb/"
    "50dc6c495c0c9188"
)

#: What :meth:`LocalALB.mint` accepts as ``key``.
AlbKeyArg = Union[str, ec.EllipticCurvePrivateKey]

_USERS = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")  # uuid5 namespace of made-up subs


def _segment(data: bytes) -> str:
    """base64url with ``=`` padding: how the ALB writes each segment."""
    return base64.urlsafe_b64encode(data).decode("ascii")


def _json(obj: Mapping[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode("utf-8")


def encode_alb_jwt(
    header: Mapping[str, Any], claims: Mapping[str, Any], key: ec.EllipticCurvePrivateKey
) -> str:
    """Serialise and ES256-sign as the ALB does: padded segments, ``r || s`` signature."""
    signing_input = f"{_segment(_json(header))}.{_segment(_json(claims))}"
    der = key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return f"{signing_input}.{_segment(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


class _AlbKey:
    def __init__(self) -> None:
        self.kid = str(uuid.uuid4())  # real ALB kids are UUIDs
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.pem = self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


class _KeyPaths(Mapping[str, Mapping[str, Endpoint]]):
    """The router's routes: ``/{kid}`` for every published kid, looked up as requests come."""

    def __init__(self, alb: LocalALB) -> None:
        self._alb = alb

    def __getitem__(self, path: str) -> Mapping[str, Endpoint]:
        pem = self._alb._published_pem(path[1:]) if path.startswith("/") else None
        if pem is None:
            raise KeyError(path)
        return {"GET": functools.partial(_serve_pem, pem)}

    def __iter__(self) -> Iterator[str]:
        return iter([f"/{kid}" for kid in self._alb.published_kids])

    def __len__(self) -> int:
        return len(self._alb.published_kids)


def _serve_pem(pem: bytes, request: Request) -> Response:
    return Response(200, pem, (("Content-Type", "application/x-pem-file"),))


class LocalALB:
    """An ALB's signing key and key endpoint, and the identity headers it would forward.

    ``lc``: the :class:`LocalCognito` whose users sign in (its issuer, app client, clock and
    access tokens are used), or ``None``. ``alb_arn`` is the ``signer`` (default
    :data:`DEFAULT_ALB_ARN`); ``client_id`` and ``issuer`` default to ``lc``'s (without ``lc``:
    a made-up client and the AWS issuer form of a made-up pool). ``token_lifetime``: seconds
    from minting to the data token's ``exp``. A P-256 key (with a UUID kid, as the ALB's are)
    is made at construction.

    :meth:`start` (or ``with``) serves ``GET /{kid}`` for every published key on a loopback
    port; :attr:`key_url` is the template to give the verifier, and :attr:`verify_options`
    all the options at once. ``key_requests`` counts the requests the endpoint has had;
    ``server_errors`` lists exceptions of its own code (each answered with 500). Safe to use
    from several threads.
    """

    def __init__(
        self,
        lc: Optional[LocalCognito] = None,
        *,
        alb_arn: str = DEFAULT_ALB_ARN,
        client_id: Optional[str] = None,
        issuer: Optional[str] = None,
        token_lifetime: int = 120,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """Make the key; nothing listens until :meth:`start`. ``ValueError`` for a bad ARN."""
        parts = alb_arn.split(":") if isinstance(alb_arn, str) else []
        if len(parts) != 6 or parts[2] != "elasticloadbalancing":
            raise ValueError(f"alb_arn {alb_arn!r} is not an Application Load Balancer ARN")
        if isinstance(token_lifetime, bool) or not isinstance(token_lifetime, int):
            raise ValueError("token_lifetime must be a whole number of seconds")
        self.lc = lc
        self.alb_arn = alb_arn
        self.region = parts[3]
        self.token_lifetime = token_lifetime
        self.server_errors: List[BaseException] = []
        self._client_id = client_id
        self._issuer = issuer
        self._host = host
        self._port = port
        self._lock = threading.Lock()
        self._current = _AlbKey()
        self._previous: Optional[_AlbKey] = None
        self._published: Dict[str, _AlbKey] = {self._current.kid: self._current}
        self._router = Router(_KeyPaths(self), on_error=self.server_errors.append)
        self._server: Optional[LoopbackServer] = None
        self._url: Optional[str] = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> LocalALB:
        """Serve the key endpoint on ``host:port`` in a daemon thread; return self."""
        if self._server is None:
            handler = functools.partial(EndpointHandler, endpoint=self._router.dispatch)
            server = LoopbackServer(handler, host=self._host, port=self._port, name="LocalALB")
            self._url = server.url
            self._server = server.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every connection; idempotent (it may be started again)."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()

    def __enter__(self) -> LocalALB:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"LocalALB(url={self._url!r}, alb_arn={self.alb_arn!r}, kid={self.kid!r})"

    # -- where it is and what it says -----------------------------------------------------

    @property
    def url(self) -> str:
        """The key endpoint's base URL, e.g. ``http://127.0.0.1:54321``; after start()."""
        if self._url is None:
            raise RuntimeError("LocalALB is not started: call start() or use it in a with")
        return self._url

    @property
    def key_url(self) -> str:
        """The template to give ``verify_alb_jwt(key_url=...)``: ``{url}/{kid}``."""
        return self.url + "/{kid}"

    @property
    def client_id(self) -> str:
        """The header's ``client``: the constructor's, else ``lc``'s app client."""
        if self._client_id is not None:
            return self._client_id
        return self.lc.client_id if self.lc is not None else "localalbclient1234567890ab"

    @property
    def issuer(self) -> str:
        """The ``iss`` of header and payload: the constructor's, else ``lc``'s issuer."""
        if self._issuer is not None:
            return self._issuer
        if self.lc is not None:
            return self.lc.issuer
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.region}_LocalALB1"

    @property
    def verify_options(self) -> Dict[str, Any]:
        """``alb_arn``, ``client_id``, ``issuer`` and ``key_url`` for this ALB, as keywords
        of ``verify_alb_jwt`` and ``verify_alb_request``."""
        return {
            "alb_arn": self.alb_arn,
            "client_id": self.client_id,
            "issuer": self.issuer,
            "key_url": self.key_url,
        }

    @property
    def kid(self) -> str:
        """The kid of the key that signs now."""
        with self._lock:
            return self._current.kid

    @property
    def published_kids(self) -> Tuple[str, ...]:
        """The kids whose keys the endpoint serves."""
        with self._lock:
            return tuple(self._published)

    @property
    def private_key(self) -> ec.EllipticCurvePrivateKey:
        """The P-256 private key that signs now (for tests that sign bytes of their own)."""
        with self._lock:
            return self._current.private_key

    def public_pem(self, kid: Optional[str] = None) -> bytes:
        """The PEM the endpoint serves for ``kid`` (default: the current key's)."""
        pem = self._published_pem(self.kid if kid is None else kid)
        if pem is None:
            raise KeyError(f"no published key has kid {kid!r}")
        return pem

    def _published_pem(self, kid: str) -> Optional[bytes]:
        with self._lock:
            key = self._published.get(kid)
        return None if key is None else key.pem

    @property
    def key_requests(self) -> int:
        """How many requests the key endpoint has had (for any path, unknown kids included)."""
        return len(self._router.requests_seen)

    @property
    def requests_seen(self) -> List[Tuple[str, str]]:
        """A copy of every ``(method, path)`` the endpoint has had, oldest first."""
        return self._router.requests_seen

    def rotate_key(self, *, keep_old: bool = True) -> None:
        """Sign with a fresh P-256 key and a new kid from now on.

        With ``keep_old`` (the default, as AWS does) the replaced key stays published, so
        tokens it signed keep verifying; without it, its kid is answered 404.
        ``mint(key="previous")`` signs with the replaced key either way.
        """
        fresh = _AlbKey()
        with self._lock:
            old = self._current
            if not keep_old:
                self._published.pop(old.kid, None)
            self._published[fresh.kid] = fresh
            self._previous, self._current = old, fresh

    # -- minting --------------------------------------------------------------------------

    def _now(self) -> int:
        clock: Callable[[], float] = self.lc.clock if self.lc is not None else time.time
        return int(clock())

    def user_claims(self, username: Optional[str] = None) -> Dict[str, Any]:
        """The claims the ALB would sign for ``username``: as ``lc``'s userInfo gives them.

        Without ``lc``, ``sub`` is a UUID derived from the username (the same every time)
        and ``username`` the username. ``None``: ``lc``'s synthetic user, or ``local-user``.
        Raises ``ValueError`` for a username ``lc`` does not have.
        """
        if self.lc is None:
            name = username or "local-user"
            return {"sub": str(uuid.uuid5(_USERS, name)), "username": name}
        user = self._user(username)
        claims: Dict[str, Any] = {"sub": user.attributes["sub"]}
        claims.update((k, v) for k, v in user.attributes.items() if k != "sub")
        claims["username"] = user.username
        return claims

    def _user(self, username: Optional[str]) -> User:
        """``lc``'s user called ``username`` (``None``: its synthetic user); else ValueError."""
        assert self.lc is not None
        return self.lc.user(username)

    def mint(
        self,
        username: Optional[str] = None,
        /,
        *,
        claims: Optional[Mapping[str, Any]] = None,
        header: Optional[Mapping[str, Any]] = None,
        key: AlbKeyArg = "current",
    ) -> str:
        """An ``x-amzn-oidc-data`` JWT for ``username`` (see :meth:`user_claims`).

        The payload is the user's claims with ``exp`` (now plus ``token_lifetime``) and
        ``iss``, then ``claims`` merged on top; the header ``typ``, ``kid``, ``alg``
        (``ES256``), ``iss``, ``client``, ``signer`` and ``exp``, then ``header`` merged on top
        (a ``None`` value removes an entry). ``key``: ``"current"``, ``"previous"`` (the key
        the last :meth:`rotate_key` replaced, with its kid) or any P-256 private key, which
        signs while the header keeps the current kid (a forgery, for tests).
        """
        with self._lock:
            signer = self._current
            if key == "previous":
                if self._previous is None:
                    raise ValueError("there is no previous key: rotate_key() has not been called")
                signer = self._previous
        if isinstance(key, ec.EllipticCurvePrivateKey):
            private_key = key
        elif key in ("current", "previous"):
            private_key = signer.private_key
        else:
            raise ValueError("key must be 'current', 'previous' or a P-256 private key")
        exp = self._now() + self.token_lifetime
        payload = self.user_claims(username)
        payload.update({"exp": exp, "iss": self.issuer})
        merge_changes(payload, claims or {})
        jws_header: Dict[str, Any] = {
            "typ": "JWT",
            "kid": signer.kid,
            "alg": "ES256",
            "iss": self.issuer,
            "client": self.client_id,
            "signer": self.alb_arn,
            "exp": exp,
        }
        merge_changes(jws_header, header or {})
        return encode_alb_jwt(jws_header, payload, private_key)

    def headers(
        self,
        username: Optional[str] = None,
        /,
        *,
        claims: Optional[Mapping[str, Any]] = None,
        header: Optional[Mapping[str, Any]] = None,
        key: AlbKeyArg = "current",
        access_token: Optional[str] = None,
    ) -> Dict[str, str]:
        """The three headers the ALB forwards for ``username``, by their lower-case names.

        ``x-amzn-oidc-data`` is :meth:`mint` with the same arguments; ``x-amzn-oidc-identity``
        its ``sub``; ``x-amzn-oidc-accesstoken`` is ``access_token`` when given, else an
        access token of ``lc`` for the user (its ``sub``, ``username`` and groups), else opaque
        random text.
        """
        data = self.mint(username, claims=claims, header=header, key=key)
        user = self.user_claims(username)
        merge_changes(user, claims or {})
        sub = user.get("sub")
        identity = sub if isinstance(sub, str) else ""
        if access_token is None:
            access_token = self._access_token(username, identity)
        return {
            "x-amzn-oidc-data": data,
            "x-amzn-oidc-accesstoken": access_token,
            "x-amzn-oidc-identity": identity,
        }

    def _access_token(self, username: Optional[str], sub: str) -> str:
        if self.lc is None:
            return secrets.token_urlsafe(32)
        user = self._user(username)
        changes: Dict[str, Any] = {"sub": sub, "username": user.username}
        if user.groups:
            changes["cognito:groups"] = list(user.groups)
        return self.lc.mint("access", **changes)
