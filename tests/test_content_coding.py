"""Content codings: what the library asks for, what it decodes, and the bombs it refuses.

The library sends ``Accept-Encoding: identity``, decodes at most one ``gzip`` layer itself
with a bounded decompressor, and refuses any other coding and any stack of codings, whatever
urllib3 version is installed (urllib3 before 2.6 inflates every layer at once).
"""

from __future__ import annotations

import gzip
import json
import time
import tracemalloc
import zlib
from typing import Iterator

import pytest

from cognito_helper import CognitoConnectionError
from cognito_helper.core import http as _http

from .servers import ScriptedServer, respond

TIMEOUT = 2.0
SLACK = 1.5
CAP = 1 << 20
GiB = 1 << 30


def _gzip_zeros(size: int) -> bytes:
    """One gzip layer holding ``size`` zero bytes, built a MiB at a time."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    out = [packer.compress(block) for _ in range(size >> 20)]
    out.append(packer.flush())
    return b"".join(out)


@pytest.fixture(scope="module")
def one_gib_gzip() -> bytes:
    """About 1 MB of gzip that inflates to 1 GiB."""
    return _gzip_zeros(GiB)


@pytest.fixture()
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as srv:
        yield srv


def _fetch(server: ScriptedServer, body: bytes, coding: str) -> bytes:
    server.routes["/doc"] = respond(200, body, headers={"Content-Encoding": coding})
    return _http.request(
        "GET", server.url + "/doc", what="JWKS", timeout=TIMEOUT, max_bytes=CAP
    ).body


def _refused_quickly_and_small(server: ScriptedServer, body: bytes, coding: str) -> str:
    tracemalloc.start()
    try:
        started = time.monotonic()
        with pytest.raises(CognitoConnectionError) as caught:
            _fetch(server, body, coding)
        elapsed = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < TIMEOUT + SLACK
    assert peak < 16 * CAP, f"{peak} bytes allocated while refusing the body"
    return str(caught.value)


def test_every_request_asks_for_the_identity_coding(server: ScriptedServer) -> None:
    server.routes["/doc"] = respond(200, {"keys": []})
    _http.request("GET", server.url + "/doc", what="JWKS", timeout=TIMEOUT)
    _http.request("POST", server.url + "/doc", what="token endpoint", timeout=TIMEOUT, data={})
    assert [r[2].get("Accept-Encoding") for r in server.requests] == ["identity", "identity"]


def test_one_gzip_layer_is_decoded(server: ScriptedServer) -> None:
    doc = json.dumps({"keys": [{"kid": "k" * 40}] * 50}).encode()
    assert _fetch(server, gzip.compress(doc), "gzip") == doc


def test_identity_is_passed_through(server: ScriptedServer) -> None:
    assert _fetch(server, b'{"a": 1}', "identity") == b'{"a": 1}'


@pytest.mark.slow  # one_gib_gzip compresses a GiB: seconds of CPU
def test_one_gzip_layer_that_inflates_past_the_cap_is_refused(
    server: ScriptedServer, one_gib_gzip: bytes
) -> None:
    message = _refused_quickly_and_small(server, one_gib_gzip, "gzip")
    assert f"larger than {CAP} bytes" in message


def test_a_gzip_body_inflating_to_exactly_the_cap_is_accepted(server: ScriptedServer) -> None:
    assert len(_fetch(server, _gzip_zeros(CAP), "gzip")) == CAP


@pytest.mark.slow  # one_gib_gzip compresses a GiB: seconds of CPU
@pytest.mark.parametrize("layers", [2, 3])
def test_stacked_gzip_layers_inflating_to_a_gib_are_refused(
    server: ScriptedServer, one_gib_gzip: bytes, layers: int
) -> None:
    body = one_gib_gzip
    for _ in range(layers - 1):
        body = gzip.compress(body)
    message = _refused_quickly_and_small(server, body, ", ".join(["gzip"] * layers))
    assert f"stacked content codings ({layers} layers)" in message


@pytest.mark.parametrize("layers", [2, 3])
def test_stacked_gzip_layers_are_refused_even_when_small(
    server: ScriptedServer, layers: int
) -> None:
    body = b'{"keys": []}'
    for _ in range(layers):
        body = gzip.compress(body)
    with pytest.raises(CognitoConnectionError, match="stacked content codings"):
        _fetch(server, body, ",".join(["gzip"] * layers))


@pytest.mark.parametrize("coding", ["deflate", "br", "zstd", "compress", "x-unknown"])
def test_other_codings_are_refused(server: ScriptedServer, coding: str) -> None:
    with pytest.raises(CognitoConnectionError, match="content coding"):
        _fetch(server, zlib.compress(b'{"keys": []}'), coding)


def test_a_corrupt_gzip_body_is_refused(server: ScriptedServer) -> None:
    with pytest.raises(CognitoConnectionError, match="corrupt"):
        _fetch(server, b"\x1f\x8b\x08\x00garbage-not-deflate", "gzip")


@pytest.mark.parametrize(
    "body",
    [gzip.compress(b'{"keys": []}')[:-6], gzip.compress(b'{"keys": []}') + b"trailing"],
    ids=["truncated", "trailing-data"],
)
def test_a_gzip_body_that_does_not_end_with_the_stream_is_refused(
    server: ScriptedServer, body: bytes
) -> None:
    with pytest.raises(CognitoConnectionError, match="truncated or has trailing data"):
        _fetch(server, body, "gzip")
