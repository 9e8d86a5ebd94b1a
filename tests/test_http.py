"""The one HTTP helper, ``cognito_helper.core.http.request``, and the public calls made through it.

No cookies kept; one deadline for the whole call, also over ``https://``, also through a
proxy, and fired on time; ``REQUESTS_CA_BUNDLE`` honoured; the body cap exact; a failed call's
connection closed. Every server is on loopback; TLS uses a certificate made here.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Tuple
from urllib.parse import urlsplit

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from requests.cookies import extract_cookies_to_jar

from cognito_helper import (
    CognitoConfig,
    CognitoConnectionError,
    decode_verify_jwt,
    get_cognito_tokens,
    get_user_info,
)
from cognito_helper.core import http as _http

from .servers import (
    Behaviour,
    Handler,
    ScriptedServer,
    _client_gone,
    closed_port,
    drip,
    respond,
    stream,
)
from .tokens import CLIENT, POOL, KeyPair, claims_for, self_signed_certificate

TIMEOUT = 0.5
SLACK = 1.5  # a loaded 2-core machine; a missing deadline takes many seconds, not this
ON_TIME = 0.5  # how late the watchdog may fire
TOKENS = {
    "id_token": "id.tok.en",
    "access_token": "acc.tok.en",
    "refresh_token": "re.fresh",
    "expires_in": 3600,
    "token_type": "Bearer",
}


@pytest.fixture(autouse=True)
def no_proxy_or_ca_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what a test sets: a proxy or CA bundle of the machine must not change the verdict."""
    for name in list(os.environ):
        if name.lower().endswith("_proxy") or name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
            monkeypatch.delenv(name)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as srv:
        yield srv


def get(url: str, *, timeout: float = TIMEOUT, max_bytes: int = 1 << 20) -> _http.HttpResponse:
    return _http.request("GET", url, what="test endpoint", timeout=timeout, max_bytes=max_bytes)


def timed_error(call: Callable[[], Any]) -> Tuple[BaseException, float]:
    started = time.monotonic()
    with pytest.raises(CognitoConnectionError) as info:
        call()
    return info.value, time.monotonic() - started


def endpoint_config(base_url: str, timeout: float = TIMEOUT) -> CognitoConfig:
    return CognitoConfig(
        user_pool_id=POOL,
        client_id=CLIENT,
        domain=base_url,
        redirect_uri="https://app.example.com/cb",
        timeout=timeout,
    )


def head_drip(every: float, give_up_after: float) -> Behaviour:
    """Send a status line and headers one byte every ``every`` s, for ``give_up_after`` s; then
    the rest at once (a client with no deadline then gets a 200 quickly, and its test fails
    quickly instead of hanging)."""

    def run(h: Handler) -> None:
        head = (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding: "
            + b"x" * 10000
            + b"\r\nContent-Length: 2\r\n\r\n{}"
        )
        end = time.monotonic() + give_up_after
        sent = 0
        try:
            while sent < len(head) and time.monotonic() < end:
                h.wfile.write(head[sent : sent + 1])
                h.wfile.flush()
                sent += 1
                time.sleep(every)
            h.wfile.write(head[sent:])
            h.wfile.flush()
        except OSError:
            pass
        h.close_connection = True

    return run


# -- TLS on loopback ----------------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    cert_pem: str  # a file: the self-signed certificate, which is its own CA
    key_pem: str


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1 (EC P-256: generated in milliseconds)."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = self_signed_certificate(
        key,
        "cognito-helper loopback test",
        (x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False),
        (x509.BasicConstraints(ca=True, path_length=None), True),
        (
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            True,
        ),
        (x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False),
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_pem, key_pem = folder / "cert.pem", folder / "key.pem"
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Certificate(str(cert_pem), str(key_pem))


@contextmanager
def tls_server(certificate: Certificate) -> Iterator[ScriptedServer]:
    """A :class:`ScriptedServer` speaking TLS; its ``https://`` base URL is ``https_url(srv)``."""
    srv = ScriptedServer()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate.cert_pem, certificate.key_pem)
    # The handshake happens on the handler thread's first read, not in the accept loop.
    srv._server.socket = context.wrap_socket(
        srv._server.socket, server_side=True, do_handshake_on_connect=False
    )
    with srv:
        yield srv


def https_url(srv: ScriptedServer) -> str:
    return "https://" + srv.url.split("://", 1)[1]


