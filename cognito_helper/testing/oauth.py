"""The endpoints an app's backend calls: ``/oauth2/token`` (authorization code, refresh token
and client credentials grants), ``/oauth2/revoke`` and ``/oauth2/userInfo``."""

from __future__ import annotations

import hmac
import threading
from collections import Counter
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from ..core.encoding import COMPACT_JWS, b64url_decode, json_claims, json_object
from ..settings.pkce import pkce_challenge
from .client_auth import PresentedClientAuth, authenticate_client
from .keys import KeyRing
from .minting import Minter, new_refresh_token
from .settings import PoolSettings, now
from .store import Client, Grant, RefreshToken, Store
from .wire import (
    EndpointError,
    Request,
    Response,
    form_params,
    invalid_token,
    json_response,
    oauth_error,
    required,
)

_USERINFO_SCOPES = frozenset({"openid", "aws.cognito.signin.user.admin"})

_GrantType = Callable[[Client, Mapping[str, str]], Dict[str, Any]]


def _same_resource(form: Mapping[str, str], grant: Grant) -> None:
    """A code or refresh grant is bound at authorize time; a ``resource`` may only repeat it."""
    resource = form.get("resource")
    if resource is not None and resource != grant.resource:
        raise oauth_error(
            "invalid_request", "resource differs from the one of the authorization request"
        )


def _check_verifier(verifier: Optional[str], challenge: str) -> None:
    """``invalid_grant`` unless ``verifier`` is the PKCE verifier of ``challenge``.

    Like Cognito, both a missing and a wrong verifier are ``invalid_grant``; the
    ``error_description`` says which, so a client that forgot to send it learns that.
    """
    if not verifier:
        raise oauth_error(
            "invalid_grant",
            "code_verifier is missing: this code was issued for a PKCE code_challenge",
        )
    try:
        matches = hmac.compare_digest(pkce_challenge(verifier), challenge)
    except ValueError:  # not ASCII
        matches = False
    if not matches:
        raise oauth_error("invalid_grant", "code_verifier does not match")


class TokenEndpointFault:
    """An outage of the token endpoint, made by :meth:`LocalCognito.fail_token_endpoint`.

    While it lasts, every request to ``/oauth2/token`` is answered with ``status`` and the
    JSON body ``{"error": error}`` before the client or the grant is looked at (the request is still
    counted by :meth:`LocalCognito.token_requests`). It lasts until :meth:`end` is called, the
    ``with`` block it was used in ends, or it has answered ``times`` requests. Safe to use
    from several threads.
    """

    def __init__(self, status: int, error: str, times: Optional[int]) -> None:
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise ValueError("status must be an HTTP error status, 400..599")
        if not isinstance(error, str) or not error:
            raise ValueError("error must be a non-empty OAuth error code")
        if times is not None and (isinstance(times, bool) or not isinstance(times, int)):
            raise ValueError("times must be a whole number of requests, or None")
        if times is not None and times < 1:
            raise ValueError("times must be at least 1, or None for no limit")
        self.status = status
        self.error = error
        self._left = times
        self._answered = 0
        self._ended = False
        self._lock = threading.Lock()

    @property
    def answered(self) -> int:
        """How many requests this fault has answered so far."""
        with self._lock:
            return self._answered

    @property
    def active(self) -> bool:
        """Whether the next token request will be answered with the error."""
        with self._lock:
            return not self._ended and (self._left is None or self._left > 0)

    def end(self) -> None:
        """End the outage: the next token request is handled normally. Idempotent."""
        with self._lock:
            self._ended = True

    def __enter__(self) -> TokenEndpointFault:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.end()

    def __repr__(self) -> str:
        return (
            f"TokenEndpointFault(status={self.status}, error={self.error!r}, "
            f"answered={self.answered}, active={self.active})"
        )

    def take(self) -> Optional[EndpointError]:
        """The error to answer this request with, or ``None`` once the fault is over."""
        with self._lock:
            if self._ended or (self._left is not None and self._left <= 0):
                return None
            if self._left is not None:
                self._left -= 1
            self._answered += 1
        return oauth_error(self.error, status=self.status)


