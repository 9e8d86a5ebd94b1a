"""The one loopback HTTP server: LocalCognito, the tests' scripted servers, the fuzz targets and
the benchmark each run on it with their own request handler.

What it adds to :class:`http.server.ThreadingHTTPServer` is what every one of them needed:
daemon handler threads, a listen backlog that does not overflow when many clients connect at
once, ``TCP_NODELAY`` on every connection, silence when a client hangs up mid-answer, a count
of the connections accepted, and a :meth:`LoopbackServer.stop` that closes idle keep-alive
connections so that no handler thread outlives it.
"""

from __future__ import annotations

import socket
import socketserver
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional, Set

__all__ = ["HandlerFactory", "LoopbackHandler", "LoopbackServer", "static_handler"]

#: What a server makes a handler with, per connection: a handler class, or a function with
#: the same arguments (``request, client_address, server``) such as a ``functools.partial``.
HandlerFactory = Callable[..., socketserver.BaseRequestHandler]


class LoopbackHandler(BaseHTTPRequestHandler):
    """A base for handlers on a :class:`LoopbackServer`: HTTP/1.1 keep-alive, no request log."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # no request log: URLs carry codes and state, and test output stays readable


class LoopbackServer(ThreadingHTTPServer):
    """An HTTP server on ``host:port`` (port 0 picks a free one), serving in a daemon thread.

    The socket is bound at construction (``OSError`` if the port is taken), so the listening
    socket can still be replaced (wrapped in TLS, say) before :meth:`start`. An IPv6 ``host``
    (one with a colon) listens on IPv6. Use it as a context manager, or call :meth:`start`
    and :meth:`stop`; it is started once.
    """

    daemon_threads = True
    # socketserver's default backlog of 5 overflows when a dozen clients connect at once, and
    # the kernel then resets connections the client believes are open.
    request_queue_size = 128

    def __init__(
        self, handler: HandlerFactory, *, host: str = "127.0.0.1", port: int = 0, name: str = ""
    ) -> None:
        if ":" in host:
            self.address_family = socket.AF_INET6
        self.host = host
        self.name = name or type(self).__name__
        self._lock = threading.Lock()
        self._open: Set[socket.socket] = set()
        self._connections = 0
        self._thread: Optional[threading.Thread] = None
        super().__init__((host, port), handler)

    def server_bind(self) -> None:
        # HTTPServer's own also looks up the host's fully qualified name, which can take
        # seconds where reverse DNS is slow; nothing here uses it.
        socketserver.TCPServer.server_bind(self)
        self.server_name = self.host
        self.server_port = int(self.server_address[1])

    @property
    def url(self) -> str:
        """``http://host:port`` (IPv6 hosts in brackets), no trailing slash."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.server_port}"

    @property
    def connections(self) -> int:
        """How many TCP connections have been accepted (keep-alive reuse keeps it low)."""
        with self._lock:
            return self._connections

    def start(self) -> LoopbackServer:
        """Serve in a daemon thread; return self. Calling it again does nothing."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self.serve_forever,
                # stop() waits for the loop to notice: a short poll keeps a test's teardown
                # at a few ms (a thousand tests start and stop one), for little idle CPU.
                kwargs={"poll_interval": 0.005},
                name=f"{self.name} {self.url}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close every open connection and the listening socket; idempotent.

        Clients holding a keep-alive connection see it closed; handler threads end.
        """
        thread, self._thread = self._thread, None
        if thread is not None:
            self.shutdown()
        self.close_connections()
        self.server_close()
        if thread is not None:
            thread.join(timeout=10)

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def close_connections(self) -> None:
        """Wake every handler waiting on a keep-alive connection, so that its thread ends."""
        with self._lock:
            connections = list(self._open)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._lock:
            self._connections += 1
            self._open.add(request)
        # Headers and body leave in separate writes: with Nagle's algorithm the body waits for
        # the client's delayed ACK of the headers, 40 ms on every answer.
        try:
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # a client that hung up mid-answer: not worth a traceback on stderr
        super().handle_error(request, client_address)


def static_handler(body: bytes, content_type: str = "application/json") -> HandlerFactory:
    """A handler answering every GET with 200 and ``body`` (a JWKS document, say)."""

    class StaticHandler(LoopbackHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return StaticHandler
