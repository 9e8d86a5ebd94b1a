"""Talking to the hosted UI's ``/oauth2/token``, ``/oauth2/revoke`` and ``/oauth2/userInfo``.

Guarantees: form-encoded POSTs; a confidential client authenticates with HTTP Basic only
(its secret never also in the body), a public client sends ``client_id`` in the body; no
POST is retried, except once with the other secret of a client configured with two, after
``invalid_client`` (the one answer that shows the grant was not judged); redirects are not
followed. Every error Cognito can return is mapped in one place, :func:`_raise_for_error`.
No code, refresh token, verifier, secret or Authorization header ever appears in an
exception, a ``repr`` or a log line.
"""

from __future__ import annotations

import base64
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

from ..core import http as _http
from ..core.arguments import nonempty_string, wrong_type
from ..core.encoding import COMPACT_JWS, json_object
from ..core.errors import (
    CognitoConnectionError,
    ConfigError,
    InvalidGrantError,
    TokenExchangeError,
)
from ..core.redaction import repr_hiding_secrets
from ..settings.config import CognitoConfig
from ..settings.default import get_config
from ..settings.fields import app_client_id, scope_tuple
from ..settings.hosted_ui import redirect_uri_for
from ..settings.urls import check_resource
from .client_secrets import note_working, secrets_to_try

__all__ = [
    "Tokens",
    "get_cognito_tokens",
    "get_client_credentials_token",
    "revoke_token",
    "get_user_info",
]

log = logging.getLogger("cognito_helper")

_MAX_RESPONSE = 256 * 1024
_PKCE_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_WWW_AUTH_ERROR = re.compile(r'error="([^"]*)"')
_ERROR_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
# What a code, refresh token or access token can hold: printable ASCII, no space. Anything
# else is refused before a request is made (it could not be valid, and in a header a CR or LF
# would be an injection).
_TOKEN_TEXT = re.compile(r"[!-~]+")
# Refusals of the grant itself: Cognito sends them only once the client has authenticated.
_REFUSALS_AFTER_AUTHENTICATION = frozenset(
    {"invalid_grant", "unauthorized_client", "invalid_scope"}
)


@dataclass(repr=False, slots=True)
class Tokens:
    """The tokens from one grant.

    Unpacks to exactly ``(id_token, access_token, refresh_token)``; also has ``expires_in``
    (seconds) and ``token_type``. After a refresh, ``refresh_token`` is the rotated one when
    Cognito returned one, else the one that was used. ``repr()`` shows no token. Equal when
    every field is; not hashable.
    """

    id_token: Optional[str] = field(repr=False)
    access_token: str = field(repr=False)
    refresh_token: Optional[str] = field(repr=False)
    expires_in: int
    token_type: str = "Bearer"

    def __iter__(self) -> Iterator[Optional[str]]:
        return iter((self.id_token, self.access_token, self.refresh_token))

    #: Every field, in order; each token only as set (``'***'``) or ``None``.
    __repr__ = repr_hiding_secrets