class TokenEndpointHold:
    """A slow token endpoint, made by :meth:`LocalCognito.hold_token_endpoint`.

    Every request to ``/oauth2/token`` that arrives while it is in force is counted, then
    waits, before it is looked at, until :meth:`release` is called, the ``with`` block it was
    used in ends, or ``timeout`` seconds have passed (so that a test that never releases it
    cannot hang). :attr:`waiting` is how many requests wait now: a test waits for it, instead
    of sleeping, to know a request is in flight. Safe to use from several threads.
    """

    def __init__(self, timeout: float) -> None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            raise ValueError("timeout must be a number of seconds")
        if not 0 < timeout <= 60:  # also refuses NaN
            raise ValueError("timeout must be more than 0 and at most 60 seconds")
        self.timeout = float(timeout)
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._waiting = 0

    @property
    def waiting(self) -> int:
        """How many token requests are held now."""
        with self._lock:
            return self._waiting

    @property
    def released(self) -> bool:
        """Whether :meth:`release` was called (requests no longer wait)."""
        return self._released.is_set()

    def release(self) -> None:
        """Let every held request, and every later one, go on. Idempotent."""
        self._released.set()

    def __enter__(self) -> TokenEndpointHold:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"TokenEndpointHold(waiting={self.waiting}, released={self.released})"

    def wait(self) -> None:
        """Hold the calling request until released (or the timeout)."""
        with self._lock:
            self._waiting += 1
        try:
            self._released.wait(self.timeout)
        finally:
            with self._lock:
                self._waiting -= 1


