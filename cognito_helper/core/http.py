"""The one HTTP session helper: every call to Cognito goes through :func:`request`.

Guarantees: one process-wide ``requests.Session`` (keep-alive, so sequential grants reuse one
connection), redirects never followed, no automatic retries (an authorization code is
single-use), no cookies kept, a deadline that bounds the whole call (connect, status line and
headers, body) together, and a cap on the body size. The cap holds for the decoded body: the
library asks for ``Accept-Encoding: identity``, decodes at most one ``gzip`` layer itself
with a bounded decompressor (never urllib3's decoder, whose limits depend on its version),
and refuses every other content coding, stacked codings included. Every network failure becomes
:class:`CognitoConnectionError` whose message names the endpoint but never a body, a header
value or a query string.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import zlib
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from typing import Any, Callable, Dict, List, Mapping, Optional, TypeVar

import requests
import requests.auth
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .._version import __version__
from .errors import CognitoConnectionError

__all__ = ["HttpResponse", "request", "session"]

log = logging.getLogger("cognito_helper")

_session: Optional[requests.Session] = None
_session_lock = threading.Lock()
_call = threading.local()  # .deadline: monotonic deadline of the call this thread is making

_T = TypeVar("_T")


def _shut_down(sock: Any) -> None:
    try:
        # The plain-socket shutdown, also for a TLS socket: it wakes a thread blocked in recv
        # on it without touching the TLS object that thread is using.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except (OSError, TypeError):
        pass


def _before_deadline(sock: Any, call: Callable[[], _T]) -> _T:
    """Run ``call`` (reading a status line and headers, or a body, from ``sock``) in time.

    A socket timeout bounds each recv, not the sum of them: a server dripping one header byte
    per second would outlast any timeout. A watchdog shuts the socket down at the deadline,
    which ends the read (the caller then reports the timeout).
    """
    deadline: Optional[float] = getattr(_call, "deadline", None)
    if deadline is None or sock is None:
        return call()
    watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), _shut_down, (sock,))
    watchdog.name = "cognito-helper deadline"
    watchdog.daemon = True
    watchdog.start()
    try:
        return call()
    finally:
        watchdog.cancel()
        watchdog.join()


class _DeadlineHTTPConnection(HTTPConnection):
    def getresponse(self) -> Any:
        return _before_deadline(self.sock, super().getresponse)


class _DeadlineHTTPSConnection(HTTPSConnection):
    def getresponse(self) -> Any:
        return _before_deadline(self.sock, super().getresponse)

    def _tunnel(self) -> None:
        # Through an HTTPS proxy, connect() reads the proxy's CONNECT reply: one dripped a
        # byte at a time would outlast the timeout as a dripped status line would.
        _before_deadline(self.sock, super()._tunnel)


class _DeadlineHTTPPool(HTTPConnectionPool):
    ConnectionCls = _DeadlineHTTPConnection


class _DeadlineHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


_POOL_CLASSES = {"http": _DeadlineHTTPPool, "https": _DeadlineHTTPSPool}


class _DeadlineAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose connections honour the deadline of :func:`request`."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOL_CLASSES

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if isinstance(manager, urllib3.ProxyManager):  # not SOCKS: it has its own connections
            manager.pool_classes_by_scheme = _POOL_CLASSES
        return manager


class _NoNetrc(requests.auth.AuthBase):
    """Leaves the request as built: its only job is to stop ``~/.netrc`` lookups."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return r


class _NoCookies(DefaultCookiePolicy):
    """Refuse every cookie: token calls for different users must not share state."""

    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False

    def return_ok(self, cookie: Any, request: Any) -> bool:
        return False


