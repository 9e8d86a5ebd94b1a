"""Coverage-guided fuzzing of ``decode_verify_jwt`` (atheris / libFuzzer).

    pip install -e ".[fuzz]"
    python fuzz/fuzz_verify.py -max_total_time=300 fuzz/corpus/verify

The first input byte picks a mode:

0. the rest is the token text itself (decoded as Latin-1, so any byte can appear);
1. the rest is ``header JSON \\0 payload JSON [\\0 signature bytes]``, base64url-encoded by the
   target and carrying a valid signature of a real token when none is given (the JSON parsers
   and header checks see arbitrary bytes);
2. the rest is ``header JSON \\0 payload JSON``, signed with the pool's real key (the claim
   checks of stage 5 see arbitrary signed claim sets; the second byte picks the options).

Oracle, all modes: only :class:`TokenVerificationError` subclasses may be raised, and
``decode_unverified`` raises only :class:`MalformedTokenError`. Modes 0 and 1: a token verifies
only if it is, character for character, one of the valid seed tokens. Mode 2: a token that
verifies satisfies every documented claim rule, and the returned claims are its payload.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import sys
import time
from typing import Any, Dict, List, Optional, Tuple

import atheris

with atheris.instrument_imports(include=["cognito_helper"]):
    from cognito_helper import (
        CognitoConfig,
        MalformedTokenError,
        TokenVerificationError,
        decode_unverified,
        decode_verify_jwt,
        jwks_cache,
    )

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common

JWKS_URL = common.serve_jwks()
ISSUER = common.issuer_for(JWKS_URL)
CONFIG = CognitoConfig(
    user_pool_id=common.POOL,
    client_id=common.CLIENT,
    issuer=ISSUER,
    jwks_url=JWKS_URL,
    timeout=5,
)
# A fuzzer makes up kids all day: one refetch, then never again (no endpoint flooding, and
# every unknown kid is answered from the cache).
jwks_cache(JWKS_URL, timeout=5).cooldown = 1e9
VALID = common.valid_tokens(ISSUER)
NONCE = "n-0S6_WzA2Mj"
ACCESS = VALID[1]


def _decoded(token: str) -> Optional[Tuple[str, str, bytes]]:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        sig = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
    except Exception:
        return None
    return parts[0], parts[1], sig


def _options(selector: int) -> Dict[str, Any]:
    options: Dict[str, Any] = {}
    use = selector % 3
    if use:
        options["token_use"] = "id" if use == 1 else "access"
    if selector & 4:
        options["nonce"] = NONCE
    if selector & 8:
        options["groups"] = ["admin"]
    if selector & 16:
        options["scopes"] = ["orders/read"]
    if selector & 32:
        options["access_token"] = ACCESS
    if selector & 64:
        options["leeway"] = 30
    return options


def _at_hash(access_token: str) -> str:
    return common.b64(hashlib.sha256(access_token.encode()).digest()[:16])


def _number(value: Any) -> bool:
    return type(value) is int or (type(value) is float and math.isfinite(value))


def _check_signed_claims(claims: Dict[str, Any], payload: bytes, options: Dict[str, Any]) -> None:
    """Every rule ``decode_verify_jwt`` documents, restated independently."""
    now = time.time()
    leeway = options.get("leeway", 0)
    assert claims == json.loads(payload), "the claims returned are not the token's payload"
    assert _number(claims.get("exp")) and now < claims["exp"] + leeway, "expired token verified"
    assert _number(claims.get("iat")) and claims["iat"] <= now + leeway + 300, "future iat"
    if "nbf" in claims:
        assert _number(claims["nbf"]) and claims["nbf"] <= now + leeway, "nbf in the future"
    assert claims.get("iss") == ISSUER, "foreign issuer verified"
    use = claims.get("token_use")
    assert use in ("id", "access"), "unknown token_use verified"
    assert options.get("token_use") in (None, use), "token_use swap verified"
    audience = "aud" if use == "id" else "client_id"
    assert claims.get(audience) == common.CLIENT, "another client's token verified"
    assert type(claims.get("sub")) is str, "token without a sub verified"
    if "auth_time" in claims:
        assert _number(claims["auth_time"]), "non-numeric auth_time verified"
    if "nonce" in options:
        assert use == "id" and claims.get("nonce") == NONCE, "wrong nonce verified"
    if "access_token" in options and "at_hash" in claims:
        assert claims["at_hash"] == _at_hash(ACCESS), "wrong at_hash verified"
    if "groups" in options:
        groups = claims.get("cognito:groups")
        assert isinstance(groups, list) and "admin" in groups, "group check bypassed"
        assert all(type(g) is str for g in groups), "non-string group verified"
    if "scopes" in options:
        scope = claims.get("scope")
        assert type(scope) is str and "orders/read" in scope.split(), "scope check bypassed"


def _split(data: bytes, parts: int) -> List[bytes]:
    pieces = data.split(b"\0", parts - 1)
    return pieces + [b""] * (parts - len(pieces))


def TestOneInput(data: bytes) -> None:  # noqa: N802 - atheris' naming
    if not data:
        return
    mode, rest = data[0] % 3, data[1:]
    options: Dict[str, Any] = {}
    payload = b""
    if mode == 0:
        token = rest.decode("latin-1")
    elif mode == 1:
        head, payload, sig = _split(rest, 3)
        signature = sig or _decoded(VALID[0])[2]  # type: ignore[index]
        token = f"{common.b64(head)}.{common.b64(payload)}.{common.b64(signature)}"
    else:
        if not rest:
            return
        options = _options(rest[0])
        head, payload = _split(rest[1:], 2)
        signing_input = f"{common.b64(head)}.{common.b64(payload)}"
        token = f"{signing_input}.{common.b64(common.sign(signing_input.encode()))}"

    try:
        decode_unverified(token)
    except MalformedTokenError:
        pass

    try:
        claims = decode_verify_jwt(token, config=CONFIG, **options)
    except TokenVerificationError:
        return
    if mode == 2:
        _check_signed_claims(claims, payload, options)
    else:
        assert token in VALID, f"a token that is not a valid seed verified: {token!r}"


def _seeds() -> List[bytes]:
    seeds = [b"\0" + t.encode() for t in VALID]
    for token in VALID:
        head, payload, _ = token.split(".")
        h = base64.urlsafe_b64decode(head + "==")
        p = base64.urlsafe_b64decode(payload + "==")
        seeds.append(b"\1" + h + b"\0" + p)
        for selector in (0, 1, 2, 4 | 1, 8, 16 | 2, 32 | 1, 64):
            seeds.append(b"\2" + bytes([selector]) + h + b"\0" + p)
    return seeds


if __name__ == "__main__":
    corpus = next((a for a in sys.argv[1:] if not a.startswith("-")), None)
    common.write_seeds(corpus, _seeds())
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