class OAuthEndpoints:
    """Token, revocation and userInfo endpoints of one pool."""

    def __init__(
        self,
        store: Store,
        keys: KeyRing,
        minter: Minter,
        settings: PoolSettings,
        custom_scopes: Sequence[str],
    ) -> None:
        self._store = store
        self._keys = keys
        self._minter = minter
        self._settings = settings
        self._custom_scopes = tuple(custom_scopes)
        self._lock = threading.Lock()
        self._client_authentications: List[PresentedClientAuth] = []
        self._token_requests: Counter[Optional[str]] = Counter()
        self._fault: Optional[TokenEndpointFault] = None
        self._hold: Optional[TokenEndpointHold] = None
        self._grants: Dict[str, _GrantType] = {
            "authorization_code": self._authorization_code_grant,
            "refresh_token": self._refresh_token_grant,
            "client_credentials": self._client_credentials_grant,
        }

    @property
    def client_authentications(self) -> List[PresentedClientAuth]:
        """A copy of how each token and revocation request authenticated, oldest first."""
        with self._lock:
            return list(self._client_authentications)

    def token_requests(self, grant_type: Optional[str]) -> int:
        """How many token requests named ``grant_type`` (``None``: had no readable one)."""
        with self._lock:
            return self._token_requests[grant_type]

    def fail(self, fault: Optional[TokenEndpointFault]) -> None:
        """Answer token requests with ``fault`` while it is active (``None``: no fault)."""
        with self._lock:
            self._fault = fault

    def hold(self, hold: Optional[TokenEndpointHold]) -> None:
        """Hold token requests with ``hold`` (``None``: answer at once)."""
        with self._lock:
            self._hold = hold

    def _arrived(self, grant_type: Optional[str]) -> None:
        """Count a token request; hold it while a hold is in force; answer it with the
        fault's error while there is one."""
        with self._lock:
            self._token_requests[grant_type] += 1
            fault, hold = self._fault, self._hold
        if hold is not None:
            hold.wait()
        outage = fault.take() if fault is not None else None
        if outage is not None:
            raise outage

    def _record(self, attempt: PresentedClientAuth) -> None:
        with self._lock:
            self._client_authentications.append(attempt)

    def _client(self, request: Request, form: Mapping[str, str], endpoint: str) -> Client:
        return authenticate_client(
            endpoint,
            request.headers.get("authorization"),
            form,
            find_client=self._store.client,
            record=self._record,
        )

    # -- /oauth2/token --------------------------------------------------------------------

    def token(self, request: Request) -> Response:
        try:
            form = form_params(request)
        except EndpointError:
            self._arrived(None)
            raise
        self._arrived(form.get("grant_type"))
        client = self._client(request, form, "token")
        grant = self._grants.get(required(form, "grant_type"))
        if grant is None:
            raise oauth_error("unsupported_grant_type")
        return json_response(200, grant(client, form))

    def _authorization_code_grant(self, client: Client, form: Mapping[str, str]) -> Dict[str, Any]:
        code = required(form, "code")
        redirect_uri = required(form, "redirect_uri")
        record = self._store.take_code(code)
        if (
            record is None
            or record.expires_at <= now(self._settings)
            or record.grant.client_id != client.client_id
        ):
            raise oauth_error("invalid_grant")
        if redirect_uri != record.redirect_uri:
            raise oauth_error("unauthorized_client", "invalid_redirect")
        if record.code_challenge is not None:
            _check_verifier(form.get("code_verifier"), record.code_challenge)
        _same_resource(form, record.grant)
        return self._issue_tokens(
            record.grant,
            nonce=record.nonce,
            with_refresh=True,
            trigger="TokenGeneration_HostedAuth",
        )

    def _refresh_token_grant(self, client: Client, form: Mapping[str, str]) -> Dict[str, Any]:
        token = required(form, "refresh_token")
        rotate = self._settings.refresh_token_rotation
        grant = self._store.use_refresh_token(
            token,
            client.client_id,
            now(self._settings),
            rotate_within=self._settings.rotation_grace_period if rotate else None,
        )
        if grant is None:
            raise oauth_error("invalid_grant", "Invalid Refresh Token")
        _same_resource(form, grant)
        return self._issue_tokens(
            grant, nonce=None, with_refresh=rotate, trigger="TokenGeneration_RefreshTokens"
        )

    def _client_credentials_grant(self, client: Client, form: Mapping[str, str]) -> Dict[str, Any]:
        if not client.confidential:
            raise oauth_error("unauthorized_client", "client_credentials needs a client secret")
        requested = form.get("scope")
        scopes = tuple(dict.fromkeys(requested.split())) if requested else self._custom_scopes
        if not scopes or any(scope not in self._custom_scopes for scope in scopes):
            raise oauth_error("invalid_scope")
        resource = form.get("resource")
        if resource is not None:
            # Cognito's token errors have no RFC 8707 invalid_target: invalid_request.
            refusal = client.resource_refusal(resource)
            if refusal is not None:
                raise oauth_error("invalid_request", refusal)
        return {
            "access_token": self._minter.machine_token(client.client_id, scopes, resource),
            "expires_in": self._settings.token_lifetime,
            "token_type": "Bearer",
        }

    def _issue_tokens(
        self, grant: Grant, *, nonce: Optional[str], with_refresh: bool, trigger: str
    ) -> Dict[str, Any]:
        """The token response of one grant: ID (when ``openid``), access, maybe refresh."""
        user = self._store.user(grant.username)
        if user is None:
            raise oauth_error("invalid_grant", "User does not exist.")
        issued_at = now(self._settings)
        tokens: Dict[str, Any] = self._minter.tokens(
            user, grant, issued_at, nonce=nonce, trigger=trigger
        )
        if with_refresh:
            refresh_token = new_refresh_token()
            expires_at = issued_at + self._settings.refresh_token_lifetime
            self._store.add_refresh_token(refresh_token, RefreshToken(grant, expires_at))
            tokens["refresh_token"] = refresh_token
        tokens["expires_in"] = self._settings.token_lifetime
        tokens["token_type"] = "Bearer"
        return tokens

    # -- /oauth2/revoke -------------------------------------------------------------------

    def revoke(self, request: Request) -> Response:
        form = form_params(request)
        client = self._client(request, form, "revoke")
        token = required(form, "token")
        if token.count(".") == 2:
            raise oauth_error("unsupported_token_type", "only refresh tokens can be revoked")
        if not self._store.revoke(token, client.client_id):
            raise oauth_error("invalid_request", "token was not issued to this client")
        return Response(200)

    # -- /oauth2/userInfo -----------------------------------------------------------------

    def userinfo(self, request: Request) -> Response:
        claims = self._verified_access_claims(request.headers.get("authorization"))
        user = self._store.user(claims.get("username"))
        if user is None:
            raise invalid_token("Access token does not belong to a user")
        info: Dict[str, str] = {"sub": user.attributes["sub"]}
        info.update((k, v) for k, v in user.attributes.items() if k != "sub")
        info["username"] = user.username
        return json_response(200, info)

    def _verified_access_claims(self, authorization: Optional[str]) -> Dict[str, Any]:
        """The claims of a Bearer access token that this pool issued and has not revoked."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise invalid_token("Access token is missing")
        claims = self._signed_claims(token)
        exp = claims.get("exp")
        if not isinstance(exp, int) or isinstance(exp, bool) or exp <= now(self._settings):
            raise invalid_token("Access token has expired")
        if claims.get("token_use") != "access" or claims.get("iss") not in self._settings.issuers:
            raise invalid_token("Not an access token of this user pool")
        if self._store.is_revoked(claims.get("origin_jti")):
            raise invalid_token("Access token has been revoked")
        scope = claims.get("scope")
        if not isinstance(scope, str) or not _USERINFO_SCOPES.intersection(scope.split()):
            raise invalid_token("Access token does not have the openid scope")
        return claims

    def _signed_claims(self, token: str) -> Dict[str, Any]:
        """The payload of ``token`` if one of the published keys signed it."""
        try:
            if not COMPACT_JWS.fullmatch(token):
                raise ValueError("not a JWS")
            head, payload, signature = token.split(".")
            header = json_object(b64url_decode(head))
            claims = json_claims(b64url_decode(payload))
            signature_bytes = b64url_decode(signature)
        except ValueError:
            raise invalid_token("Access token is malformed") from None
        key = next((k for k in self._keys.published() if k.kid == header.get("kid")), None)
        if key is None or header.get("alg") != "RS256":
            raise invalid_token("Access token is not signed by this user pool")
        try:
            key.private_key.public_key().verify(
                signature_bytes,
                f"{head}.{payload}".encode("ascii"),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except InvalidSignature:
            raise invalid_token("Access token signature is invalid") from None
        return claims