def session() -> requests.Session:
    """Return the shared session, creating it on first use (not at import)."""
    global _session
    current = _session
    if current is not None:
        return current
    with _session_lock:
        if _session is None:
            new = requests.Session()
            adapter = _DeadlineAdapter(pool_connections=8, pool_maxsize=32, max_retries=0)
            new.mount("https://", adapter)
            new.mount("http://", adapter)
            new.cookies.set_policy(_NoCookies())
            # With no session auth, requests would add ~/.netrc credentials for the host,
            # replacing a confidential client's Basic header and adding some to JWKS fetches.
            new.auth = _NoNetrc()
            new.headers["User-Agent"] = f"cognito-helper/{__version__}"
            new.headers["Accept"] = "application/json"
            # Compression buys nothing for bodies of a few KB, and each coding a server may
            # apply is a way to make a small answer inflate to gigabytes (see _Decoder).
            new.headers["Accept-Encoding"] = "identity"
            _session = new
        return _session


def close_session() -> None:
    """Close the shared session's pooled connections and drop it; the next request makes a
    new one (``cognito_helper.testing.reset()`` calls it)."""
    global _session
    with _session_lock:
        old, _session = _session, None
    if old is not None:
        old.close()


@dataclass(frozen=True)
class HttpResponse:
    """A fully read response: status, headers and at most ``max_bytes`` of body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class _Decoder:
    """Undo the response's content coding with a bound on the decoded size.

    Accepted: no coding (or ``identity``) and exactly one ``gzip`` layer, inflated by a
    ``zlib.decompressobj`` that is never asked for more than the cap allows. Any other coding,
    and any stack of codings (``gzip, gzip``), is refused before a byte is inflated: a few KB
    of stacked gzip can inflate to gigabytes, and older urllib3 releases inflate every layer
    at once (CVE-2025-66471, CVE-2025-66418).
    """

    def __init__(self, content_encoding: Optional[str], max_bytes: int) -> None:
        codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
        codings = [c for c in codings if c and c != "identity"]
        if len(codings) > 1:
            raise _BadEncodingError(f"stacked content codings ({len(codings)} layers)")
        if codings and codings[0] not in ("gzip", "x-gzip"):
            raise _BadEncodingError(f"content coding {codings[0][:20]!r}")
        self._inflater = zlib.decompressobj(wbits=31) if codings else None
        self._room = max_bytes  # how many more decoded bytes fit under the cap

    def feed(self, data: bytes) -> bytes:
        """The decoded bytes for ``data``; ``_TooLargeError`` once past the cap."""
        inflater = self._inflater
        if inflater is None:
            out = data
        else:
            try:
                # Ask for at most one byte more than fits: enough to see the cap is passed,
                # never a large allocation, whatever the ratio of the compressed data.
                out = inflater.decompress(data, self._room + 1)
            except zlib.error:
                raise _BadEncodingError("the gzip body is corrupt") from None
            if inflater.unconsumed_tail:
                raise _TooLargeError()
        self._room -= len(out)
        if self._room < 0:
            raise _TooLargeError()
        return out

    def finish(self) -> None:
        """Check that a gzip body ended where the stream did (nothing truncated or appended)."""
        inflater = self._inflater
        if inflater is not None and (not inflater.eof or inflater.unused_data):
            raise _BadEncodingError("the gzip body is truncated or has trailing data")


def _read_body(resp: requests.Response, deadline: float, max_bytes: int) -> bytes:
    raw: Any = resp.raw
    length = resp.headers.get("Content-Length")
    if length is not None and length.isdigit() and int(length) > max_bytes:
        raise _TooLargeError()
    decoder = _Decoder(resp.headers.get("Content-Encoding"), max_bytes)
    chunks: List[bytes] = []
    sock = getattr(getattr(raw, "connection", None), "sock", None)

    def read_all() -> None:
        received = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _DeadlineError()
            # Bound each read by what is left of the deadline; the watchdog around this loop
            # also cuts off reads made of many recvs (a chunk-size line dripped byte by byte).
            if sock is not None:
                sock.settimeout(remaining)
            # decode_content=False: the bytes as sent; _Decoder undoes the coding, bounded.
            chunk = (
                raw.read1(65536, decode_content=False)
                if hasattr(raw, "read1")
                else raw.read(65536, decode_content=False)
            )
            if not chunk:
                decoder.finish()
                return
            received += len(chunk)
            if received > max_bytes:  # the encoded size is capped too
                raise _TooLargeError()
            chunks.append(decoder.feed(chunk))

    _before_deadline(sock, read_all)
    if time.monotonic() >= deadline:
        # The watchdog's shutdown reads as end-of-stream: a body that "ended" at the deadline
        # may be cut short (a dripped chunk-size line of zeros parses as the last chunk).
        raise _DeadlineError()
    release = getattr(raw, "release_conn", None)
    if release is not None:
        release()  # the body is fully read: hand the connection back for keep-alive
    return b"".join(chunks)


class _TooLargeError(Exception):
    pass


class _DeadlineError(Exception):
    pass


class _BadEncodingError(Exception):
    pass


def request(
    method: str,
    url: str,
    *,
    what: str,
    timeout: float,
    max_bytes: int = 1 << 20,
    data: Optional[Mapping[str, str]] = None,
    headers: Optional[Dict[str, str]] = None,
) -> HttpResponse:
    """Send one request and read the whole response within ``timeout`` seconds.

    ``what`` names the endpoint in messages and logs ("token endpoint", "JWKS"). Any status is
    returned; interpreting it is the caller's job. Raises :class:`CognitoConnectionError` on
    refused or reset connections, timeouts, redirects-not-followed aside, TLS errors and bodies
    over ``max_bytes``.
    """
    deadline = time.monotonic() + timeout
    started = time.perf_counter()
    resp: Optional[requests.Response] = None
    body = b""
    failure: Optional[str] = None
    _call.deadline = deadline
    try:
        resp = _send(method, url, data, headers, timeout)
        body = _read_body(resp, deadline, max_bytes)
    except _TooLargeError:
        failure = f"Cognito {what} response is larger than {max_bytes} bytes; refused"
    except _BadEncodingError as exc:
        failure = f"Cognito {what} response refused: {exc}"
    except _DeadlineError:
        failure = f"Cognito {what} did not answer within {timeout:g} s"
    except (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError) as exc:
        failure = f"Cognito {what} did not answer within {timeout:g} s ({type(exc).__name__})"
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
        if time.monotonic() >= deadline:  # the watchdog cut a slow answer off
            failure = f"Cognito {what} did not answer within {timeout:g} s"
        else:
            failure = f"could not reach the Cognito {what} ({type(exc).__name__})"
    finally:
        _call.deadline = None
    if failure is not None or resp is None:
        _close(resp)
        resp = None
        # Raised outside the except clauses on purpose, so the error has no __context__: the
        # underlying exception holds the request (its Authorization header, its form body)
        # and, through its traceback, the open connection.
        raise CognitoConnectionError(failure or f"could not reach the Cognito {what}")
    log.debug(
        "%s %s: HTTP %d, %d bytes in %.1f ms",
        method,
        what,
        resp.status_code,
        len(body),
        (time.perf_counter() - started) * 1000,
    )
    return HttpResponse(status=resp.status_code, headers=resp.headers, body=body)


def _send(
    method: str,
    url: str,
    data: Optional[Mapping[str, str]],
    headers: Optional[Dict[str, str]],
    timeout: float,
) -> requests.Response:
    """Send through the session's adapter, returning as soon as the headers are in.

    Not ``Session.request``: given a 3xx, even with ``allow_redirects=False``, it reads the
    whole body (to prepare the redirect it will not follow) with no size cap and no deadline.
    """
    shared = session()
    prepared = shared.prepare_request(requests.Request(method, url, data=data, headers=headers))
    target = str(prepared.url)
    settings = shared.merge_environment_settings(target, {}, None, None, None)
    verify = settings["verify"]
    return shared.get_adapter(target).send(
        prepared,
        stream=True,
        timeout=(timeout, timeout),
        verify=True if verify is None else verify,
        cert=settings["cert"],
        proxies=settings["proxies"],
    )


def _close(resp: Optional[requests.Response]) -> None:
    if resp is not None:
        try:
            resp.close()
        except Exception:  # noqa: S110 - closing a broken connection
            pass
