"""A FastAPI API whose routes need Amazon Cognito access tokens, built on cognito_helper. Copy
and adapt.

    pip install ".[fastapi]" && python examples/fastapi_app.py     # then open the printed URL

With no configuration it runs against an embedded LocalCognito (no AWS account needed) and
prints two demo access tokens, one of them granting the orders/read scope, with curl commands
to try them. With the COGNITO_* variables set, or a config.py (a copy of config.example.py) in
the working directory, it accepts your pool's access tokens instead (the app client's:
COGNITO_USER_POOL_ID and COGNITO_CLIENT_ID are all it needs). PORT=8080 changes the port. A bad
configuration is one line on stderr and exit status 2.

  GET /          public: no token needed
  GET /me        any valid access token of the app client: who is calling
  GET /orders    an access token that grants the orders/read scope
  GET /docs      the OpenAPI page: "Authorize" takes an access token

A refused request gets RFC 6750's answer: 401 with WWW-Authenticate: Bearer when there is no
token, 401 invalid_token for one that fails verification, 403 insufficient_scope for a missing
scope, 400 invalid_request for a malformed header, 503 with Retry-After when the pool's keys
cannot be fetched; the body is {"error": ..., "error_description": ...}.
"""

# No "from __future__ import annotations": FastAPI reads the routes' annotations, and they
# name the local `bearer`.
import os
import sys
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, AsyncIterator, Dict, Optional

from fastapi import Depends, FastAPI, Security

from cognito_helper import CognitoConfig, ConfigError
from cognito_helper.fastapi import CognitoBearer, add_exception_handler
from cognito_helper.testing import LocalCognito

#: A scope of your pool's resource server ("orders" with a "read" scope in the Cognito console).
ORDERS_SCOPE = "orders/read"
Claims = Dict[str, Any]
HOST = "127.0.0.1"  # loopback only; put a reverse proxy with TLS in front in production


def load_config() -> Optional[CognitoConfig]:
    """Your pool from the COGNITO_* variables or ./config.py; ``None`` when neither exists.

    Raises :class:`ConfigError` for anything wrong with either.
    """
    if os.environ.get("COGNITO_USER_POOL_ID"):
        return CognitoConfig.from_env()
    if Path("config.py").is_file():
        return CognitoConfig.from_file("config.py")
    return None


def create_app(
    config: Optional[CognitoConfig] = None, local_cognito: Optional[LocalCognito] = None
) -> FastAPI:
    """The API for ``config``; else for ``local_cognito``'s pool; else for ``load_config()``;
    else for a LocalCognito started here (and stopped when the app shuts down), which is then
    ``app.state.local_cognito`` (``None`` otherwise)."""
    owned = None
    if config is None and local_cognito is None:
        config = load_config()
    if config is None:
        if local_cognito is None:
            local_cognito = owned = LocalCognito(custom_scopes=(ORDERS_SCOPE,)).start()
        config = local_cognito.config

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned is not None:
            owned.stop()

    app = FastAPI(title="Orders API (cognito_helper example)", lifespan=lifespan)
    app.state.local_cognito = local_cognito
    add_exception_handler(app)  # refusals get the bare {"error", "error_description"} body

    # One dependency for the whole API: access tokens of this app client, verified on every
    # request (signature, issuer, client, expiry, token_use).
    bearer = CognitoBearer(config=config)

    @app.get("/")
    async def home() -> Dict[str, str]:
        return {"message": "public: no token needed", "docs": "/docs"}

    @app.get("/me")
    async def me(claims: Annotated[Claims, Depends(bearer)]) -> Dict[str, Any]:
        return {
            "sub": claims["sub"],
            "username": claims.get("username"),
            "groups": claims.get("cognito:groups", []),
            "scopes": claims.get("scope", "").split(),
        }

    @app.get("/orders")
    async def orders(
        claims: Annotated[Claims, Security(bearer, scopes=[ORDERS_SCOPE])],
    ) -> Dict[str, Any]:
        return {"owner": claims["sub"], "orders": [{"id": 1, "item": "tea", "quantity": 2}]}

    return app


def demo_tokens(local_cognito: LocalCognito) -> Dict[str, str]:
    """Two access tokens of the embedded pool: one without and one with ``ORDERS_SCOPE``."""
    return {
        "TOKEN": local_cognito.mint("access"),
        "ORDERS_TOKEN": local_cognito.mint("access", scope=f"openid {ORDERS_SCOPE}"),
    }


def read_port(value: str) -> int:
    """``$PORT`` as a TCP port number; :class:`ConfigError` for anything else."""
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= 65535:
        raise ConfigError(f"PORT must be a number from 1 to 65535, got {value!r}")
    return int(value)


def main() -> int:
    """Serve the API on ``HOST:$PORT`` with uvicorn; return the exit status."""
    try:
        import uvicorn
    except ImportError:
        print("error: the example runs on uvicorn: pip install '.[fastapi]'", file=sys.stderr)
        return 2
    try:
        port = read_port(os.environ.get("PORT", "8000"))
        app = create_app()
    except ConfigError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    base = f"http://localhost:{port}"
    print(f" * open {base}/docs", flush=True)
    lc = app.state.local_cognito
    if lc is not None:
        print(f" * no Cognito configured: tokens come from an embedded LocalCognito at {lc.url}")
        print(" * try (the tokens are valid for an hour):")
        for name, token in demo_tokens(lc).items():
            print(f"   export {name}={token}")
        print(f"   curl {base}/")
        print(f"   curl -i {base}/me                                         # 401")
        print(f'   curl -H "Authorization: Bearer $TOKEN" {base}/me')
        print(f'   curl -i -H "Authorization: Bearer $TOKEN" {base}/orders         # 403')
        print(f'   curl -H "Authorization: Bearer $ORDERS_TOKEN" {base}/orders', flush=True)
    uvicorn.run(app, host=HOST, port=port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