@pytest.fixture
def trusted(certificate: Certificate, monkeypatch: pytest.MonkeyPatch) -> Certificate:
    """The test certificate trusted through ``REQUESTS_CA_BUNDLE``."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certificate.cert_pem)
    return certificate


class TunnelProxy:
    """A loopback HTTP proxy: answers ``CONNECT host:port`` with 200 and pipes bytes both ways.

    ``reply_every`` > 0 drips the 200 reply one byte every that many seconds, for at most
    ``give_up_after`` seconds (then sends the rest). ``request_lines`` records what it was
    asked.
    """

    def __init__(self, reply_every: float = 0.0, give_up_after: float = 0.0) -> None:
        self.reply_every = reply_every
        self.give_up_after = give_up_after
        self.request_lines: List[str] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> TunnelProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(4096)
            if not chunk:
                conn.close()
                return
            head += chunk
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        self.request_lines.append(line)
        method, target = line.split(" ")[:2]
        if method != "CONNECT":
            conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            conn.close()
            return
        host, port = target.rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)))
        reply = b"HTTP/1.1 200 Connection established\r\nX-Padding: " + b"x" * 200 + b"\r\n\r\n"
        try:
            sent = 0
            if self.reply_every:
                end = time.monotonic() + self.give_up_after
                while sent < len(reply) and time.monotonic() < end:
                    conn.sendall(reply[sent : sent + 1])
                    sent += 1
                    time.sleep(self.reply_every)
            conn.sendall(reply[sent:])
        except OSError:
            conn.close()
            upstream.close()
            return
        threading.Thread(target=_pipe, args=(upstream, conn), daemon=True).start()
        _pipe(conn, upstream)


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    for sock in (source, sink):  # either side gone: the tunnel is over
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


# -- cookies ------------------------------------------------------------------------------


def _sent_cookie(request_headers: Dict[str, str]) -> bool:
    return any(name.lower() == "cookie" for name in request_headers)


def test_a_cookie_set_by_a_server_is_never_sent_on_a_later_call(server: ScriptedServer) -> None:
    server.routes["/first"] = respond(
        200, {}, headers={"Set-Cookie": "sid=abc123; Path=/; Max-Age=3600"}
    )
    server.routes["/second"] = respond(200, {})
    assert get(server.url + "/first").headers["Set-Cookie"].startswith("sid=")
    get(server.url + "/second")
    get(server.url + "/first")
    assert len(server.requests) == 3
    assert not any(_sent_cookie(headers) for _, _, headers, _ in server.requests)
    assert len(_http.session().cookies) == 0


def test_token_endpoint_cookies_are_not_sent_with_the_next_grant_or_user_info(
    server: ScriptedServer,
) -> None:
    cookie = {"Set-Cookie": "XSRF-TOKEN=0f1e2d3c; Path=/; Secure=false"}
    server.routes["/oauth2/token"] = respond(200, TOKENS, headers=cookie)
    server.routes["/oauth2/userInfo"] = respond(200, {"sub": "s"}, headers=cookie)
    config = endpoint_config(server.url)
    get_cognito_tokens("code-1", config=config)
    get_cognito_tokens(refresh_token="re.fresh", config=config)
    get_user_info("acc.tok.en", config=config)
    get_user_info("acc.tok.en", config=config)
    assert len(server.requests) == 4
    assert not any(_sent_cookie(headers) for _, _, headers, _ in server.requests)


def test_the_shared_session_refuses_a_cookie_even_when_one_is_offered_to_it(
    server: ScriptedServer,
) -> None:
    server.routes["/first"] = respond(200, {}, headers={"Set-Cookie": "sid=abc123; Path=/"})
    with requests.Session() as plain:  # an ordinary session, to have a response to offer
        response = plain.get(server.url + "/first", timeout=5)
    assert response.cookies.get("sid") == "abc123"  # an ordinary jar takes it
    jar = _http.session().cookies
    extract_cookies_to_jar(jar, response.request, response.raw)  # type: ignore[no-untyped-call]
    assert len(jar) == 0


# -- the body cap -------------------------------------------------------------------------


def test_a_content_length_equal_to_the_cap_is_accepted(server: ScriptedServer) -> None:
    server.routes["/body"] = respond(200, b"x" * 1000)
    assert get(server.url + "/body", max_bytes=1000).body == b"x" * 1000


def test_a_content_length_one_over_the_cap_is_refused(server: ScriptedServer) -> None:
    server.routes["/body"] = respond(200, b"x" * 1001)
    with pytest.raises(CognitoConnectionError, match="larger than 1000 bytes"):
        get(server.url + "/body", max_bytes=1000)


def test_a_chunked_body_equal_to_the_cap_is_accepted(server: ScriptedServer) -> None:
    server.routes["/body"] = stream(200, b"y" * 100, total=1000)
    assert get(server.url + "/body", max_bytes=1000).body == b"y" * 1000


def test_a_chunked_body_one_over_the_cap_is_refused(server: ScriptedServer) -> None:
    server.routes["/body"] = stream(200, b"y" * 1001, total=1001)
    with pytest.raises(CognitoConnectionError, match="larger than 1000 bytes"):
        get(server.url + "/body", max_bytes=1000)


# -- a failed call's connection -----------------------------------------------------------


def watched(body_head: Callable[[Handler], None], closed: threading.Event) -> Behaviour:
    """Send what ``body_head`` sends, then wait for the client to close the connection."""

    def run(h: Handler) -> None:
        body_head(h)
        h.wfile.flush()
        if _client_gone(h, 5.0):
            closed.set()
        h.close_connection = True

    return run


def _announce_too_much(h: Handler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", "5000")
    h.end_headers()
    h.wfile.write(b"x" * 100)


def _chunks_past_the_cap(h: Handler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    for _ in range(3):
        h.wfile.write(b"258\r\n" + b"x" * 600 + b"\r\n")


def _half_a_body(h: Handler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", "100")
    h.end_headers()
    h.wfile.write(b"x" * 10)  # and nothing more: the deadline ends the call


def pools_for(url: str) -> List[Any]:
    """The shared session's connection pools for the host and port of ``url``."""
    manager = _http.session().get_adapter(url).poolmanager  # type: ignore[attr-defined]
    port = urlsplit(url).port
    return [manager.pools[key] for key in manager.pools.keys() if key.key_port == port]


