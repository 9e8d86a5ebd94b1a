"""The pages a browser sees: ``/oauth2/authorize`` and ``/login`` (the sign-in form and its
submission, which redirects back to the app with a code) and ``/logout``."""

from __future__ import annotations

import hmac
import re
import uuid
from dataclasses import dataclass
from typing import Dict, Optional, Sequence, Tuple

from .pages import error_page, login_page
from .settings import PoolSettings, now
from .store import AuthCode, Client, Grant, Store
from .wire import EndpointError, Request, Response, add_query, parse_params, redirect

_CODE_LIFETIME = 300  # seconds; Cognito authorization codes live five minutes
_OIDC_SCOPES = ("openid", "email", "phone", "profile", "aws.cognito.signin.user.admin")
_SCOPES_NEEDING_OPENID = frozenset({"email", "phone", "profile"})
_S256_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
_BAD_CREDENTIALS = "Incorrect username or password."


@dataclass(frozen=True)
class _AuthorizeRequest:
    client: Client
    redirect_uri: str
    scopes: Tuple[str, ...]
    state: Optional[str]
    nonce: Optional[str]
    code_challenge: Optional[str]
    resource: Optional[str]


def _page_params(query_string: str) -> Dict[str, str]:
    try:
        return parse_params(query_string)
    except ValueError:
        raise error_page("invalid_request", "malformed or repeated parameter") from None


class HostedUI:
    """The sign-in and sign-out pages of the pool's app clients."""

    def __init__(self, store: Store, settings: PoolSettings, custom_scopes: Sequence[str]):
        self._store = store
        self._settings = settings
        self._allowed_scopes = frozenset((*_OIDC_SCOPES, *custom_scopes))

    def authorize_page(self, request: Request) -> Response:
        """``GET /oauth2/authorize`` and ``GET /login``: the sign-in form."""
        auth = self._authorize_request(request.query_string)
        return login_page(request.query_string, auth.client.client_id)

    def login_submit(self, request: Request) -> Response:
        """``POST /login``: the form again on a bad password, else a code back to the app."""
        auth = self._authorize_request(request.query_string)
        try:
            form = parse_params(request.body.decode("utf-8"))
        except ValueError:
            form = {}
        username = form.get("username", "")
        user = self._store.user(username)
        password = form.get("password", "").encode("utf-8")
        if (
            user is None
            or user is self._store.synthetic_user
            or not hmac.compare_digest(password, user.password.encode("utf-8"))
        ):
            return login_page(
                request.query_string,
                auth.client.client_id,
                username=username,
                error=_BAD_CREDENTIALS,
            )
        issued_at = now(self._settings)
        code = str(uuid.uuid4())
        grant = Grant(
            auth.client.client_id,
            user.username,
            auth.scopes,
            issued_at,
            str(uuid.uuid4()),
            resource=auth.resource,
        )
        record = AuthCode(
            grant, auth.redirect_uri, auth.nonce, auth.code_challenge, issued_at + _CODE_LIFETIME
        )
        self._store.add_code(code, record, issued_at)
        return redirect(add_query(auth.redirect_uri, (("code", code), ("state", auth.state))))

    def logout(self, request: Request) -> Response:
        """``GET /logout``: to a sign-out URL, or back through sign-in with ``redirect_uri``."""
        query = _page_params(request.query_string)
        client = self._page_client(query.get("client_id"))
        logout_uri = query.get("logout_uri")
        if logout_uri is not None:
            if logout_uri not in client.logout_uris:
                raise error_page(
                    "invalid_request", "logout_uri is not a sign-out URL of this app client"
                )
            return redirect(logout_uri)
        redirect_uri = query.get("redirect_uri")
        if redirect_uri is None:
            raise error_page("invalid_request", "logout_uri or redirect_uri is required")
        if redirect_uri not in client.redirect_uris:
            raise error_page(
                "redirect_mismatch", "redirect_uri is not a callback URL of this app client"
            )
        if query.get("response_type") != "code":
            raise error_page("invalid_request", "response_type must be code")
        return redirect("/login?" + request.query_string)

    def _page_client(self, client_id: Optional[str]) -> Client:
        client = self._store.client(client_id)
        if client is None:
            raise error_page("invalid_request", "Client does not exist or client_id is missing")
        return client

    def _authorize_request(self, query_string: str) -> _AuthorizeRequest:
        """Validate an authorize/login query the way Cognito does, in Cognito's order.

        A bad client or redirect URI is an error page (never a redirect to an unknown URI);
        every later problem is reported on the redirect, with ``state``.
        """
        query = _page_params(query_string)
        client = self._page_client(query.get("client_id"))
        redirect_uri = query.get("redirect_uri")
        if redirect_uri is None or redirect_uri not in client.redirect_uris:
            raise error_page(
                "redirect_mismatch", "redirect_uri is not a callback URL of this app client"
            )
        state = query.get("state")

        def reject(error: str, description: str) -> EndpointError:
            params = (("error_description", description), ("error", error), ("state", state))
            return EndpointError(redirect(add_query(redirect_uri, params)))

        if query.get("response_type") != "code":
            raise reject("invalid_request", "response_type must be code")
        scopes = tuple(dict.fromkeys(query.get("scope", "").split())) or client.scopes
        if any(scope not in self._allowed_scopes for scope in scopes):
            raise reject("invalid_scope", "invalid_scope")
        if "openid" not in scopes and _SCOPES_NEEDING_OPENID.intersection(scopes):
            raise reject("invalid_scope", "email, phone and profile need the openid scope")
        challenge = query.get("code_challenge")
        method = query.get("code_challenge_method")
        if (challenge is None) != (method is None):
            raise reject("invalid_request", "code_challenge and code_challenge_method go together")
        if challenge and (method != "S256" or not _S256_CHALLENGE.fullmatch(challenge)):
            raise reject("invalid_request", "only S256 PKCE code challenges are supported")
        resource = query.get("resource")
        if resource is not None:
            # Cognito's authorize errors have no RFC 8707 invalid_target: invalid_request.
            refusal = client.resource_refusal(resource)
            if refusal is not None:
                raise reject("invalid_request", refusal)
        return _AuthorizeRequest(
            client, redirect_uri, scopes, state, query.get("nonce"), challenge, resource
        )
