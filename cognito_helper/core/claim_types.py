"""What :func:`~cognito_helper.decode_verify_jwt` returns, as types a type checker can use.

``decode_verify_jwt(token, token_use="id")`` is typed to return :class:`IdTokenClaims` and
``token_use="access"`` :class:`AccessTokenClaims`, so ``claims["cognito:groups"]`` and
``claims["scope"]`` are checked under mypy. At run time the value is a plain ``dict``. Every
key is optional for the type checker (``total=False``): a pool decides which it issues.

The claims are never limited to the listed keys: a custom attribute (``custom:tenant``) or a
claim a pre-token-generation trigger added (a string, number, boolean, array or JSON object) is
in the same ``dict``. Type checkers have no way yet to declare a ``TypedDict`` with extra keys
of any name (PEP 728 is not in mypy), so there are two ways to read them under ``mypy --strict``:
``custom_claims(claims)["app"]["tenant"]`` (the same ``dict``, typed ``Dict[str, Any]``; no
copy), or a subclass that declares them (``class OrderClaims(AccessTokenClaims, total=False):
app: Dict[str, Any]``) and ``cast(OrderClaims, claims)``. ``claims.get("custom:tenant")``
type-checks as ``object``. Every caller gets claims of its own, nested objects and arrays
included: changing them changes nothing for anyone else.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, TypedDict, Union, cast

__all__ = ["AccessTokenClaims", "IdTokenClaims", "custom_claims"]

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


def custom_claims(
    claims: Union[IdTokenClaims, AccessTokenClaims, Mapping[str, Any]],
) -> Dict[str, Any]:
    """``claims`` itself (no copy), typed as a plain ``Dict[str, Any]``, so that claims the
    ``TypedDict`` does not list (custom attributes, claims a pre-token-generation trigger
    added) can be indexed under ``mypy --strict``: ``custom_claims(claims)["app"]["tenant"]``.

    ``TypeError`` unless ``claims`` is a ``dict`` (what every verifier returns).
    """
    if not isinstance(claims, dict):
        raise TypeError("custom_claims takes the claims dict a verifier returned")
    return cast(Dict[str, Any], claims)