@pytest.mark.parametrize(
    "body_head",
    [_announce_too_much, _chunks_past_the_cap, _half_a_body],
    ids=["content-length-over-the-cap", "chunked-body-over-the-cap", "body-past-the-deadline"],
)
def test_a_failed_call_closes_its_connection(
    server: ScriptedServer, body_head: Callable[[Handler], None]
) -> None:
    closed = threading.Event()
    server.routes["/fail"] = watched(body_head, closed)
    server.routes["/ok"] = respond(200, {})
    with pytest.raises(CognitoConnectionError):
        get(server.url + "/fail", timeout=0.5, max_bytes=1000)
    assert closed.wait(3.0), "the server still sees the failed call's connection open"
    (pool,) = pools_for(server.url)
    assert pool.pool.qsize() == pool.pool.maxsize, "a connection still checked out"
    assert all(conn is None or conn.sock is None for conn in pool.pool.queue)
    get(server.url + "/ok")
    assert server.connections == 2  # the failed connection was not handed back for reuse


# -- the deadline fires on time -----------------------------------------------------------


@pytest.mark.slow  # waits out a timeout
@pytest.mark.parametrize(
    "behaviour",
    [lambda: head_drip(0.05, give_up_after=5.0), lambda: drip(100000, 0.05)],
    ids=["status-line-and-headers-dripped", "body-dripped"],
)
def test_the_deadline_ends_a_dripping_answer_on_time(
    server: ScriptedServer, behaviour: Callable[[], Behaviour]
) -> None:
    server.routes["/drip"] = behaviour()
    error, elapsed = timed_error(lambda: get(server.url + "/drip", timeout=1.0))
    assert "did not answer within 1 s" in str(error)
    assert 1.0 <= elapsed < 1.0 + ON_TIME, f"took {elapsed:.3f} s"


@pytest.mark.slow  # waits out a timeout
def test_a_token_exchange_ends_at_its_configured_timeout(server: ScriptedServer) -> None:
    server.routes["/oauth2/token"] = head_drip(0.05, give_up_after=5.0)
    config = endpoint_config(server.url, timeout=1.0)
    error, elapsed = timed_error(lambda: get_cognito_tokens("code-1", config=config))
    assert "did not answer within 1 s" in str(error)
    assert 1.0 <= elapsed < 1.0 + ON_TIME, f"took {elapsed:.3f} s"


# -- https:// -----------------------------------------------------------------------------


