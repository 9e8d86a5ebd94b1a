"""Which endpoint answers which method and path, and what the server has seen.

The router is the one place a request enters LocalCognito's own code: it logs the request,
answers 404 and 405, turns an :class:`~.wire.EndpointError` into its response, and turns
any other exception (a bug in LocalCognito) into a 500 that the test can see.
"""

from __future__ import annotations

import threading
from typing import Callable, List, Mapping, Tuple

from .pages import not_found
from .wire import Endpoint, EndpointError, Request, Response, json_response

Routes = Mapping[str, Mapping[str, Endpoint]]  # path -> method -> endpoint


class Router:
    def __init__(self, routes: Routes, on_error: Callable[[Exception], None]) -> None:
        self._routes = routes
        self._on_error = on_error
        self._lock = threading.Lock()
        self._seen: List[Tuple[str, str]] = []

    @property
    def requests_seen(self) -> List[Tuple[str, str]]:
        """A copy of every ``(method, path)`` handled so far, oldest first."""
        with self._lock:
            return list(self._seen)

    def count(self, path: str) -> int:
        """How many requests for ``path`` have been handled, whatever their method."""
        with self._lock:
            return sum(1 for _, seen in self._seen if seen == path)

    def dispatch(self, request: Request) -> Response:
        with self._lock:
            self._seen.append((request.method, request.path))
        methods = self._routes.get(request.path)
        if methods is None:
            return not_found()
        endpoint = methods.get(request.method)
        if endpoint is None:
            return Response(405, b"", (("Allow", ", ".join(methods)),))
        try:
            return endpoint(request)
        except EndpointError as abort:
            return abort.response
        except Exception as exc:  # a bug in LocalCognito; kept for the test to see
            self._on_error(exc)
            return json_response(500, {"error": "server_error"})
