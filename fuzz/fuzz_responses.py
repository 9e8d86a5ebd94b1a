"""Coverage-guided fuzzing of what Cognito's answers are turned into (atheris / libFuzzer).

    pip install -e ".[fuzz]"
    python fuzz/fuzz_responses.py -max_total_time=300 fuzz/corpus/responses

The first input byte picks a mode:

0. the rest is a JWKS response body: the cache either installs usable RS256 keys of at least
   2048 bits or refuses the document with the error it turns into a ``CognitoConnectionError``;
1. the rest is ``status byte, WWW-Authenticate \\0 body`` of a token-endpoint answer to a
   confidential client's code exchange: the result is a well-typed ``Tokens`` or a
   ``TokenExchangeError``/``InvalidGrantError``/``CognitoConnectionError`` whose message,
   description and error code contain neither the client secret, the code, the verifier nor
   the Basic header value (a server that echoes them must not make them leak);
2. as 1, for a userInfo answer: a dict or one of those errors, never echoing the access token.

These call the functions that turn an answer into a result directly (no socket), so the fuzzer
runs at full speed: those of the token-endpoint module (``cognito_helper.oauth.endpoints``:
``_raise_for_error``, ``_tokens_from``, ``_json_body``) and of the JWKS module
(``cognito_helper.verification.jwks._parse_jwks``); no public function takes an answer without
a request. ``fuzz_http.py`` covers the HTTP layer itself, through the public functions.
``tests/test_fuzz_targets.py`` runs each target's seeds, so a change to these functions that
breaks a target fails the tests.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Dict, List

import atheris

with atheris.instrument_imports(include=["cognito_helper"]):
    from cognito_helper import (
        CognitoConfig,
        CognitoConnectionError,
        TokenExchangeError,
        Tokens,
    )
    from cognito_helper.core import http as _http
    from cognito_helper.oauth import endpoints
    from cognito_helper.verification.jwks import _parse_jwks

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common

SECRET = "1fuzzsecret2abcdefghijklmnopqrstuvwxyz3456789abcd"
CODE = "4f6f1e6e-5a0e-4b53-9a43-2c1f0f7b6a11"
VERIFIER = "Vv" * 30
ACCESS = "eyJraWQiOiJmdXp6In0.eyJzdWIiOiJmdXp6In0.c2lnbmF0dXJl"
CONFIG = CognitoConfig(
    user_pool_id=common.POOL,
    client_id=common.CLIENT,
    client_secret=SECRET,
    domain="https://auth.example.com",
    redirect_uri="https://app.example.com/cb",
)
BASIC = endpoints.client_authentication(CONFIG).headers["Authorization"]
BASIC_CREDENTIALS = BASIC.split(" ", 1)[1]
SECRETS = [SECRET, CODE, VERIFIER, BASIC_CREDENTIALS]
STATUSES = [200, 200, 200, 400, 400, 401, 403, 404, 302, 307, 500, 503, 204, 299, 399, 600]


def _fuzz_jwks(body: bytes) -> None:
    try:
        doc = json.loads(body)
        keys, unusable = _parse_jwks(doc, {})
    except (ValueError, RecursionError):
        return  # the cache turns these into CognitoConnectionError
    assert keys, "an empty key set was accepted"
    for kid, key in keys.items():
        assert type(kid) is str and kid and key.kid == kid
        assert key.jose_key.prepared_key.key_size >= 2048, "a weak key was accepted"
    assert all(type(reason) is str for reason in unusable.values())


def _leaks(text: str, secrets: List[str]) -> List[str]:
    return [s for s in secrets if s in text]


def _check_error(exc: Exception, secrets: List[str]) -> None:
    shown = [str(exc), repr(exc)]
    if isinstance(exc, TokenExchangeError):
        shown += [str(exc.error), str(exc.description)]
    for text in shown:
        assert not _leaks(text, secrets), f"an error shows a secret: {text!r}"


def _response(data: bytes) -> _http.HttpResponse:
    status = STATUSES[data[0] % len(STATUSES)] if data else 200
    www, _, body = data[1:].partition(b"\0")
    headers: Dict[str, str] = {}
    if www:
        headers["WWW-Authenticate"] = www.decode("latin-1")
    return _http.HttpResponse(status=status, headers=headers, body=body)


def _fuzz_token_endpoint(data: bytes) -> None:
    resp = _response(data)
    try:
        endpoints._raise_for_error(resp, "token endpoint", [CODE, VERIFIER, SECRET, BASIC])
        tokens = endpoints._tokens_from(resp, refresh_token=None)
    except (TokenExchangeError, CognitoConnectionError) as exc:
        _check_error(exc, SECRETS)
        return
    assert 200 <= resp.status < 300
    assert isinstance(tokens, Tokens)
    assert type(tokens.access_token) is str and type(tokens.expires_in) is int
    assert tokens.id_token is None or type(tokens.id_token) is str
    shown = repr(tokens)
    assert "access_token='***'" in shown, "repr(Tokens) shows the access token"
    assert tokens.id_token is None or "id_token='***'" in shown, "repr(Tokens) shows a token"


def _fuzz_userinfo(data: bytes) -> None:
    resp = _response(data)
    try:
        endpoints._raise_for_error(resp, "userInfo endpoint", [ACCESS])
        info = endpoints._json_body(resp, "userInfo endpoint")
    except (TokenExchangeError, CognitoConnectionError) as exc:
        _check_error(exc, [ACCESS])
        return
    assert isinstance(info, dict)


def TestOneInput(data: bytes) -> None:  # noqa: N802 - atheris' naming
    if not data:
        return
    mode, rest = data[0] % 3, data[1:]
    if mode == 0:
        _fuzz_jwks(rest)
    elif mode == 1:
        _fuzz_token_endpoint(rest)
    else:
        _fuzz_userinfo(rest)


def _seeds() -> List[bytes]:
    good: Dict[str, Any] = {
        "id_token": "a.b.c",
        "access_token": "d.e.f",
        "refresh_token": "g.h.i.j.k",
        "expires_in": 3600,
        "token_type": "Bearer",
    }
    bodies = [
        json.dumps(good).encode(),
        b'{"error":"invalid_grant","error_description":"code ' + CODE.encode() + b' used"}',
        b'{"error":"invalid_client","error_description":"secret ' + SECRET.encode() + b'"}',
        b'{"error":"' + SECRET.encode() + b'"}',
        b'{"error":"invalid_client","error_description":"' + BASIC_CREDENTIALS.encode() + b'"}',
        b'{"error":"invalid_request","error_description":"verifier ' + VERIFIER.encode() + b'"}',
        b"<html>oops</html>",
        b"[" * 50,
    ]
    seeds = [
        b"\0" + common.JWKS_BODY,
        b'\0{"keys":[{"kty":"RSA","kid":"k","n":"AQAB","e":"AQAB"}]}',
    ]
    for status_index in (0, 3, 5, 10):
        for body in bodies:
            seeds.append(b"\1" + bytes([status_index]) + b"\0" + body)
    seeds.append(b"\1\5" + b'Bearer error="invalid_token"\0')
    seeds.append(b"\2\0\0" + json.dumps({"sub": "x", "email": "a@b.c"}).encode())
    seeds.append(b"\2\5" + b'Bearer error="' + ACCESS.encode() + b'"\0')
    seeds.append(b"\2\3\0" + json.dumps({"error": "x", "error_description": ACCESS}).encode())
    return seeds


if __name__ == "__main__":
    corpus = next((a for a in sys.argv[1:] if not a.startswith("-")), None)
    common.write_seeds(corpus, _seeds())
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
