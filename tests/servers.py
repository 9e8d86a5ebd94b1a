"""Loopback servers whose answers a test scripts, for JWKS and token-endpoint faults.

They run on the package's one loopback server (:class:`LoopbackServer`); a test plugs in a
behaviour per path, which answers through the raw :class:`Handler`. :func:`config_for` is a
config whose hosted UI is such a server.
"""

from __future__ import annotations

import functools
import json
import socket
import struct
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from cognito_helper import CognitoConfig
from cognito_helper.testing.server import LoopbackHandler, LoopbackServer

from .helpers import free_port
from .tokens import CLIENT, POOL

Behaviour = Callable[["Handler"], None]


class Handler(LoopbackHandler):
    """Records each request on its :class:`ScriptedServer` and runs the path's behaviour."""

    def __init__(self, request: Any, client_address: Any, server: Any, *, owner: ScriptedServer):
        self.owner = owner
        self.body = b""
        super().__init__(request, client_address, server)

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0]
        owner = self.owner
        with owner.lock:
            owner.requests.append((self.command, self.path, dict(self.headers), self.body))
        behaviour = owner.routes.get(path)
        if behaviour is None:
            send(self, 404, b'{"error":"not_found"}')
            return
        behaviour(self)

    do_GET = _dispatch
    do_POST = _dispatch


class ScriptedServer:
    """``with ScriptedServer() as srv: srv.routes["/path"] = behaviour``; ``srv.url``.

    The socket is bound at construction, so ``srv._server.socket`` can be wrapped (in TLS,
    say) before the ``with``.
    """

    def __init__(self) -> None:
        self.routes: Dict[str, Behaviour] = {}
        self.requests: List[Tuple[str, str, Dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        handler = functools.partial(Handler, owner=self)
        self._server = LoopbackServer(handler, name="ScriptedServer")

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def connections(self) -> int:
        """TCP connections accepted."""
        return self._server.connections

    def count(self, path: str) -> int:
        with self.lock:
            return sum(1 for r in self.requests if r[1].split("?", 1)[0] == path)

    def __enter__(self) -> ScriptedServer:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()


# -- behaviours ---------------------------------------------------------------------------


def send(
    h: Handler,
    status: int,
    body: bytes,
    content_type: str = "application/json",
    headers: Optional[Dict[str, str]] = None,
) -> None:
    h.send_response(status)
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        h.send_header(name, value)
    h.end_headers()
    h.wfile.write(body)


def announce(h: Handler, length: int) -> None:
    """Send a 200 head announcing ``length`` bytes of JSON; the body is the caller's."""
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(length))
    h.end_headers()


def trickle(h: Handler, data: bytes, every: float) -> None:
    """Send ``data`` one byte every ``every`` seconds (until the client goes), then close."""
    try:
        for byte in data:
            h.wfile.write(bytes([byte]))
            h.wfile.flush()
            time.sleep(every)
    except OSError:
        pass
    h.close_connection = True


def respond(
    status: int,
    body: Any,
    content_type: str = "application/json",
    headers: Optional[Dict[str, str]] = None,
) -> Behaviour:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return lambda h: send(h, status, raw, content_type, headers)


def dynamic(make: Callable[[], Any]) -> Behaviour:
    """JSON 200 of whatever ``make()`` returns at request time."""
    return lambda h: send(h, 200, json.dumps(make()).encode())


def silent(seconds: float) -> Behaviour:
    """Accept the request, then say nothing for ``seconds``."""

    def run(h: Handler) -> None:
        time.sleep(seconds)
        h.close_connection = True

    return run


def drip(total_bytes: int, every: float) -> Behaviour:
    """Announce ``total_bytes`` of JSON, then send one byte every ``every`` seconds."""

    def run(h: Handler) -> None:
        announce(h, total_bytes)
        trickle(h, b" " * total_bytes, every)

    return run


def reset_mid_body() -> Behaviour:
    """Send headers and half a body, then reset the connection (RST)."""

    def run(h: Handler) -> None:
        announce(h, 1000)
        h.wfile.write(b'{"keys": [')
        h.wfile.flush()
        h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        h.connection.close()
        h.close_connection = True

    return run


# -- more faults (for tests/test_faults.py and friends) -----------------------------------


def _client_gone(h: Handler, wait: float) -> bool:
    """True once the client has closed its end (or reset it); waits at most ``wait`` s."""
    import select

    try:
        readable, _, _ = select.select([h.connection], [], [], wait)
        if not readable:
            return False
        return h.connection.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def hold(seconds: float) -> Behaviour:
    """Accept the request and say nothing, until the client gives up or ``seconds`` pass.

    Unlike :func:`silent`, the handler thread ends as soon as the client closes, so a test
    can check that no thread is left behind.
    """

    def run(h: Handler) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not _client_gone(h, 0.05):
            pass
        h.close_connection = True

    return run


def header_drip(every: float, status: int = 200) -> Behaviour:
    """Send the status line and headers one byte every ``every`` seconds (then a tiny body)."""

    def run(h: Handler) -> None:
        head = (
            f"HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\n"
            "X-Padding: " + "x" * 200 + "\r\nContent-Length: 2\r\n\r\n{}"
        ).encode()
        trickle(h, head, every)

    return run


def stream(
    status: int,
    chunk: bytes,
    *,
    every: float = 0.0,
    total: int = 64 << 20,
    headers: Optional[Dict[str, str]] = None,
    content_type: str = "application/json",
) -> Behaviour:
    """Send a chunked body of ``chunk`` repeated (``every`` s apart) up to ``total`` bytes,
    stopping early when the client goes away: an endless or slow body without a length."""

    def run(h: Handler) -> None:
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Transfer-Encoding", "chunked")
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        h.end_headers()
        sent = 0
        try:
            while sent < total:
                h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                h.wfile.flush()
                sent += len(chunk)
                if every:
                    time.sleep(every)
            h.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass
        h.close_connection = True

    return run


def short_body(announced: int, body: bytes) -> Behaviour:
    """Announce ``announced`` bytes, send ``body`` (fewer), then close the connection."""

    def run(h: Handler) -> None:
        announce(h, announced)
        h.wfile.write(body)
        h.wfile.flush()
        h.close_connection = True

    return run


def gzip_bomb(expanded: int) -> Behaviour:
    """A small gzip body (Content-Encoding: gzip) that inflates to ``expanded`` bytes."""
    import zlib

    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b" " * (1 << 20)
    raw = b"".join(packer.compress(block) for _ in range(max(1, expanded >> 20)))
    raw += packer.flush()
    return respond(200, raw, headers={"Content-Encoding": "gzip"})


def redirect(status: int, location: str, body: bytes = b"") -> Behaviour:
    """A 3xx answer pointing at ``location``."""
    return respond(status, body, "text/html", headers={"Location": location})


#: A loopback port nothing listens on (connections to it are refused): ``helpers.free_port``.
closed_port = free_port


def config_for(
    server: ScriptedServer, secret: Optional[str] = None, **settings: Any
) -> CognitoConfig:
    """The test pool's app client (``tokens.POOL``, ``CLIENT``, ``client_secret=secret``) whose
    hosted UI is ``server``, with registered redirect and logout URIs and a 1.5 s timeout;
    ``settings`` override any of it."""
    values: Dict[str, Any] = {
        "user_pool_id": POOL,
        "client_id": CLIENT,
        "client_secret": secret,
        "domain": server.url,
        "redirect_uri": "https://app.example.com/cb",
        "logout_uri": "https://app.example.com/bye",
        "timeout": 1.5,
    }
    return CognitoConfig(**{**values, **settings})
