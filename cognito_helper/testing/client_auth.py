"""How a request to ``/oauth2/token`` or ``/oauth2/revoke`` authenticates its app client.

Basic ``id:secret``, or ``client_id`` (and at the token endpoint ``client_secret``) in the form
body. What was presented is described first (:class:`PresentedClientAuth`, recorded even for
refused requests), then judged; every refusal is ``invalid_client``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass
from typing import Callable, Mapping, Optional, Tuple

from .store import Client
from .wire import oauth_error


@dataclass(frozen=True)
class PresentedClientAuth:
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


@dataclass(frozen=True)
class _Attempt:
    """What a request presented, and any problem that needs no look-up to see."""

    described: PresentedClientAuth
    client_id: Optional[str]
    secret: Optional[str] = None
    basic: bool = False
    problem: Optional[str] = None


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


def _presented(endpoint: str, authorization: Optional[str], form: Mapping[str, str]) -> _Attempt:
    body_id, body_secret = form.get("client_id"), form.get("client_secret")
    in_body = body_secret is not None
    try:
        basic = _basic_credentials(authorization)
    except ValueError as exc:
        described = PresentedClientAuth(endpoint, "client_secret_basic", None, in_body)
        return _Attempt(described, None, problem=str(exc))
    if basic is None:
        method = "client_secret_post" if in_body else "none"
        described = PresentedClientAuth(endpoint, method, body_id, in_body)
        return _Attempt(described, body_id, body_secret)
    client_id, secret = basic[0], basic[1] or None
    problem = None
    if body_id is not None and body_id != client_id:
        problem = "client_id in the body differs from the Basic credentials"
    elif body_secret is not None and body_secret != secret:
        problem = "client_secret in the body differs from the Basic credentials"
    described = PresentedClientAuth(endpoint, "client_secret_basic", client_id, in_body)
    return _Attempt(described, client_id, secret, basic=True, problem=problem)


def _one_of(presented: str, secrets: Tuple[str, ...]) -> bool:
    """Whether ``presented`` is one of the client's ``secrets`` (each compared in constant
    time, all of them every time)."""
    given = presented.encode("utf-8")
    matches = [hmac.compare_digest(given, secret.encode("utf-8")) for secret in secrets]
    return any(matches)


def _refusal(attempt: _Attempt, client: Optional[Client], endpoint: str) -> Optional[str]:
    """Why ``client`` (the one ``attempt`` names) is not authenticated, or ``None``."""
    if attempt.problem is not None:
        return attempt.problem
    if attempt.client_id is None:
        return "client authentication is required"
    if client is None:
        return "Client does not exist."
    if not client.confidential:
        return "this app client has no secret" if attempt.secret is not None else None
    if attempt.secret is None or not _one_of(attempt.secret, client.client_secrets):
        return "client secret is missing or wrong"
    if endpoint == "revoke" and not attempt.basic:
        return "a client with a secret must authenticate with HTTP Basic"
    return None


def authenticate_client(
    endpoint: str,
    authorization: Optional[str],
    form: Mapping[str, str],
    *,
    find_client: Callable[[Optional[str]], Optional[Client]],
    record: Callable[[PresentedClientAuth], None],
) -> Client:
    """The client a request authenticates as, after ``record``-ing how it tried.

    At the token endpoint a confidential client may also send ``client_secret`` in the body
    and failures are 400; at the revocation endpoint it must use Basic and failures are 401.
    Every failure raises ``invalid_client`` as an :class:`~.wire.EndpointError`.
    """
    attempt = _presented(endpoint, authorization, form)
    record(attempt.described)
    client = find_client(attempt.client_id) if attempt.client_id is not None else None
    problem = _refusal(attempt, client, endpoint)
    if problem is not None or client is None:
        status = 401 if endpoint == "revoke" else 400
        raise oauth_error("invalid_client", problem, status=status)
    return client
