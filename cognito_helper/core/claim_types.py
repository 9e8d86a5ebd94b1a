"""What :func:`~cognito_helper.decode_verify_jwt` returns, as types a type checker can use.

``decode_verify_jwt(token, token_use="id")`` is typed to return :class:`IdTokenClaims` and
``token_use="access"`` :class:`AccessTokenClaims`, so ``claims["cognito:groups"]`` and
``claims["scope"]`` are checked under mypy. At run time the value is a plain ``dict``. Every
key is optional for the type checker (``total=False``): a pool decides which it issues. A
custom attribute (``custom:tenant``) or any other claim not listed is read with
``claims.get("custom:tenant")`` after ``cast(Dict[str, Any], claims)``, or by declaring a
subclass of these types with it.
"""

from __future__ import annotations

from typing import Any, Dict, List, TypedDict, Union

__all__ = ["AccessTokenClaims", "IdTokenClaims"]

# Keys such as "cognito:groups" are not Python names: the functional syntax takes them, and
# class syntax adds the rest.
_Common = TypedDict(
    "_Common",
    {
        "sub": str,
        "iss": str,
        "token_use": str,
        "exp": int,
        "iat": int,
        "auth_time": int,
        "jti": str,
        "origin_jti": str,
        "event_id": str,
        "cognito:groups": List[str],
    },
    total=False,
)
_IdColonClaims = TypedDict(
    "_IdColonClaims",
    {"cognito:username": str, "cognito:roles": List[str], "cognito:preferred_role": str},
    total=False,
)


class IdTokenClaims(_Common, _IdColonClaims, total=False):
    """The claims of a Cognito ID token (``token_use`` ``'id'``)."""

    aud: str
    email: str
    email_verified: bool
    phone_number: str
    phone_number_verified: bool
    name: str
    nonce: str
    at_hash: str
    identities: List[Dict[str, Any]]


class AccessTokenClaims(_Common, total=False):
    """The claims of a Cognito access token (``token_use`` ``'access'``)."""

    client_id: str
    scope: str
    username: str
    version: int
    device_key: str
    aud: Union[str, List[str]]
