"""How fast cognito_helper verifies an Application Load Balancer's ``x-amzn-oidc-data`` JWT.

    python benchmarks/bench_alb.py [--rounds N]

No network beyond loopback: the tokens are minted by ``cognito_helper.testing.LocalALB`` (ES256,
P-256, segments padded as the ALB pads them, a userInfo-shaped payload for one of ``USERS``
users), whose key endpoint the verifier fetches the key from once, before timing starts.

* floor: split, base64url-decode (padded) and ``json.loads`` header and payload, the ES256
  verification with ``cryptography`` on a pre-loaded public key (the JOSE ``r || s`` turned
  into DER first, as any verifier must), and the ``exp`` comparison. Nothing else: no check of
  ``alg``, ``kid``, ``signer``, ``client``, ``iss``, no claim types.
* ``verify_alb_jwt``: (a) distinct tokens, each seen once; (b) the same token again and again
  (answered by the verification memo); (c) ``verify_alb_request`` on distinct tokens (the
  three headers in a dict, the identity compared; no access token verification).

Timing: round by round, each case runs between two runs of the floor, each on tokens nobody
has seen yet; a case's "x floor" is the median over the rounds of its time divided by the mean
of the two floor runs around it, so machine drift cancels. As on a server, where each request's
header is a new ``str``, every call gets a new string object. No targets were set: the figures
are reported, not judged.
"""

from __future__ import annotations

import argparse
import base64
import functools
import json
import os
import platform
import statistics
import sys
import time
from typing import Any, Callable, Dict, List, Sequence, Tuple

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")  # everything here is loopback

from _results import publish  # benchmarks/, on sys.path when run as a script
from bench_verify import cpu_line
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import load_pem_public_key

import cognito_helper
from cognito_helper import verify_alb_jwt, verify_alb_request  # any tree's public path
from cognito_helper.testing import LocalALB

ROUNDS = 60
BATCH = 40  # fresh tokens per floor run and per distinct-token case, each round
SAME_PER_ROUND = 2000
USERS = 64


def fresh(text: str) -> str:
    """The same text in a new str object, as a server receives a header on each request."""
    return text.encode("ascii").decode("ascii")


def make_tokens(alb: LocalALB, count: int, start: int) -> List[str]:
    return [
        alb.mint(
            claims={
                "sub": f"{(start + i) % USERS:08d}-1111-2222-3333-444455556666",
                "email_verified": "true",
                "email": f"user{(start + i) % USERS}@example.com",
                "username": f"user{(start + i) % USERS}",
                "jti": f"{start + i}",  # every token distinct, as every sign-in's is
            }
        )
        for i in range(count)
    ]


def floor_verifier(public_pem: bytes) -> Callable[[str], Dict[str, Any]]:
    key = load_pem_public_key(public_pem)
    assert isinstance(key, ec.EllipticCurvePublicKey)
    ecdsa = ec.ECDSA(hashes.SHA256())
    b64 = base64.urlsafe_b64decode
    loads = json.loads
    now = time.time

    def verify(token: str) -> Dict[str, Any]:
        head, body, sig = token.split(".")
        loads(b64(head))
        claims: Dict[str, Any] = loads(b64(body))
        raw = b64(sig)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        key.verify(der, f"{head}.{body}".encode(), ecdsa)
        if now() >= claims["exp"]:
            raise ValueError("expired")
        return claims

    return verify


def timed(verify: Callable[[Any], Any], inputs: Sequence[Any]) -> float:
    """Seconds per call of ``verify`` on each of ``inputs`` in turn."""
    start = time.perf_counter()
    for item in inputs:
        verify(item)
    return (time.perf_counter() - start) / len(inputs)


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--results", metavar="FILE", help="also write the report into FILE")
    args = parser.parse_args(argv)

    with LocalALB(token_lifetime=3600) as alb:
        options = alb.verify_options
        floor = floor_verifier(alb.public_pem())
        verify_alb_jwt(alb.mint(), **options)  # the key is fetched once, before timing
        same = alb.mint("someone")
        verify_alb_jwt(same, **options)
        serial = 0

        def batch() -> List[str]:
            nonlocal serial
            serial += BATCH
            return make_tokens(alb, BATCH, serial)

        names = ["floor", "(a) distinct", "(b) same token", "(c) request, distinct"]
        per_call: Dict[str, List[float]] = {name: [] for name in names}
        ratios: Dict[str, List[float]] = {name: [] for name in names[1:]}

        jwt = functools.partial(verify_alb_jwt, **options)
        request = functools.partial(verify_alb_request, **options)

        def case(name: str) -> Tuple[Callable[[Any], Any], List[Any]]:
            """The verifier and its inputs for one run of case ``name``, each a new str."""
            if name == "(a) distinct":
                return jwt, [fresh(t) for t in batch()]
            if name == "(b) same token":
                return jwt, [fresh(same) for _ in range(SAME_PER_ROUND)]
            headers = []
            for token in batch():
                sub = json.loads(base64.urlsafe_b64decode(token.split(".")[1]))["sub"]
                headers.append(
                    {
                        "host": "app.example.com",
                        "x-amzn-oidc-accesstoken": "opaque",
                        "x-amzn-oidc-identity": sub,
                        "x-amzn-oidc-data": fresh(token),
                    }
                )
            return request, headers

        for _ in range(3):  # warm-up
            for name in names[1:]:
                timed(*case(name))
        for _ in range(args.rounds):
            for name in names[1:]:
                before = timed(floor, [fresh(t) for t in batch()])
                took = timed(*case(name))
                after = timed(floor, [fresh(t) for t in batch()])
                per_call["floor"] += [before, after]
                per_call[name].append(took)
                ratios[name].append(took / ((before + after) / 2))
        key_requests = alb.key_requests

    report = [
        f"ALB verification (ES256, P-256), {args.rounds} rounds; each case between two floor "
        "runs on new tokens; 'x floor' is the median of the per-round ratios",
        f"CPU: {cpu_line()}",
        f"Python {platform.python_version()}, cognito_helper {cognito_helper.__version__}",
        "",
        f"{'case':34} {'us/call':>9} {'x floor':>9}",
    ]
    rows: List[Tuple[str, float, str]] = []
    floor_us = statistics.median(per_call["floor"]) * 1e6
    rows.append(("floor (split+b64+json+ES256+exp)", floor_us, "1.00"))
    labels = {
        "(a) distinct": "(a) verify_alb_jwt, distinct",
        "(b) same token": "(b) verify_alb_jwt, same token",
        "(c) request, distinct": "(c) verify_alb_request, distinct",
    }
    for name in names[1:]:
        us = statistics.median(per_call[name]) * 1e6
        rows.append((labels[name], us, f"{statistics.median(ratios[name]):.2f}"))
    report += [f"{label:34} {us:9.2f} {ratio:>9}" for label, us, ratio in rows]
    report += ["", f"key requests during the run: {key_requests} (one per kid, kept for life)"]
    publish(report, args.results, "ALB verification benchmark results", "bench_alb.py")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