def _scrub(text: str, secrets: Sequence[Optional[str]]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    # Printable, one line, bounded: the description is shown to people and logs.
    text = "".join(c if c.isprintable() else " " for c in text)
    return text[:200]


def _error_of(resp: _http.HttpResponse) -> Tuple[Optional[str], Optional[str]]:
    """The ``error`` and ``error_description`` of an error answer, as sent (not yet checked
    or scrubbed): from its JSON body, the code else from ``WWW-Authenticate``."""
    error: Optional[str] = None
    description: Optional[str] = None
    try:
        body = json_object(resp.body) if resp.body else None
    except ValueError:
        body = None
    if body is not None:
        if isinstance(body.get("error"), str):
            error = body["error"]
        if isinstance(body.get("error_description"), str):
            description = body["error_description"]
    if error is None:
        match = _WWW_AUTH_ERROR.search(resp.headers.get("WWW-Authenticate", ""))
        if match:
            error = match.group(1)
    return error, description


def _raise_for_error(resp: _http.HttpResponse, what: str, secrets: Sequence[Optional[str]]) -> None:
    """Map a non-2xx answer to the library's exception; return quietly on 2xx.

    ``secrets`` are what was sent (an Authorization header value also hides its credentials
    part alone): none of them is repeated in the exception, whatever the server echoes.
    """
    status = resp.status
    if 200 <= status < 300:
        return
    hidden = [s for s in secrets if s]
    hidden += [s.split(" ", 1)[1] for s in hidden if s.startswith(("Basic ", "Bearer "))]
    if status >= 500 or status == 429:  # server trouble or throttling: retry later, not 401
        raise CognitoConnectionError(f"the Cognito {what} answered HTTP {status}; try again later")
    if 300 <= status < 400:
        raise CognitoConnectionError(
            f"the Cognito {what} answered HTTP {status} (a redirect, not followed): check the "
            "configured domain"
        )
    error, description = _error_of(resp)
    if error is not None and (not _ERROR_CODE.fullmatch(error) or any(s in error for s in hidden)):
        # Not an OAuth code, or a server echoing what we sent: never repeat arbitrary text.
        error = "unrecognised_error"
    if description is not None:
        description = _scrub(description, hidden)
    message = f"the Cognito {what} refused the request: {error or 'no error code'}"
    if description:
        message += f" ({description})"
    message += f" [HTTP {status}]"
    kind = InvalidGrantError if error == "invalid_grant" else TokenExchangeError
    raise kind(message, error=error, description=description, status_code=status)


class ClientAuthToSend(NamedTuple):
    """What a request to the token or revocation endpoint sends to authenticate the app
    client: extra ``headers`` and ``form`` fields (see :func:`client_authentication`)."""

    headers: Dict[str, str]
    form: Dict[str, str]


def client_authentication(config: CognitoConfig, secret: Optional[str] = None) -> ClientAuthToSend:
    """How ``config``'s app client authenticates, as Cognito documents it.

    A confidential client (with a secret): HTTP Basic ``client_id:client_secret`` only, never
    the secret in the body (``client_secret_basic``). A public client: ``client_id`` in the
    form (``none``). The secret is ``secret`` when given (one of the config's, else
    ``ValueError``), else the one in use: the first configured, or the other one once Cognito
    refused the first and accepted it (:mod:`cognito_helper.oauth.client_secrets`).
    """
    client_id = app_client_id(config.client_id, "a request to Cognito's OAuth endpoints")
    if secret is None:
        in_use = secrets_to_try(config)
        secret = in_use[0] if in_use else None
    elif secret not in config.client_secrets:
        raise ValueError("secret must be one of the config's client secrets")
    if secret:
        pair = f"{client_id}:{secret}"
        basic = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        return ClientAuthToSend({"Authorization": basic}, {})
    return ClientAuthToSend({}, {"client_id": client_id})


def _send_form(
    config: CognitoConfig,
    url: str,
    what: str,
    fields: Dict[str, str],
    secret: Optional[str],
    hidden: List[Optional[str]],
) -> _http.HttpResponse:
    """POST ``fields`` authenticated with ``secret``; its Authorization value joins ``hidden``."""
    auth = client_authentication(config, secret)
    form = {**fields, **auth.form}
    headers = {"Content-Type": "application/x-www-form-urlencoded", **auth.headers}
    hidden.append(headers.get("Authorization"))
    return _http.request(
        "POST",
        url,
        what=what,
        timeout=config.timeout,
        max_bytes=_MAX_RESPONSE,
        data=form,
        headers=headers,
    )


def _accepted_the_client(resp: _http.HttpResponse) -> bool:
    """Whether the answer shows that the client authenticated: a success, or a refusal of
    the grant itself, which Cognito judges only for an authenticated client."""
    if 200 <= resp.status < 300:
        return True
    return 400 <= resp.status < 500 and _error_of(resp)[0] in _REFUSALS_AFTER_AUTHENTICATION


def _post_form(
    config: CognitoConfig,
    url: str,
    what: str,
    fields: Dict[str, str],
    secrets: Sequence[Optional[str]],
) -> _http.HttpResponse:
    """POST to a token or revocation endpoint, authenticated as :func:`client_authentication`
    says; raise the mapped error for a refusal (:func:`_raise_for_error`).

    With two client secrets, an ``invalid_client`` answer is followed by one more request
    with the other secret; when Cognito accepts it, it is the one used from then on.
    """
    hidden: List[Optional[str]] = [*secrets, *config.client_secrets]
    order = secrets_to_try(config)
    resp = _send_form(config, url, what, fields, order[0] if order else None, hidden)
    if len(order) == 2 and resp.status in (400, 401) and _error_of(resp)[0] == "invalid_client":
        log.debug("the Cognito %s refused the client secret: sending the other one", what)
        resp = _send_form(config, url, what, fields, order[1], hidden)
        if _accepted_the_client(resp):
            note_working(config, order[1])
    _raise_for_error(resp, what, hidden)
    return resp


def _json_body(resp: _http.HttpResponse, what: str) -> Dict[str, Any]:
    try:
        body: Optional[Dict[str, Any]] = json_object(resp.body)
    except ValueError:
        body = None
    if body is None:
        raise TokenExchangeError(
            f"the Cognito {what} answered HTTP {resp.status} with something other than a JSON "
            "object",
            status_code=resp.status,
        )
    return body


def _tokens_from(resp: _http.HttpResponse, *, refresh_token: Optional[str]) -> Tokens:
    body = _json_body(resp, "token endpoint")

    def field(name: str, kind: type, required: bool) -> Any:
        value = body.get(name)
        if value is None and not required:
            return None
        if type(value) is not kind:
            raise TokenExchangeError(
                f"the Cognito token endpoint's answer has no valid {name!r}",
                status_code=resp.status,
            )
        return value

    access = field("access_token", str, True)
    id_token = field("id_token", str, False)
    new_refresh = field("refresh_token", str, False)
    expires_in = field("expires_in", int, True)
    token_type = field("token_type", str, True)
    return Tokens(id_token, access, new_refresh or refresh_token, expires_in, token_type)


def _token_text(name: str, value: object) -> str:
    """A code or token sent to Cognito: a non-empty string of printable ASCII, no space.

    Raises ``TypeError`` for a value that is no string, else ``ValueError``, without
    repeating the value.
    """
    text = nonempty_string(name, value)
    if not _TOKEN_TEXT.fullmatch(text):
        raise ValueError(f"{name} must be printable ASCII without spaces")
    return text


def _credential(name: str, value: object) -> str:
    """A code or refresh token: :func:`_token_text`, and not an ID or access token.

    Raises ``TypeError`` for a value that is no string, else ``ValueError``, without
    repeating the value.
    """
    text = _token_text(name, value)
    if COMPACT_JWS.fullmatch(text):
        # An ID or access token (three segments) where a code (a UUID) or a refresh token
        # (an encrypted JWT of five segments) belongs: the usual mix-up, named as such.
        raise ValueError(
            f"{name} looks like a JWT (an ID or access token), not a {name.replace('_', ' ')}: "
            f"pass the {_WHERE_FROM[name]}"
        )
    return text


_WHERE_FROM = {
    "code": "'code' query parameter of the redirect to your callback",
    "refresh_token": "'refresh_token' of an earlier token response",
}


def get_cognito_tokens(
    code: Optional[str] = None,
    refresh_token: Optional[str] = None,
    *,
    config: Optional[CognitoConfig] = None,
    code_verifier: Optional[str] = None,
    redirect_uri: Optional[str] = None,
) -> Tokens:
    """Exchange an authorization ``code`` or a ``refresh_token`` for tokens (give exactly one).

    For a code, ``redirect_uri`` defaults to the config's and must be the one used to sign
    in; ``code_verifier`` is the PKCE verifier from :meth:`CognitoConfig.start_login`. A
    refresh returns new ID and access tokens; ``Tokens.refresh_token`` is the rotated one
    when the app client rotates refresh tokens, else the one given.

    Raises :class:`InvalidGrantError` when the code or refresh token is dead (sign in again),
    :class:`TokenExchangeError` for other refusals, :class:`CognitoConnectionError` for
    network trouble or 5xx (never retried: a code is single-use), :class:`ConfigError` for a
    setting the config lacks, and, before any request, ``ValueError`` for an invalid argument
    and ``TypeError`` for one of the wrong type.
    """
    if (code is None) == (refresh_token is None):
        raise ValueError("give exactly one of code= or refresh_token=")
    cfg = get_config(config)
    if code is not None:
        _credential("code", code)
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri_for(cfg, redirect_uri),
        }
        if code_verifier is not None:
            if not isinstance(code_verifier, str):
                raise wrong_type("code_verifier", code_verifier, "a string")
            if not _PKCE_VERIFIER.fullmatch(code_verifier):
                raise ValueError("code_verifier must be 43-128 characters of [A-Za-z0-9-._~]")
            form["code_verifier"] = code_verifier
        resp = _post_form(cfg, cfg.token_url, "token endpoint", form, [code, code_verifier])
        tokens = _tokens_from(resp, refresh_token=None)
        log.debug("authorization code exchanged for tokens")
        return tokens
    assert refresh_token is not None
    _credential("refresh_token", refresh_token)
    if code_verifier is not None or redirect_uri is not None:
        raise ValueError("code_verifier and redirect_uri apply to a code exchange only")
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    resp = _post_form(cfg, cfg.token_url, "token endpoint", form, [refresh_token])
    tokens = _tokens_from(resp, refresh_token=refresh_token)
    log.debug(
        "tokens refreshed (refresh token %s)",
        "rotated" if tokens.refresh_token != refresh_token else "kept",
    )
    return tokens


