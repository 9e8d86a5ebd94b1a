"""cognito_helper: the hosted-UI URLs, token exchange and JWT verification a backend behind
Amazon Cognito needs, done correctly.

The common case needs no object::

    from cognito_helper import configure, get_cognito_tokens, decode_verify_jwt

    configure({"user_pool_id": "us-east-1_AbC123", "client_id": "...", "domain": "my-app",
               "redirect_uri": "https://app.example.com/cognito_redirect"})
    tokens = get_cognito_tokens(code=code, code_verifier=login.code_verifier)
    claims = decode_verify_jwt(tokens.id_token, token_use="id", nonce=login.nonce)

``cognito_helper.testing.LocalCognito`` is a local Cognito-compatible provider for tests and
demos; it is imported only on demand.
"""

from typing import TYPE_CHECKING, Any, Dict, List

from . import errors as _errors
from ._fields import ANY_APP_CLIENT
from ._jws import decode_unverified
from ._typed import AccessTokenClaims, IdTokenClaims
from ._version import __version__
from .config import CognitoConfig, LoginRequest, configure, get_config, pkce_challenge
from .errors import *  # noqa: F403 - the whole hierarchy, listed once in errors.__all__

if TYPE_CHECKING:  # imported on first use, below: the HTTP and crypto stacks cost ~200 ms
    from ._memo import (
        MemoInfo,
        clear_verification_memo,
        set_verification_memo_size,
        verification_memo_info,
    )
    from ._token_store import HeldToken, TokenStore
    from .alb import AlbIdentity, verify_alb_jwt, verify_alb_request
    from .jwks import JwksCache, forget_jwks_caches, jwks_cache
    from .jwt_helper import decode_verify_jwt
    from .m2m import ClientCredentials
    from .redis_store import RedisTokenStore
    from .token_helper import (
        Tokens,
        get_client_credentials_token,
        get_cognito_tokens,
        get_user_info,
        revoke_token,
    )

# Public name -> the module that defines it, for names imported on first use (PEP 562), so
# that `import cognito_helper` (and `cognito-helper --help` or `decode`) stays cheap.
_LAZY: Dict[str, str] = {
    "MemoInfo": "_memo",
    "clear_verification_memo": "_memo",
    "set_verification_memo_size": "_memo",
    "verification_memo_info": "_memo",
    "JwksCache": "jwks",
    "forget_jwks_caches": "jwks",
    "jwks_cache": "jwks",
    "decode_verify_jwt": "jwt_helper",
    "AlbIdentity": "alb",
    "verify_alb_jwt": "alb",
    "verify_alb_request": "alb",
    "ClientCredentials": "m2m",
    "HeldToken": "_token_store",
    "TokenStore": "_token_store",
    "RedisTokenStore": "redis_store",
    "Tokens": "token_helper",
    "get_client_credentials_token": "token_helper",
    "get_cognito_tokens": "token_helper",
    "get_user_info": "token_helper",
    "revoke_token": "token_helper",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups are plain attribute reads
    return value


def __dir__() -> List[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "__version__",
    "ANY_APP_CLIENT",
    "CognitoConfig",
    "LoginRequest",
    "configure",
    "get_config",
    "pkce_challenge",
    "get_cognito_tokens",
    "get_client_credentials_token",
    "revoke_token",
    "get_user_info",
    "Tokens",
    "decode_verify_jwt",
    "decode_unverified",
    "IdTokenClaims",
    "AccessTokenClaims",
    "set_verification_memo_size",
    "verification_memo_info",
    "clear_verification_memo",
    "MemoInfo",
    "JwksCache",
    "jwks_cache",
    "forget_jwks_caches",
    "verify_alb_jwt",
    "verify_alb_request",
    "AlbIdentity",
    "ClientCredentials",
    "HeldToken",
    "TokenStore",
    "RedisTokenStore",
]
__all__ += _errors.__all__  # the whole exception hierarchy
