"""The ``httpx.Auth`` of :meth:`ClientCredentials.httpx_auth` (imported only by that method:
httpx is an optional dependency, ``pip install ".[httpx]"`` from the checkout)."""

from __future__ import annotations

from typing import TYPE_CHECKING, AsyncGenerator, Generator

import httpx

if TYPE_CHECKING:
    from .m2m import ClientCredentials

__all__ = ["BearerAuth"]


def _retry(request: httpx.Request, response: httpx.Response, token: str) -> bool:
    """Whether a 401 refused ``token`` and the request can be sent again.

    After redirects, ``response`` answers the last hop: one on another origin had its
    Authorization stripped by httpx, and its 401 says nothing about the token.
    """
    sent = response.request.headers.get("Authorization")
    return (
        response.status_code == 401
        and sent == "Bearer " + token
        and isinstance(request.stream, httpx.ByteStream)
    )


class BearerAuth(httpx.Auth):
    """Adds a :class:`~cognito_helper.ClientCredentials` token; retries once on a 401 (see
    :meth:`~cognito_helper.ClientCredentials.httpx_auth`)."""

    def __init__(self, credentials: ClientCredentials) -> None:
        self.credentials = credentials

    def __repr__(self) -> str:
        return f"BearerAuth({self.credentials!r})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Send with the token; on a 401, once more with a new one (at most one new token
        per cool-down: see :meth:`~cognito_helper.ClientCredentials.__call__`)."""
        credentials = self.credentials
        token = credentials.access_token()
        request.headers["Authorization"] = "Bearer " + token
        response = yield request
        if _retry(request, response, token) and credentials._retry_after_401(token):
            request.headers["Authorization"] = "Bearer " + credentials.access_token()
            yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """As :meth:`auth_flow`; a token request runs in a worker thread."""
        credentials = self.credentials
        token = await self._token()
        request.headers["Authorization"] = "Bearer " + token
        response = yield request
        if _retry(request, response, token) and credentials._retry_after_401(token):
            request.headers["Authorization"] = "Bearer " + await self._token()
            yield request

    async def _token(self) -> str:
        cached = self.credentials._cached()
        if cached is not None:
            return cached
        import anyio.to_thread  # httpx's own dependency: works under asyncio and trio

        return await anyio.to_thread.run_sync(self.credentials.access_token)
