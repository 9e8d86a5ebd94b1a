"""Loopback HTTP servers whose answers a test scripts, for JWKS and token-endpoint faults."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple

Behaviour = Callable[["Handler"], None]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0]
        owner = self.server.owner
        with owner.lock:
            owner.requests.append((self.command, self.path, dict(self.headers), self.body))
        behaviour = owner.routes.get(path)
        if behaviour is None:
            send(self, 404, b'{"error":"not_found"}')
            return
        behaviour(self)

    do_GET = _dispatch
    do_POST = _dispatch


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: ScriptedServer

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.owner.lock:
            self.owner.connections += 1
        super().process_request(request, client_address)


class ScriptedServer:
    """``with ScriptedServer() as srv: srv.routes["/path"] = behaviour``; ``srv.url``."""

    def __init__(self) -> None:
        self.routes: Dict[str, Behaviour] = {}
        self.requests: List[Tuple[str, str, Dict[str, str], bytes]] = []
        self.connections = 0  # TCP connections accepted
        self.lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.owner = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def count(self, path: str) -> int:
        with self.lock:
            return sum(1 for r in self.requests if r[1].split("?", 1)[0] == path)

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


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
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(total_bytes))
        h.end_headers()
        try:
            for _ in range(total_bytes):
                h.wfile.write(b" ")
                h.wfile.flush()
                time.sleep(every)
        except OSError:
            pass
        h.close_connection = True

    return run


def reset_mid_body() -> Behaviour:
    """Send headers and half a body, then reset the connection (RST)."""

    def run(h: Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", "1000")
        h.end_headers()
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
        try:
            for byte in head:
                h.wfile.write(bytes([byte]))
                h.wfile.flush()
                time.sleep(every)
        except OSError:
            pass
        h.close_connection = True

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
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(announced))
        h.end_headers()
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


def closed_port() -> int:
    """A loopback port nothing listens on (connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# Headers and body leave in separate writes; with Nagle's algorithm on, the body waits for the
# client's delayed ACK (40 ms per answer). Timing only: what is sent does not change.
Handler.disable_nagle_algorithm = True
# socketserver's default listen backlog of 5 overflows when many threads connect at once (the
# kernel then resets connections the client believes are open).
_Server.request_queue_size = 128


def _quiet_handle_error(self: _Server, request: Any, client_address: Any) -> None:
    """A client that hung up mid-answer is what the fault tests are about: not worth a
    traceback on stderr. Anything else is still printed."""
    import sys

    if isinstance(sys.exc_info()[1], OSError):
        return
    ThreadingHTTPServer.handle_error(self, request, client_address)


_Server.handle_error = _quiet_handle_error  # type: ignore[method-assign]