def test_requests_ca_bundle_is_honoured(
    certificate: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    with tls_server(certificate) as srv:
        srv.routes["/x"] = respond(200, {"ok": True})
        with pytest.raises(CognitoConnectionError, match="could not reach"):
            get(https_url(srv) + "/x")  # the certificate is not trusted by default
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", certificate.cert_pem)
        response = get(https_url(srv) + "/x")
        assert (response.status, response.body) == (200, b'{"ok": true}')
        assert len(srv.requests) == 1  # the untrusted server was told nothing


def test_a_jwks_over_https_is_fetched_with_the_ca_bundle(
    trusted: Certificate, key_pairs: List[KeyPair]
) -> None:
    key = key_pairs[0]
    with tls_server(trusted) as srv:
        base = https_url(srv)
        srv.routes[f"/{POOL}/.well-known/jwks.json"] = respond(200, {"keys": [key.jwk()]})
        config = CognitoConfig(
            user_pool_id=POOL,
            client_id=CLIENT,
            issuer=f"{base}/{POOL}",
            jwks_url=f"{base}/{POOL}/.well-known/jwks.json",
            timeout=2.0,
        )
        token = key.token(claims_for("id", f"{base}/{POOL}"))
        assert decode_verify_jwt(token, config=config)["aud"] == CLIENT


@pytest.mark.slow  # waits out a timeout
def test_the_https_adapter_has_the_whole_call_deadline(trusted: Certificate) -> None:
    with tls_server(trusted) as srv:
        srv.routes["/drip"] = head_drip(0.2, give_up_after=TIMEOUT + 3)
        error, elapsed = timed_error(lambda: get(https_url(srv) + "/drip"))
        assert "did not answer within" in str(error)
        assert TIMEOUT <= elapsed < TIMEOUT + SLACK, f"took {elapsed:.2f} s"
        assert srv.count("/drip") == 1


@pytest.mark.slow  # waits out a timeout
def test_a_user_info_call_over_https_has_the_whole_call_deadline(trusted: Certificate) -> None:
    with tls_server(trusted) as srv:
        srv.routes["/oauth2/userInfo"] = head_drip(0.2, give_up_after=TIMEOUT + 3)
        config = endpoint_config(https_url(srv))
        error, elapsed = timed_error(lambda: get_user_info("acc.tok.en", config=config))
        assert "did not answer within" in str(error)
        assert elapsed < TIMEOUT + SLACK, f"took {elapsed:.2f} s"


# -- through a proxy ----------------------------------------------------------------------


@pytest.mark.slow  # waits out a timeout
def test_the_deadline_holds_through_an_https_proxy_tunnel(
    trusted: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    with tls_server(trusted) as srv, TunnelProxy() as proxy:
        srv.routes["/drip"] = head_drip(0.2, give_up_after=TIMEOUT + 3)
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        error, elapsed = timed_error(lambda: get(https_url(srv) + "/drip"))
        assert "did not answer within" in str(error)
        assert elapsed < TIMEOUT + SLACK, f"took {elapsed:.2f} s"
        host_port = srv.url.split("://", 1)[1]
        assert proxy.request_lines and proxy.request_lines[0].startswith(f"CONNECT {host_port} ")
        assert srv.count("/drip") == 1  # it went through the tunnel


def test_an_https_call_through_a_proxy_tunnel_succeeds(
    trusted: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    with tls_server(trusted) as srv, TunnelProxy() as proxy:
        srv.routes["/x"] = respond(200, {"ok": True})
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        assert get(https_url(srv) + "/x").body == b'{"ok": true}'
        assert len(proxy.request_lines) == 1


@pytest.mark.slow  # waits out a timeout
def test_the_deadline_holds_while_a_proxy_drips_its_connect_reply(
    trusted: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    with tls_server(trusted) as srv, TunnelProxy(0.2, give_up_after=TIMEOUT + 2) as proxy:
        srv.routes["/x"] = respond(200, {"ok": True})
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        _, elapsed = timed_error(lambda: get(https_url(srv) + "/x"))
        assert elapsed < TIMEOUT + SLACK, f"took {elapsed:.2f} s"
        assert proxy.request_lines


@pytest.mark.slow  # waits out a timeout
def test_the_deadline_holds_through_a_slow_plain_http_proxy(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = f"http://127.0.0.1:{closed_port()}/x"  # reachable only through the proxy
    proxy = server
    proxy.routes[target] = head_drip(0.2, give_up_after=TIMEOUT + 3)  # the absolute-form target
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    error, elapsed = timed_error(lambda: get(target))
    assert "did not answer within" in str(error)
    assert elapsed < TIMEOUT + SLACK, f"took {elapsed:.2f} s"
    assert [r[1] for r in proxy.requests] == [target]
