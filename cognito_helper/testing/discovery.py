"""The pool's ``.well-known`` documents: its JWKS and its OpenID configuration."""

from __future__ import annotations

from .keys import KeyRing
from .settings import PoolSettings
from .wire import Request, Response, json_response


class Discovery:
    """Serves what a verifier or an OIDC client reads to find the pool's keys and endpoints."""

    def __init__(self, keys: KeyRing, settings: PoolSettings) -> None:
        self._keys = keys
        self._settings = settings

    def jwks(self, request: Request) -> Response:
        keys = [key.jwk for key in self._keys.published()]
        return json_response(200, {"keys": keys}, no_store=False)

    def openid_configuration(self, request: Request) -> Response:
        base = self._settings.url
        issuer = base + request.path[: -len("/.well-known/openid-configuration")]
        document = {
            "issuer": issuer,  # the issuer whose document it is
            "authorization_endpoint": base + "/oauth2/authorize",
            "token_endpoint": base + "/oauth2/token",
            "userinfo_endpoint": base + "/oauth2/userInfo",
            "revocation_endpoint": base + "/oauth2/revoke",
            "end_session_endpoint": base + "/logout",
            "jwks_uri": issuer + "/.well-known/jwks.json",
            "response_types_supported": ["code", "token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "phone", "profile"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
            ],
        }
        return json_response(200, document, no_store=False)
