"""API Gateway Lambda authorizers: verify the caller's Cognito token, answer API Gateway.

::

    from cognito_helper.aws_lambda import authorize

    def handler(event, context):
        return authorize(event, scopes=["orders/read"])

The function reads the event, verifies the token with
:func:`~cognito_helper.decode_verify_jwt` and answers in the form the event calls for. The
situations are :mod:`cognito_helper.integrations.bearer`'s; API Gateway can express fewer of them:

* no credentials, unreadable ones, or a token that fails verification: REST API events
  (``TOKEN``, ``REQUEST``; HTTP API payload 1.0 too) raise ``Exception("Unauthorized")``,
  which API Gateway answers with 401; payload 2.0 events get ``isAuthorized: false`` (403:
  an HTTP API answers 401 only when the identity source is missing, without calling the
  function);
* verified, but none of the required scopes or groups: a ``Deny`` policy (403), or
  ``isAuthorized: false``;
* verified: an ``Allow`` policy, or ``isAuthorized: true``;
* no usable JWKS: :class:`~cognito_helper.CognitoConnectionError` propagates and API Gateway
  answers 500 (an authorizer cannot ask for a 503; ``COGNITO_JWKS`` avoids the fetch).

The credentials are the ``Authorization`` header (``REQUEST`` events; looked up
case-insensitively), the event's ``authorizationToken`` (``TOKEN`` events: the value of the
authorizer's token source header) or, for payload 2.0 events without that header, the one
value of ``identitySource``. Each may be ``Bearer <token>`` (the scheme in any case) or the
bare token (what clients written for API Gateway's built-in Cognito authorizer send).
Another scheme, ``Bearer`` with no token or two, or a value over 64 KiB are refused like a
bad token.

``context`` holds the string, number and boolean claims (REST APIs allow nothing else there;
lists such as ``cognito:groups`` are left out), and ``principalId`` is the ``sub``. A
``ConfigError`` or ``ValueError`` (the function's configuration or options are wrong), and an
event that is not an authorizer event, propagate: API Gateway answers 500.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Union

from ..core.errors import CognitoConnectionError, TokenVerificationError
from ..core.headers import header_values
from .bearer import BearerRefusal, log_refusal, verify_bearer

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .bearer import VerifierOptions

__all__ = ["authorize"]

#: The one error message API Gateway turns into 401 Unauthorized (anything else is a 500).
UNAUTHORIZED = "Unauthorized"


def authorize(event: Mapping[str, Any], **options: Unpack[VerifierOptions]) -> Dict[str, Any]:
    """Verify the Cognito token of an API Gateway Lambda authorizer ``event``; return the answer.

    REST API ``TOKEN`` and ``REQUEST`` events (and HTTP API payload 1.0 events) get an IAM
    policy: ``Allow`` (or, when the token lacks every one of ``scopes``/``groups``, ``Deny``)
    ``execute-api:Invoke`` on the event's ``methodArn``, with ``principalId`` the ``sub`` and
    ``context`` the string, number and boolean claims. A token that fails verification, or no
    token, raises ``Exception("Unauthorized")``, which API Gateway answers with 401.

    HTTP API payload 2.0 events (``"version": "2.0"``) get a simple response,
    ``{"isAuthorized": bool, "context": {...}}`` (turn on simple responses for the authorizer).

    The options are :func:`~cognito_helper.decode_verify_jwt`'s (access tokens by default),
    or ``verifier``, a :class:`~cognito_helper.CognitoVerifier` that replaces them
    (:class:`~cognito_helper.integrations.bearer.VerifierOptions`). Each refusal is logged
    as one line naming its status and reason
    (:func:`~cognito_helper.integrations.bearer.log_refusal`).
    ``check`` is a plain function (an ``async def`` one is a ``ValueError``): ``None`` or
    ``True`` accepts, ``False`` (or raising) refuses the token (401, or a simple response's
    ``isAuthorized`` false).
    :class:`~cognito_helper.CognitoConnectionError` (no usable JWKS) propagates, so API Gateway
    answers 500, not 401: set ``COGNITO_JWKS`` to verify without reaching Cognito at all.
    Raises ``TypeError``/``ValueError`` for an event that is not an authorizer event.
    """
    simple = _is_payload_v2(event)
    arn = "" if simple else _method_arn(event)
    try:
        claims = verify_bearer(_credentials(event, simple), **options)
    except BearerRefusal as refused:
        cause = refused.cause
        if isinstance(cause, CognitoConnectionError):
            raise cause from None  # 500: Cognito's keys could not be had; not the caller's fault
        # The log is the server's: the whole reason, not only what a client may be told.
        if refused.refusal.status == 403 and isinstance(cause, TokenVerificationError):
            log_refusal("authorizer", refused, "access denied")
            known = cause.claims or {}
            return _simple(False, known) if simple else _policy("Deny", arn, known)
        log_refusal("authorizer", refused, "unauthorized")
        if simple:
            return _simple(False, {})
        raise Exception(UNAUTHORIZED) from cause
    return _simple(True, claims) if simple else _policy("Allow", arn, claims)


# -- reading the event --------------------------------------------------------------------


def _is_payload_v2(event: Mapping[str, Any]) -> bool:
    if not isinstance(event, Mapping):
        raise TypeError(f"the authorizer event must be a dict, got {type(event).__name__}")
    return event.get("version") == "2.0"


def _method_arn(event: Mapping[str, Any]) -> str:
    arn = event.get("methodArn")
    if event.get("type") not in ("TOKEN", "REQUEST") or not isinstance(arn, str) or not arn:
        raise ValueError(
            "not an API Gateway Lambda authorizer event: expected a TOKEN or REQUEST event "
            "with a methodArn, or an HTTP API payload 2.0 event"
        )
    return arn


def _credentials(event: Mapping[str, Any], simple: bool) -> Union[str, List[str], None]:
    """The credentials as sent, in ``Bearer <token>`` form when they are a bare token; every
    value when the header came more than once."""
    if not simple and event.get("type") == "TOKEN":
        value: Any = event.get("authorizationToken")
    else:
        value = _authorization_header(event)
        if value is None and simple:
            sources = event.get("identitySource")
            if isinstance(sources, list) and len(sources) == 1:
                value = sources[0]
    if isinstance(value, list):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text and not any(c.isspace() for c in text) and text.lower() != "bearer":
        return "Bearer " + text  # a bare token: read it as the Bearer credential it is
    return value


def _authorization_header(event: Mapping[str, Any]) -> Union[str, List[str], None]:
    """The ``Authorization`` header of a ``REQUEST`` event, found in any letter case.

    Several values (two spellings in ``headers``, or a repeated header in a REST event's
    ``multiValueHeaders``) come back as a list, which :mod:`~cognito_helper.integrations.bearer`
    reads as
    HTTP joins repeated fields: they are refused as more than one credential rather than one
    of them picked.
    """
    values = [v for v in _named(event.get("headers"), "authorization") if isinstance(v, str)]
    for listed in _named(event.get("multiValueHeaders"), "authorization"):
        if isinstance(listed, list) and len(listed) > 1:
            values = [v for v in listed if isinstance(v, str)]
    if len(values) > 1:
        return values
    return values[0] if values else None


def _named(fields: Any, name: str) -> List[Any]:
    """The values of ``fields`` (a dict or not) whose key is ``name`` in any letter case."""
    return header_values(fields, name) if isinstance(fields, Mapping) else []


# -- answering ----------------------------------------------------------------------------


def _context(claims: Mapping[str, Any]) -> Dict[str, Any]:
    """The claims API Gateway can pass on: strings, numbers and booleans only."""
    return {k: v for k, v in claims.items() if isinstance(v, (str, int, float, bool))}


def _policy(effect: str, arn: str, claims: Mapping[str, Any]) -> Dict[str, Any]:
    return {
        "principalId": str(claims.get("sub") or "unknown"),
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": arn}],
        },
        "context": _context(claims),
    }


def _simple(authorized: bool, claims: Mapping[str, Any]) -> Dict[str, Any]:
    return {"isAuthorized": authorized, "context": _context(claims)}
