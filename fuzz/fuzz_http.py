"""Coverage-guided fuzzing of the HTTP layer with raw server answers (atheris / libFuzzer).

    pip install -e ".[fuzz]"
    python fuzz/fuzz_http.py -max_total_time=300 fuzz/corpus/http

A loopback server answers each request with the fuzz input as raw bytes (status line,
headers, body: anything) and closes the connection. The input's first byte picks the call:
a confidential client's code exchange (``get_cognito_tokens``) or a JWKS fetch through a fresh
cache. Oracle: only the documented error types come out (``CognitoConnectionError``,
``TokenExchangeError``/``InvalidGrantError``; for the JWKS ``CognitoConnectionError`` or
``UnknownKeyError``), within the configured timeout, and no error shows the client secret,
the code or the Basic credentials.
"""

from __future__ import annotations

import os
import socketserver
import sys
import time
from typing import List

import atheris

with atheris.instrument_imports(include=["cognito_helper", "urllib3", "requests", "http"]):
    from cognito_helper import (
        CognitoConfig,
        CognitoConnectionError,
        JwksCache,
        TokenExchangeError,
        UnknownKeyError,
        get_cognito_tokens,
    )
    from cognito_helper.oauth.endpoints import client_authentication

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common

from cognito_helper.testing.server import LoopbackServer

TIMEOUT = 0.5
SECRET = "1fuzzsecret2abcdefghijklmnopqrstuvwxyz3456789abcd"
CODE = "4f6f1e6e-5a0e-4b53-9a43-2c1f0f7b6a11"


class _RawAnswer(socketserver.BaseRequestHandler):
    """Reads a request's head, answers with ``SERVER.answer`` byte for byte, and closes."""

    def handle(self) -> None:
        self.request.settimeout(2)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.request.recv(65536)
            if not chunk:
                break
            head += chunk
        self.request.sendall(SERVER.answer)


class _RawServer:
    """Answers every request on a connection with ``self.answer`` and closes it."""

    def __init__(self) -> None:
        self.answer = b""
        self._server = LoopbackServer(_RawAnswer, name="fuzz raw HTTP").start()

    @property
    def url(self) -> str:
        return self._server.url


SERVER = _RawServer()
CONFIG = CognitoConfig(
    user_pool_id=common.POOL,
    client_id=common.CLIENT,
    client_secret=SECRET,
    domain=SERVER.url,
    redirect_uri="https://app.example.com/cb",
    timeout=TIMEOUT,
)
BASIC = client_authentication(CONFIG).headers["Authorization"]
SECRETS = [SECRET, CODE, BASIC.split(" ", 1)[1]]


def TestOneInput(data: bytes) -> None:  # noqa: N802 - atheris' naming
    if not data:
        return
    SERVER.answer = data[1:]
    started = time.monotonic()
    if data[0] % 2 == 0:
        try:
            get_cognito_tokens(CODE, config=CONFIG)
        except (CognitoConnectionError, TokenExchangeError) as exc:
            for text in (str(exc), repr(exc), str(getattr(exc, "description", ""))):
                assert not [s for s in SECRETS if s in text], f"a secret leaked: {text!r}"
    else:
        cache = JwksCache(SERVER.url + "/jwks.json", timeout=TIMEOUT)
        try:
            cache.get_key(common.KID)
        except (CognitoConnectionError, UnknownKeyError):
            pass
    elapsed = time.monotonic() - started
    assert elapsed < TIMEOUT + 1.0, f"the call took {elapsed:.2f} s (timeout {TIMEOUT} s)"


def _seeds() -> List[bytes]:
    def answer(status: str, body: bytes, *headers: str) -> bytes:
        head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *headers]
        return ("\r\n".join(head) + "\r\n\r\n").encode() + body

    token_body = (
        b'{"id_token":"a.b.c","access_token":"d.e.f","refresh_token":"g",'
        b'"expires_in":3600,"token_type":"Bearer"}'
    )
    return [
        b"\0" + answer("200 OK", token_body, "Content-Type: application/json"),
        b"\0" + answer("400 Bad Request", b'{"error":"invalid_grant"}'),
        b"\0" + answer("302 Found", b"", "Location: http://127.0.0.1:1/"),
        b"\0"
        + answer("200 OK", b"", "Transfer-Encoding: chunked")[:-2]
        + b"5\r\nhello\r\n0\r\n\r\n",
        b"\0" + answer("200 OK", b"x", "Content-Encoding: gzip"),
        b"\1" + answer("200 OK", common.JWKS_BODY, "Content-Type: application/json"),
        b"\1" + answer("500 Internal Server Error", b"<html>"),
    ]


if __name__ == "__main__":
    corpus = next((a for a in sys.argv[1:] if not a.startswith("-")), None)
    common.write_seeds(corpus, _seeds())
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