def get_client_credentials_token(
    scopes: Union[str, Sequence[str], None] = None,
    *,
    config: Optional[CognitoConfig] = None,
    resource: Optional[str] = None,
) -> Tokens:
    """Machine-to-machine: an access token for this (confidential) app client.

    ``Tokens.id_token`` and ``Tokens.refresh_token`` are ``None``. ``resource`` asks for a
    token bound to one API (RFC 8707): the identifier of one of the pool's resource servers,
    an absolute URI (see :meth:`CognitoConfig.login_url`), which Cognito puts in the access
    token's ``aud``. Raises as :func:`get_cognito_tokens` (Cognito refuses a resource it does
    not know with a :class:`TokenExchangeError`); :class:`ConfigError` when the config has no
    client secret; before any request, ``ValueError`` for invalid scopes or a ``resource``
    that is not an absolute URI, and ``TypeError`` for either of the wrong type.
    """
    if resource is not None:
        check_resource("resource", resource)
    cfg = get_config(config)
    app_client_id(cfg.client_id, "the client_credentials grant")
    if not cfg.client_secret:
        raise ConfigError("the client_credentials grant needs client_secret in the config")
    asked = () if scopes is None else scope_tuple(scopes)
    form = {"grant_type": "client_credentials"}
    if asked:
        form["scope"] = " ".join(asked)
    if resource is not None:
        form["resource"] = resource
    resp = _post_form(cfg, cfg.token_url, "token endpoint", form, [])
    return _tokens_from(resp, refresh_token=None)


