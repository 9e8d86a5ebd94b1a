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

from ._version import __version__
from .core import errors as _errors
from .core.claim_types import AccessTokenClaims, IdTokenClaims, custom_claims
from .core.errors import *  # noqa: F403 - the whole hierarchy, listed once in errors.__all__
from .settings.config import CognitoConfig
from .settings.default import configure, get_config
from .settings.fields import ANY_APP_CLIENT
from .settings.hosted_ui import LoginRequest
from .settings.pkce import pkce_challenge
from .verification.jws import decode_unverified

if TYPE_CHECKING:  # imported on first use, below: the HTTP and crypto stacks cost ~200 ms
    from .oauth.endpoints import (
        Tokens,
        get_client_credentials_token,
        get_cognito_tokens,
        get_user_info,
        revoke_token,
    )
    from .oauth.m2m import ClientCredentials
    from .oauth.redis_store import RedisTokenStore
    from .oauth.token_store import HeldToken, TokenStore
    from .verification.alb import AlbIdentity, AlbVerifier, verify_alb_jwt, verify_alb_request
    from .verification.cognito import CognitoVerifier, decode_verify_jwt
    from .verification.jwks import JwksCache
    from .verification.jwks_registry import forget_jwks_caches, jwks_cache
    from .verification.memo import (
        MemoInfo,
        clear_verification_memo,
        set_verification_memo_size,
        verification_memo_info,
    )

# Public name -> the module that defines it, for names imported on first use (PEP 562), so
# that `import cognito_helper` (and `cognito-helper --help` or `decode`) stays cheap.
_LAZY: Dict[str, str] = {
    "MemoInfo": "verification.memo",
    "clear_verification_memo": "verification.memo",
    "set_verification_memo_size": "verification.memo",
    "verification_memo_info": "verification.memo",
    "JwksCache": "verification.jwks",
    "forget_jwks_caches": "verification.jwks_registry",
    "jwks_cache": "verification.jwks_registry",
    "decode_verify_jwt": "verification.cognito",
    "CognitoVerifier": "verification.cognito",
    "AlbIdentity": "verification.alb",
    "AlbVerifier": "verification.alb",
    "verify_alb_jwt": "verification.alb",
    "verify_alb_request": "verification.alb",
    "ClientCredentials": "oauth.m2m",
    "HeldToken": "oauth.token_store",
    "TokenStore": "oauth.token_store",
    "RedisTokenStore": "oauth.redis_store",
    "Tokens": "oauth.endpoints",
    "get_client_credentials_token": "oauth.endpoints",
    "get_cognito_tokens": "oauth.endpoints",
    "get_user_info": "oauth.endpoints",
    "revoke_token": "oauth.endpoints",
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
    "CognitoVerifier",
    "IdTokenClaims",
    "AccessTokenClaims",
    "custom_claims",
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
    "AlbVerifier",
    "ClientCredentials",
    "HeldToken",
    "TokenStore",
    "RedisTokenStore",
]
__all__ += _errors.__all__  # the whole exception hierarchy
