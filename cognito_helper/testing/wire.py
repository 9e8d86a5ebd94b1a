"""Requests and responses as LocalCognito's endpoints see them, and the handler that carries
them over the loopback server.

An endpoint is a function from :class:`Request` to :class:`Response`; it may also raise
:class:`EndpointError` to stop and answer at once. OAuth errors are made in one place,
:func:`oauth_error`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, Mapping, Optional, Set, Tuple
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .server import LoopbackHandler

FORM_TYPE = "application/x-www-form-urlencoded"
_JSON_TYPE = "application/json;charset=UTF-8"
_MAX_BODY = 64 * 1024
_MAX_PARAMS = 64


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query_string: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    headers: Tuple[Tuple[str, str], ...] = ()


Endpoint = Callable[[Request], Response]


class EndpointError(Exception):
    """Stop handling a request and answer with ``response``."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def json_response(
    status: int,
    payload: Mapping[str, Any],
    *,
    no_store: bool = True,
    headers: Tuple[Tuple[str, str], ...] = (),
) -> Response:
    extra = (("Cache-Control", "no-store"), ("Pragma", "no-cache")) if no_store else ()
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return Response(status, body, (("Content-Type", _JSON_TYPE), *extra, *headers))


def oauth_error(
    error: str,
    description: Optional[str] = None,
    *,
    status: int = 400,
    headers: Tuple[Tuple[str, str], ...] = (),
) -> EndpointError:
    """The one place OAuth JSON errors are made: ``{"error": ..., "error_description"?: ...}``."""
    payload = {"error": error}
    if description is not None:
        payload["error_description"] = description
    return EndpointError(json_response(status, payload, headers=headers))


def invalid_token(description: str) -> EndpointError:
    """userInfo's 401 with a ``WWW-Authenticate: Bearer error="invalid_token"`` challenge."""
    challenge = f'Bearer error="invalid_token", error_description="{description}"'
    return oauth_error(
        "invalid_token", description, status=401, headers=(("WWW-Authenticate", challenge),)
    )


def redirect(location: str) -> Response:
    return Response(302, b"", (("Location", location), ("Cache-Control", "no-store")))


def add_query(uri: str, params: Iterable[Tuple[str, Optional[str]]]) -> str:
    """Append ``params`` (skipping ``None`` values) to ``uri``, keeping any query it has."""
    extra = urlencode([(name, value) for name, value in params if value is not None])
    parts = urlsplit(uri)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit(parts._replace(query=query))


def parse_params(text: str) -> Dict[str, str]:
    """Parse a query string or form body; a repeated name is a ``ValueError``.

    Empty values are dropped, so ``code=`` reads as a missing ``code``.
    """
    pairs = parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=_MAX_PARAMS)
    params: Dict[str, str] = {}
    seen: Set[str] = set()
    for name, value in pairs:
        if name in seen:
            raise ValueError(f"parameter {name!r} is repeated")
        seen.add(name)
        if value:
            params[name] = value
    return params


def form_params(request: Request) -> Dict[str, str]:
    """The body of an ``/oauth2/*`` POST; ``invalid_request`` unless it is a proper form."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != FORM_TYPE:
        raise oauth_error("invalid_request", f"Content-Type must be {FORM_TYPE}")
    try:
        return parse_params(request.body.decode("utf-8"))
    except ValueError:
        raise oauth_error("invalid_request", "malformed or repeated parameter") from None


def required(form: Mapping[str, str], name: str) -> str:
    value = form.get(name)
    if value is None:
        raise oauth_error("invalid_request", f"{name} is required")
    return value


class EndpointHandler(LoopbackHandler):
    """Hands each request to ``endpoint`` as a :class:`Request` and sends its :class:`Response`.

    Made per connection by ``functools.partial(EndpointHandler, endpoint=...)``.
    """

    def __init__(self, request: Any, client_address: Any, server: Any, *, endpoint: Endpoint):
        self._endpoint = endpoint
        super().__init__(request, client_address, server)

    def version_string(self) -> str:
        return "LocalCognito"

    def do_GET(self) -> None:  # noqa: N802 - http.server names it
        self._serve()

    def do_POST(self) -> None:  # noqa: N802 - http.server names it
        self._serve()

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            return
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=parts.path,
            query_string=parts.query,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        self._send(self._endpoint(request))

    def _read_body(self) -> Optional[bytes]:
        """The request body, or ``None`` after answering a request whose body cannot be read."""
        if "Transfer-Encoding" in self.headers:
            self._send(Response(411), close=True)
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= _MAX_BODY:
            self._send(Response(413 if length > _MAX_BODY else 400), close=True)
            return None
        return self.rfile.read(length) if length else b""

    def _send(self, response: Response, *, close: bool = False) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(response.body)