def revoke_token(refresh_token: str, *, config: Optional[CognitoConfig] = None) -> None:
    """Revoke a refresh token (and, for userInfo, the access tokens issued from it).

    Succeeds also for a token already revoked. Access tokens already issued stay valid for
    offline verification until their ``exp``. Raises :class:`TokenExchangeError`
    (``invalid_client``, ``invalid_request``, ``unsupported_token_type``) and
    :class:`CognitoConnectionError`; before any request, ``ValueError`` for a token that
    cannot be a refresh token (empty, not printable ASCII, an ID or access token) and
    ``TypeError`` for one that is no string.
    """
    _credential("refresh_token", refresh_token)
    cfg = get_config(config)
    _post_form(cfg, cfg.revoke_url, "revoke endpoint", {"token": refresh_token}, [refresh_token])
    log.debug("refresh token revoked")


def get_user_info(access_token: str, *, config: Optional[CognitoConfig] = None) -> Dict[str, Any]:
    """Return the signed-in user's attributes from ``/oauth2/userInfo``.

    Needs an access token with the ``openid`` scope. Raises :class:`TokenExchangeError` with
    ``error="invalid_token"`` and ``status_code=401`` when Cognito rejects the token (expired,
    revoked, signed out), and :class:`CognitoConnectionError` for network trouble. Before any
    request: ``ValueError`` when ``access_token`` is empty or not printable ASCII without
    spaces, and ``TypeError`` when it is not a string.
    """
    _token_text("access_token", access_token)
    cfg = get_config(config)
    resp = _http.request(
        "GET",
        cfg.userinfo_url,
        what="userInfo endpoint",
        timeout=cfg.timeout,
        max_bytes=_MAX_RESPONSE,
        headers={"Authorization": "Bearer " + access_token},
    )
    _raise_for_error(resp, "userInfo endpoint", [access_token])
    return _json_body(resp, "userInfo endpoint")
