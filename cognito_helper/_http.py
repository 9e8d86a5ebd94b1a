"""The one HTTP session helper: every call to Cognito goes through :func:`request`.

Guarantees: one process-wide ``requests.Session`` (keep-alive, so sequential grants reuse one
connection), redirects never followed, no automatic retries (an authorization code is
single-use), no cookies kept, a deadline that bounds connect and body read together, and a
cap on the body size. Every network failure becomes :class:`CognitoConnectionError` whose
message names the endpoint but never a body, a header value or a query string.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from typing import Any, Dict, List, Mapping, Optional

import requests
import urllib3
from requests.adapters import HTTPAdapter

from ._version import __version__
from .errors import CognitoConnectionError

__all__ = ["HttpResponse", "request", "session"]

log = logging.getLogger("cognito_helper")

_session: Optional[requests.Session] = None
_session_lock = threading.Lock()


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
            adapter = HTTPAdapter(pool_connections=8, pool_maxsize=32, max_retries=0)
            new.mount("https://", adapter)
            new.mount("http://", adapter)
            new.cookies.set_policy(_NoCookies())
            new.headers["User-Agent"] = f"cognito-helper/{__version__}"
            new.headers["Accept"] = "application/json"
            _session = new
        return _session


@dataclass(frozen=True)
class HttpResponse:
    """A fully read response: status, headers and at most ``max_bytes`` of body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


def _read_body(resp: requests.Response, deadline: float, max_bytes: int) -> bytes:
    raw: Any = resp.raw
    length = resp.headers.get("Content-Length")
    if length is not None and length.isdigit() and int(length) > max_bytes:
        raise _TooLargeError()
    chunks: List[bytes] = []
    total = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _DeadlineError()
        # Bound each read by what is left of the deadline, so a slow drip cannot outlast it.
        sock = getattr(getattr(raw, "connection", None), "sock", None)
        if sock is not None:
            sock.settimeout(remaining)
        chunk = (
            raw.read1(65536, decode_content=True)
            if hasattr(raw, "read1")
            else raw.read(65536, decode_content=True)
        )
        if not chunk:
            break
        total += len(chunk)
        if total > max_bytes:
            raise _TooLargeError()
        chunks.append(chunk)
    release = getattr(raw, "release_conn", None)
    if release is not None:
        release()  # the body is fully read: hand the connection back for keep-alive
    return b"".join(chunks)


class _TooLargeError(Exception):
    pass


class _DeadlineError(Exception):
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
    try:
        resp = session().request(
            method,
            url,
            data=data,
            headers=headers,
            timeout=(timeout, timeout),
            allow_redirects=False,
            stream=True,
        )
        body = _read_body(resp, deadline, max_bytes)
    except _TooLargeError:
        _close(resp)
        raise CognitoConnectionError(
            f"Cognito {what} response is larger than {max_bytes} bytes; refused"
        ) from None
    except _DeadlineError:
        _close(resp)
        raise CognitoConnectionError(
            f"Cognito {what} did not answer within {timeout:g} s"
        ) from None
    except (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError) as exc:
        _close(resp)
        raise CognitoConnectionError(
            f"Cognito {what} did not answer within {timeout:g} s ({type(exc).__name__})"
        ) from None
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        _close(resp)
        raise CognitoConnectionError(
            f"could not reach the Cognito {what} ({type(exc).__name__})"
        ) from None
    log.debug(
        "%s %s: HTTP %d, %d bytes in %.1f ms",
        method,
        what,
        resp.status_code,
        len(body),
        (time.perf_counter() - started) * 1000,
    )
    return HttpResponse(status=resp.status_code, headers=resp.headers, body=body)


def _close(resp: Optional[requests.Response]) -> None:
    if resp is not None:
        try:
            resp.close()
        except Exception:  # noqa: S110 - closing a broken connection
            pass
