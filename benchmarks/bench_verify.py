"""How fast cognito_helper verifies Cognito tokens, next to the floor and the peers.

    pip install -e ".[bench]" && python benchmarks/bench_verify.py [--check] [--results FILE]

One command, no network beyond loopback (and, when ``node`` and ``npm`` are present, one
``npm install aws-jwt-verify@5`` into a scratch folder outside the repository). Every figure
comes from the same run, on the same RSA-2048 RS256 tokens, minted locally with the AWS issuer
form so every peer accepts them, and shaped like a real pool's: each sign-in of one of
``USERS`` users, each in one to four groups (a ``cognito:groups`` list, group names of
varying length), gives an access token (``client_id``, ``scope``, ``username``) and an ID
token (``aud``, ``email``, ``cognito:username``, and the ``at_hash`` of that access token).
Half the calls verify an access token (``token_use="access"``), a quarter an ID token
(``token_use="id"``), and a quarter an ID token with ``access_token=`` its pair, so
``at_hash`` is checked.

* floor: split, base64url-decode and ``json.loads`` header and payload, RSA PKCS#1 v1.5
  SHA-256 verify with ``cryptography`` on a pre-loaded key, and the four Cognito claim
  comparisons of the token's kind (exp, iss, token_use, and aud or client_id); no
  ``at_hash``. Nothing else.
* cognito_helper with a warm JWKS cache: (a) distinct tokens, each seen once, with the memo
  on, and the same with the memo off; (b) the same tokens again; (c) a realistic mix: each
  token seen 20 times, in random order.
* peers, each used the way its README says, on the mix of (c): python-jose ``jwt.decode``
  with the JWKS dict (``audience`` for ID tokens, ``access_token`` where ``at_hash`` is
  checked); PyJWT with ``PyJWKClient`` (``audience`` for ID tokens); ``cognitojwt.decode``;
  pycognito's ``verify_token`` (which checks ``at_hash`` of every ID token, and is reported
  n/a where that check fails: pycognito 2024.5 hashes a ``str`` with PyJWT's
  ``compute_hash_digest``, a ``TypeError`` with PyJWT 2.x); aws-jwt-verify 5.x ``verifySync``
  with ``cacheJwks``, one verifier per token kind (Node).

Timing: round by round, every case runs between two runs of the floor, each floor run on
tokens nobody has seen yet (so no run finds them in the CPU caches either); a case's
"x floor" is the median over the rounds of its time divided by the mean of the two floor
runs around it, so machine drift cancels; a peer's speed next to (c) is the median over the
rounds of its time divided by (c)'s in the same round. Every verifier is called directly,
one token per call. As on a server, where each request's token is a new ``str``, (b) and (c) hand
cognito_helper a new string object with the same text on every call, never the object it
first verified (see ``as_received``). Before the first round the verification memo is filled
to its bound, as in a server that has been running: (a) then measures the steady state, in
which each new token evicts one. "Memo off" sets the bound to 0 for that case only, keeping
the entries (so both cases run on the same heap), which skips the memo as
``set_verification_memo_size(0)`` does.

Also reported: JWKS fetches by cognito_helper during the whole run and TCP connections for
100 sequential refresh grants (both counted by the loopback server), and the import times of
``cognito_helper`` and ``jose`` (with a check that importing cognito_helper opens no
connection and generates no key).

Exits 0 and prints FAIL rows for missed targets; with ``--check`` a missed target exits 1.
"""

# ruff: noqa: S311, S603, S607 - a benchmark: seeded shuffles; runs node, npm and Python itself

from __future__ import annotations

import argparse
import base64
import datetime
import functools
import hashlib
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple
from urllib.parse import parse_qs, urlsplit

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")  # everything here is loopback

import requests
from _repo import test_helper  # benchmarks/, on sys.path when run as a script
from _results import publish

import cognito_helper
from cognito_helper import CognitoConfig, configure, decode_verify_jwt, get_cognito_tokens
from cognito_helper.testing import LocalCognito

try:
    from cognito_helper.verification import memo as memo_module
except ImportError:  # a tree from before issue 20's layout, measured for a before/after
    from cognito_helper import _memo as memo_module  # type: ignore[no-redef]

_node = test_helper("aws_jwt_verify")  # the one npm installer of aws-jwt-verify
NodeUnavailable, install_aws_jwt_verify = _node.NodeUnavailable, _node.install_aws_jwt_verify

REGION = "us-east-1"
POOL = "us-east-1_BenchPool1"
ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{POOL}"  # what every peer expects
CLIENT = "benchclient1234567890abcdef"

ROUNDS = 100
BATCH = 40  # fresh tokens per floor run and for each (a) case, each round
SAME_TOKENS = 4  # (b): tokens per round, each verified once before, then again and again
SAME_PER_ROUND = 2000
MIX_TOKENS = 24  # (c): distinct tokens per round, each seen MIX_REPEATS times
MIX_REPEATS = 20
GRANTS = 100

USERS = 64
GROUPS = (  # what apps with roles name their groups; a federated user's group is pool_Provider
    "admin",
    "staff",
    "support-eu",
    "billing-readers",
    "beta-testers",
    "ops-oncall",
    "analytics-dashboard-viewers",
    f"{POOL}_Google",
)

# Issue 20's bounds, which the one-pipeline design must stay inside (no longer goals).
DISTINCT_MAX_RATIO = 1.25
LIST_MAX_RATIO = 1.30  # distinct tokens, a list of three configs
SAME_MIN_SPEEDUP = 15.0
MIX_MIN_SPEEDUP = 10.0  # the mix against python-jose
NODE_MIN_SPEEDUP = 8.0  # the mix against aws-jwt-verify

#: One verification as a backend asks for it: (token, token_use, access token whose at_hash
#: the ID token must carry, or None).
Call = Tuple[str, str, Optional[str]]
Verify = Callable[[str, str, Optional[str]], Any]


# -- tokens shaped like a real pool's --------------------------------------------------------


@dataclass(frozen=True)
class User:
    sub: str
    username: str
    email: str
    groups: Tuple[str, ...]


def make_users(rng: random.Random) -> List[User]:
    users = []
    for i in range(USERS):
        name = f"user{i:03d}.{rng.choice(['smith', 'garcia', 'nguyen', 'okafor', 'kowalski'])}"
        groups = tuple(rng.sample(GROUPS, rng.randint(1, 4)))
        users.append(
            User(str(uuid.UUID(int=rng.getrandbits(128))), name, f"{name}@example.com", groups)
        )
    return users


def at_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode("ascii")


class Minter:
    """Sign-ins of ``users``: an access token and its ID token each, as calls to verify."""

    def __init__(self, lc: LocalCognito, users: Sequence[User], rng: random.Random) -> None:
        self.lc, self.users, self.rng = lc, users, rng
        self.pair_of: Dict[str, str] = {}  # ID token -> its access token (pycognito holds both)
        self.signed_in = 0

    def sign_in(self) -> Tuple[Call, Call]:
        """The access-token call and the ID-token call of one sign-in; every other sign-in's
        ID token is verified with ``access_token=`` (so half the ID calls check at_hash)."""
        user = self.rng.choice(self.users)
        both: Dict[str, Any] = {"iss": ISSUER, "sub": user.sub, "cognito:groups": list(user.groups)}
        access = self.lc.mint("access", client_id=CLIENT, username=user.username, **both)
        id_claims: Dict[str, Any] = {
            "aud": CLIENT,
            "email": user.email,
            "cognito:username": user.username,
        }
        id_token = self.lc.mint("id", at_hash=at_hash(access), **id_claims, **both)
        self.pair_of[id_token] = access
        self.signed_in += 1
        check = access if self.signed_in % 2 else None
        return (access, "access", None), (id_token, "id", check)

    def calls(self, count: int) -> List[Call]:
        """``count`` (even) calls on new tokens, in random order: half of them access tokens."""
        calls: List[Call] = []
        while len(calls) < count:
            calls.extend(self.sign_in())
        self.rng.shuffle(calls)
        return calls


# -- the floor ------------------------------------------------------------------------------


def make_floor(keys: Dict[str, Any], issuer: str, client_id: str) -> Callable[[str, str], Any]:
    """The least any Python verifier can do for one Cognito token of kind ``use``: the key
    is picked by ``kid`` from ``keys`` (a pool signs ID and access tokens with a key each)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    pad, sha256 = padding.PKCS1v15(), hashes.SHA256()
    decode = base64.urlsafe_b64decode
    loads = json.loads
    now = time.time
    audience = {"id": "aud", "access": "client_id"}

    def floor(token: str, use: str) -> Any:
        head, body, sig = token.split(".")
        header = loads(decode(head + "=" * (-len(head) % 4)))
        claims = loads(decode(body + "=" * (-len(body) % 4)))
        keys[header["kid"]].verify(
            decode(sig + "=" * (-len(sig) % 4)), (head + "." + body).encode(), pad, sha256
        )
        if not (
            claims["exp"] > now()
            and claims["iss"] == issuer
            and claims["token_use"] == use
            and claims[audience[use]] == client_id
        ):
            raise ValueError("claims")
        return claims

    return floor


# -- peers ----------------------------------------------------------------------------------


def serve_static(body: bytes) -> Tuple[Callable[[], None], str]:
    """A loopback server answering every GET with ``body`` (the JWKS the peers fetch): its
    stop function and the JWKS URL."""
    try:
        from cognito_helper.testing.server import LoopbackServer, static_handler
    except ImportError:  # a tree older than the one loopback server, measured for a before/after
        return _serve_static_fallback(body)
    server = LoopbackServer(static_handler(body), name="benchmark JWKS").start()
    return server.stop, f"{server.url}/{POOL}/.well-known/jwks.json"


def _serve_static_fallback(body: bytes) -> Tuple[Callable[[], None], str]:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return stop, f"http://127.0.0.1:{server.server_port}/{POOL}/.well-known/jwks.json"


def python_peers(jwks: Dict[str, Any], jwks_url: str, pair_of: Dict[str, str]) -> Dict[str, Any]:
    """name -> verify function, or a string saying why the peer cannot run."""
    peers: Dict[str, Any] = {}

    try:
        from jose import jwt as jose_jwt

        def jose_verify(token: str, use: str, access_token: Optional[str]) -> Any:
            if use == "access":
                return jose_jwt.decode(token, jwks, algorithms=["RS256"], issuer=ISSUER)
            return jose_jwt.decode(
                token,
                jwks,
                algorithms=["RS256"],
                issuer=ISSUER,
                audience=CLIENT,
                access_token=access_token,
                options={"verify_at_hash": access_token is not None},
            )

        peers["python-jose jwt.decode(token, jwks)"] = jose_verify
    except ImportError as exc:
        peers["python-jose jwt.decode(token, jwks)"] = f"n/a ({exc})"

    try:
        import jwt as pyjwt

        client = pyjwt.PyJWKClient(jwks_url)

        def pyjwt_verify(token: str, use: str, access_token: Optional[str]) -> Any:
            key = client.get_signing_key_from_jwt(token)
            audience = CLIENT if use == "id" else None
            return pyjwt.decode(
                token, key.key, algorithms=["RS256"], issuer=ISSUER, audience=audience
            )

        peers["PyJWT PyJWKClient + jwt.decode"] = pyjwt_verify
    except ImportError as exc:
        peers["PyJWT PyJWKClient + jwt.decode"] = f"n/a ({exc})"

    try:
        os.environ["AWS_COGNITO_JWKS_PATH"] = jwks_url  # cognitojwt's documented override
        import cognitojwt

        def cognitojwt_verify(token: str, use: str, access_token: Optional[str]) -> Any:
            return cognitojwt.decode(token, REGION, POOL, app_client_id=CLIENT)

        peers["cognitojwt.decode"] = cognitojwt_verify
    except ImportError as exc:
        peers["cognitojwt.decode"] = f"n/a ({exc})"

    try:
        from pycognito import Cognito

        user = Cognito(POOL, CLIENT, user_pool_region=REGION)
        user.pool_jwk = jwks  # what get_keys() caches after its first fetch

        def pycognito_verify(token: str, use: str, access_token: Optional[str]) -> Any:
            if use == "access":
                return user.verify_token(token, "access_token", "access")
            user.access_token = pair_of[token]  # it checks at_hash against the one it holds
            return user.verify_token(token, "id_token", "id")

        peers["pycognito Cognito.verify_token"] = pycognito_verify
    except ImportError as exc:
        peers["pycognito Cognito.verify_token"] = f"n/a ({exc})"
    return peers


NODE_SCRIPT = r"""
const { CognitoJwtVerifier } = require("aws-jwt-verify");
const fs = require("fs");
const readline = require("readline");
const data = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const verifiers = {};
for (const use of ["id", "access"]) {
  verifiers[use] = CognitoJwtVerifier.create({
    userPoolId: data.pool, tokenUse: use, clientId: data.client,
  });
  verifiers[use].cacheJwks(data.jwks);
}
for (let i = 0; i < 3000; i++) {
  const [token, use] = data.warmup[i % data.warmup.length];
  verifiers[use].verifySync(token);
}
process.stdout.write("ready\n");
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const round = data.rounds[Number(line)];
  const sequence = round.order.map((i) => round.calls[i]);
  try {
    const start = process.hrtime.bigint();
    for (const [token, use] of sequence) verifiers[use].verifySync(token);
    const elapsed = Number(process.hrtime.bigint() - start);
    process.stdout.write(`${elapsed / 1000 / sequence.length}\n`);
  } catch (err) {
    process.stdout.write(`ERR ${err.name}: ${err.message}\n`.replace(/\n(?!$)/g, " "));
  }
});
"""


class NodePeer:
    """aws-jwt-verify in a Node process that verifies one round's mix per request."""

    def __init__(self, process: subprocess.Popen[str], version: str) -> None:
        self.process = process
        self.name = f"aws-jwt-verify {version} verifySync (node {node_version()})"

    def run_round(self, index: int) -> float:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"{index}\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline().strip()
        if not answer or answer.startswith("ERR"):
            raise RuntimeError(answer or "node exited")
        return float(answer)

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=10)


def node_version() -> str:
    try:
        out = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=30)
        return out.stdout.strip().lstrip("v")
    except (OSError, subprocess.SubprocessError):
        return "?"


def start_node(data: Dict[str, Any]) -> Tuple[Optional[NodePeer], str]:
    """Install aws-jwt-verify@5 into a scratch folder and start the verifier process."""
    try:
        package = install_aws_jwt_verify()
    except NodeUnavailable as exc:
        return None, f"n/a ({exc})"
    node, scratch, version = package
    script = package.write_script("bench.js", NODE_SCRIPT)
    data_file = os.path.join(scratch, "data.json")
    with open(data_file, "w", encoding="utf-8") as f:
        json.dump(data, f)
    process = subprocess.Popen(
        [node, script, data_file],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=scratch,
    )
    assert process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        process.kill()
        err = process.stderr.read() if process.stderr else ""
        last = err.strip().splitlines()[-1:] or ["no output"]
        return None, f"n/a (node verifier did not start: {last[0][:80]})"
    return NodePeer(process, version), ""


# -- measuring ------------------------------------------------------------------------------


def fresh(text: Optional[str]) -> Optional[str]:
    """The same text in a new str object, as a server gets it from each request."""
    return None if text is None else text.encode("ascii").decode("ascii")


def as_received(sequence: Sequence[Call], copies: int) -> List[Call]:
    """``sequence`` as a server receives it: every call a new str object with the same text.

    The first sighting of a token gets a copy of its own; later ones cycle through ``copies``
    other copies, so a verifier can never recognise the object it saw first, and the text is
    as warm in the CPU cache as a request header that was just read (a pool per token). The
    access token a call checks ``at_hash`` against is copied with it.
    """
    pools: Dict[Call, List[Call]] = {}
    sightings: Dict[Call, int] = {}
    received: List[Call] = []
    for call in sequence:
        count = sightings.get(call, 0)
        sightings[call] = count + 1
        if count == 0:
            received.append(_fresh_call(call))
        else:
            pool = pools.setdefault(call, [_fresh_call(call) for _ in range(copies)])
            received.append(pool[count % copies])
    return received


def _fresh_call(call: Call) -> Call:
    token, use, access_token = call
    return fresh(token), use, fresh(access_token)  # type: ignore[return-value]


def per_call_us(verify: Verify, calls: Sequence[Call]) -> float:
    start = time.perf_counter()
    for token, use, access_token in calls:
        verify(token, use, access_token)
    return (time.perf_counter() - start) / len(calls) * 1e6


def floor_us(floor: Callable[[str, str], Any], calls: Sequence[Call]) -> float:
    start = time.perf_counter()
    for token, use, _ in calls:
        floor(token, use)
    return (time.perf_counter() - start) / len(calls) * 1e6


def ours_us(calls: Sequence[Call]) -> float:
    """per_call_us for cognito_helper, called directly as a backend calls it (no wrapper)."""
    verify = decode_verify_jwt
    start = time.perf_counter()
    for token, use, access_token in calls:
        verify(token, token_use=use, access_token=access_token)
    return (time.perf_counter() - start) / len(calls) * 1e6


def ours_among_us(configs: Sequence[CognitoConfig], calls: Sequence[Call]) -> float:
    """ours_us with ``config=`` a list: two other pools' clients, then the token's own."""
    verify = decode_verify_jwt
    start = time.perf_counter()
    try:
        for token, use, access_token in calls:
            verify(token, config=configs, token_use=use, access_token=access_token)
    except cognito_helper.CognitoError as exc:  # a tree from before issue 10
        raise RuntimeError(f"config= a list is not supported: {type(exc).__name__}") from None
    return (time.perf_counter() - start) / len(calls) * 1e6


def ours_memo_off_us(calls: Sequence[Call]) -> float:
    """ours_us with the memo's bound at 0 for the duration (its entries are kept)."""
    memo = memo_module.memo
    maxsize, memo.maxsize = memo.maxsize, 0
    try:
        return ours_us(calls)
    finally:
        memo.maxsize = maxsize


@dataclass
class Case:
    name: str
    us: List[float] = field(default_factory=list)
    ratios: List[float] = field(default_factory=list)
    by_round: Dict[int, float] = field(default_factory=dict)  # round -> us/verify
    note: str = ""

    @property
    def median_us(self) -> float:
        return statistics.median(self.us)

    @property
    def median_ratio(self) -> float:
        return statistics.median(self.ratios)

    def times_slower_than(self, other: Case) -> float:
        """Median over the rounds both ran in of this case's time over ``other``'s."""
        rounds = sorted(set(self.by_round) & set(other.by_round))
        return statistics.median(self.by_round[r] / other.by_round[r] for r in rounds)


@dataclass
class Workload:
    distinct: List[List[Call]]  # per round, fresh calls for (a), memo on
    distinct_off: List[List[Call]]  # per round, fresh calls for (a), memo off
    distinct_list: List[List[Call]]  # per round, fresh calls for (a) with a list of 3 configs
    floors: List[List[List[Call]]]  # per round, one group of fresh calls per floor run
    same: List[List[Call]]  # per round, the calls (b) verifies again and again
    mix_calls: List[List[Call]]  # per round, the distinct calls of (c)
    mix_order: List[List[int]]  # per round, indexes into mix_calls: each one MIX_REPEATS times

    def mix(self, index: int) -> List[Call]:
        calls = self.mix_calls[index]
        return [calls[i] for i in self.mix_order[index]]


def mint_workload(minter: Minter, rounds: int, floor_runs: int, rng: random.Random) -> Workload:
    calls = minter.calls
    distinct = [calls(BATCH) for _ in range(rounds)]
    distinct_off = [calls(BATCH) for _ in range(rounds)]
    distinct_list = [calls(BATCH) for _ in range(rounds)]
    floors = [[calls(BATCH) for _ in range(floor_runs)] for _ in range(rounds)]
    same = [calls(SAME_TOKENS) for _ in range(rounds)]
    mix_calls = [calls(MIX_TOKENS) for _ in range(rounds)]
    mix_order = []
    for _ in range(rounds):
        order = [i for i in range(MIX_TOKENS) for _ in range(MIX_REPEATS)]
        rng.shuffle(order)
        mix_order.append(order)
    return Workload(distinct, distinct_off, distinct_list, floors, same, mix_calls, mix_order)


# -- connections and imports ------------------------------------------------------------------


def connections_for_grants() -> Tuple[int, int]:
    """Server-side TCP connection count for one code exchange plus GRANTS refresh grants."""
    with LocalCognito(user_pool_id=POOL, client_id=CLIENT) as lc:
        lc.add_user("bench", "Bench-Passw0rd!", email="bench@example.com")
        login = lc.config.start_login()
        redirect = lc.sign_in(login.url, "bench", "Bench-Passw0rd!")
        code = parse_qs(urlsplit(redirect).query)["code"][0]
        before = lc.connections_opened  # the browser's connections are behind us
        tokens = get_cognito_tokens(code, config=lc.config, code_verifier=login.code_verifier)
        for _ in range(GRANTS):
            get_cognito_tokens(refresh_token=tokens.refresh_token, config=lc.config)
        return lc.connections_opened - before, len(lc.server_errors)


_IMPORT_TIMER = "import time; t = time.perf_counter(); import {0}; print(time.perf_counter() - t)"

_IMPORT_AUDIT = """
import socket
events = []
def watch(name, original):
    def wrapper(*args, **kwargs):
        events.append(name)
        return original(*args, **kwargs)
    return wrapper
socket.socket.connect = watch("connect", socket.socket.connect)
socket.socket.connect_ex = watch("connect", socket.socket.connect_ex)
socket.getaddrinfo = watch("getaddrinfo", socket.getaddrinfo)
socket.create_connection = watch("create_connection", socket.create_connection)
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
rsa.generate_private_key = watch("rsa key generation", rsa.generate_private_key)
ec.generate_private_key = watch("ec key generation", ec.generate_private_key)
dsa.generate_private_key = watch("dsa key generation", dsa.generate_private_key)
ed25519.Ed25519PrivateKey.generate = watch("ed25519 key generation",
                                           ed25519.Ed25519PrivateKey.generate)
import cognito_helper
print(",".join(sorted(set(events))))
"""


def import_times(repeats: int = 5) -> Tuple[Dict[str, float], str]:
    """Median import time (ms) of cognito_helper, jose and jose.jwt, each in a fresh
    interpreter, and what importing cognito_helper did that it must not (network calls, key
    generation)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COGNITO_")}
    samples: Dict[str, List[float]] = {"cognito_helper": [], "jose": [], "jose.jwt": []}
    for _ in range(repeats):
        for module in samples:
            out = subprocess.run(
                [sys.executable, "-c", _IMPORT_TIMER.format(module)],
                capture_output=True,
                text=True,
                check=True,
                env=env,
            )
            samples[module].append(float(out.stdout.strip()) * 1e3)
    audit = subprocess.run(
        [sys.executable, "-c", _IMPORT_AUDIT], capture_output=True, text=True, check=True, env=env
    ).stdout.strip()
    return {module: statistics.median(times) for module, times in samples.items()}, audit


# -- the run ----------------------------------------------------------------------------------


def cpu_line() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            models = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        if models:
            where = f"{platform.system()} {platform.machine()}"
            return f"{models[0]} ({len(models)} logical CPUs), {where}"
    except OSError:
        pass
    model = platform.processor() or platform.machine()
    return f"{model} ({os.cpu_count()} logical CPUs), {platform.system()} {platform.machine()}"


def versions() -> str:
    import cryptography
    import jose

    return (
        f"Python {platform.python_version()}, cognito_helper {cognito_helper.__version__}, "
        f"cryptography {cryptography.__version__}, python-jose {jose.__version__}"
    )


def rounds_of(rounds: int) -> Iterator[int]:
    for index in range(rounds):
        if index and index % 10 == 0:
            print(f"  ... round {index}/{rounds}", file=sys.stderr)
        yield index


def run(rounds: int, seed: int) -> Tuple[List[str], bool]:
    rng = random.Random(seed)
    lines: List[str] = []
    failed = False

    with LocalCognito(user_pool_id=POOL, client_id=CLIENT) as lc:
        minter = Minter(lc, make_users(rng), rng)
        warmup = minter.calls(50)
        # The peers' copy of the JWKS; cognito_helper's own fetches are counted from here on.
        jwks_doc = requests.get(lc.jwks_url, timeout=10).content
        jwks = json.loads(jwks_doc)
        fetches_before = lc.jwks_requests

        # cognito_helper: configured once, as a backend does; the AWS issuer, a loopback JWKS.
        configure(CognitoConfig(user_pool_id=POOL, client_id=CLIENT, jwks_url=lc.jwks_url))
        # Issue 10's case: a backend that trusts three app clients (two of other pools).
        three = [
            CognitoConfig(user_pool_id=f"us-east-1_Other{n}", client_id=f"other{n}") for n in (1, 2)
        ] + [cognito_helper.get_config()]

        def ours(call: Call) -> Any:
            token, use, access_token = call
            return decode_verify_jwt(token, token_use=use, access_token=access_token)

        floor = make_floor(_public_keys(jwks), ISSUER, CLIENT)
        for call in warmup:  # warm both: the JWKS fetch, the header memo, the code paths
            floor(call[0], call[1])
            ours(call)
            ours(call)

        stop_static, static_url = serve_static(jwks_doc)
        peers = python_peers(jwks, static_url, minter.pair_of)
        # One call of each kind (access, ID, ID with at_hash), then a few more.
        kinds = {(use, at is None): (token, use, at) for token, use, at in warmup}
        sample = list(kinds.values()) + warmup[:5]
        for name, verify in list(peers.items()):
            if callable(verify):
                kind = ""
                try:
                    for call in sample:
                        kind = "ID" if call[1] == "id" else "access"
                        verify(*call)
                except Exception as exc:  # a peer that rejects the tokens is reported, not run
                    message = " ".join(str(exc).split())[:48]
                    peers[name] = f"n/a (fails on {kind} tokens: {type(exc).__name__}: {message})"

        print("minting tokens ...", file=sys.stderr)
        cases_per_round = 5 + len(peers) + 1  # (a) on, off, list; (b), (c), the peers, Node
        work = mint_workload(minter, rounds, cases_per_round + 1, rng)
        # A server that has been running has a full memo, which evicts a token for each new
        # one: measure that steady state, not the first DEFAULT_MAXSIZE tokens of a process.
        for call in minter.calls(cognito_helper.verification_memo_info().maxsize):
            ours(call)

        node_data = {
            "pool": POOL,
            "client": CLIENT,
            "jwks": jwks,
            "warmup": [call[:2] for call in warmup],
            "rounds": [
                {"calls": [c[:2] for c in work.mix_calls[i]], "order": work.mix_order[i]}
                for i in range(rounds)
            ],
        }
        print("preparing aws-jwt-verify ...", file=sys.stderr)
        node, node_note = start_node(node_data)

        floor_case = Case("floor: split, b64, json.loads, RSA verify, 4 claims")
        distinct = Case("cognito_helper (a) distinct tokens, each once")
        distinct_off = Case("cognito_helper (a) distinct tokens, each once, memo off")
        distinct_list = Case("cognito_helper (a) distinct tokens, config= a list of 3")
        same = Case(f"cognito_helper (b) the same token again ({SAME_TOKENS} in turn)")
        mix = Case(f"cognito_helper (c) mix: each token {MIX_REPEATS}x, random order")
        peer_cases = {name: Case(f"{name} (mix)") for name in peers}
        node_case = Case(f"{node.name} (mix)" if node else "aws-jwt-verify 5.x verifySync (mix)")
        if node is None:
            node_case.note = node_note

        print(f"measuring {rounds} rounds ...", file=sys.stderr)
        for r in rounds_of(rounds):
            sequence = as_received(work.mix(r), copies=4)
            for call in work.same[r]:  # (b) measures tokens seen again: the first sighting
                ours(call)
            same_again = as_received(
                [work.same[r][i % SAME_TOKENS] for i in range(SAME_PER_ROUND)], copies=64
            )
            cases: List[Tuple[Case, Callable[[], float]]] = [
                (distinct, functools.partial(ours_us, work.distinct[r])),
                (distinct_off, functools.partial(ours_memo_off_us, work.distinct_off[r])),
                (distinct_list, functools.partial(ours_among_us, three, work.distinct_list[r])),
                (same, functools.partial(ours_us, same_again)),
                (mix, functools.partial(ours_us, sequence)),
            ]
            if r % 2:  # memo on and off take turns going first
                cases[0], cases[1] = cases[1], cases[0]
            for name, verify in peers.items():
                if callable(verify):
                    cases.append(
                        (peer_cases[name], functools.partial(per_call_us, verify, sequence))
                    )
            if node is not None:
                cases.append((node_case, functools.partial(node.run_round, r)))
            # Each case runs between two floor runs, each on tokens no one has seen yet.
            floor_groups = iter(work.floors[r])
            floors = [floor_us(floor, next(floor_groups))]
            for case, measure in cases:
                try:
                    us = measure()
                except (RuntimeError, ValueError, OSError) as exc:  # node, or an older tree
                    case.note = f"n/a (failed: {str(exc)[:70]})"
                    if case is node_case and node is not None:
                        node.close()
                        node = None
                    continue
                floors.append(floor_us(floor, next(floor_groups)))
                case.us.append(us)
                case.by_round[r] = us
                case.ratios.append(us / ((floors[-2] + floors[-1]) / 2))
            floor_case.us.append(statistics.mean(floors))
            floor_case.ratios.append(1.0)
        if node is not None:
            node.close()
        stop_static()
        jwks_fetches = lc.jwks_requests - fetches_before
        server_errors = len(lc.server_errors)

    connections, grant_errors = connections_for_grants()
    import_ms, import_events = import_times()

    # -- the table ----------------------------------------------------------------------------
    def verdict(ok: bool) -> str:
        nonlocal failed
        failed = failed or not ok
        return "PASS" if ok else "FAIL"

    width = 64
    header = f"{'case':<{width}} {'us/verify':>10} {'x floor':>8}  target"
    lines.append(header)
    lines.append("-" * (len(header) + 40))

    def row(case: Case, target: str = "") -> None:
        if case.note or not case.us:
            lines.append(f"{case.name:<{width}} {case.note or 'n/a'}")
            return
        lines.append(
            f"{case.name:<{width}} {case.median_us:>10.2f} {case.median_ratio:>8.3f}  {target}"
        )

    row(floor_case)
    row(
        distinct,
        f"<= {DISTINCT_MAX_RATIO:.2f}x floor: "
        + verdict(distinct.median_ratio <= DISTINCT_MAX_RATIO),
    )
    row(distinct_off, f"memo on / off: {distinct.times_slower_than(distinct_off):.3f}")
    if distinct_list.note or not distinct_list.ratios:  # a tree from before issue 10
        row(distinct_list)
    else:
        list_ok = distinct_list.median_ratio <= LIST_MAX_RATIO
        row(distinct_list, f"<= {LIST_MAX_RATIO:.2f}x floor: " + verdict(list_ok))
    same_speedup = 1 / same.median_ratio
    row(
        same,
        f">= {SAME_MIN_SPEEDUP:.0f}x faster than floor: {same_speedup:.1f}x "
        + verdict(same_speedup >= SAME_MIN_SPEEDUP),
    )
    row(mix)
    for name, case in peer_cases.items():
        verify = peers[name]
        if not callable(verify):
            case.note = str(verify)
            row(case)
            continue
        speedup = case.times_slower_than(mix)
        if name.startswith("python-jose"):
            row(
                case,
                f"(c) >= {MIX_MIN_SPEEDUP:.0f}x its throughput: {speedup:.1f}x "
                + verdict(speedup >= MIX_MIN_SPEEDUP),
            )
        else:
            row(case, f"(c) has {speedup:.1f}x its throughput")
    if node_case.us and not node_case.note:
        speedup = node_case.times_slower_than(mix)
        row(
            node_case,
            f"(c) >= {NODE_MIN_SPEEDUP:.0f}x its throughput: {speedup:.1f}x "
            + verdict(speedup >= NODE_MIN_SPEEDUP),
        )
    else:
        row(node_case)
    lines.append("")
    lines.append(
        f"JWKS fetches by cognito_helper during the whole run: {jwks_fetches} "
        f"(target 1): {verdict(jwks_fetches == 1)}"
    )
    lines.append(
        f"TCP connections for 1 code exchange + {GRANTS} sequential refresh grants "
        f"(server-side count): {connections} (target 1): {verdict(connections == 1)}"
    )
    lines.append(
        f"import cognito_helper: {import_ms['cognito_helper']:.1f} ms "
        f"(import jose: {import_ms['jose']:.1f} ms, from jose import jwt: "
        f"{import_ms['jose.jwt']:.1f} ms); network calls and key generation during "
        f"import cognito_helper: {import_events or 'none'}: {verdict(not import_events)}"
    )
    if server_errors or grant_errors:
        lines.append(f"LocalCognito server errors: {server_errors + grant_errors}: FAIL")
        failed = True
    return lines, failed


def _public_keys(jwks: Dict[str, Any]) -> Dict[str, Any]:
    """The floor's pre-loaded keys: kid -> each JWK of the pool as a ``cryptography`` key."""
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers

    def number(text: str) -> int:
        return int.from_bytes(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), "big")

    return {
        k["kid"]: RSAPublicNumbers(number(k["e"]), number(k["n"])).public_key()
        for k in jwks["keys"]
    }


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"default {ROUNDS}")
    parser.add_argument("--seed", type=int, default=4, help="seed of the mix order")
    parser.add_argument("--results", metavar="FILE", help="also write the report as Markdown")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    print(f"measuring {cognito_helper.__file__}", file=sys.stderr)
    lines, failed = run(max(args.rounds, 3), args.seed)
    date = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    intro = [
        f"cognito_helper verification benchmark, {date}",
        f"CPU: {cpu_line()}",
        versions(),
        f"RSA-2048 RS256 Cognito-shaped tokens of {USERS} users in 1 to 4 groups each "
        "(cognito:groups): half the calls verify access tokens, a quarter ID tokens, a quarter "
        f"ID tokens with access_token= (at_hash). {args.rounds} rounds; in each, every case "
        f"runs between two floor runs on {BATCH} tokens never seen before (each (a) verifies "
        f"{BATCH} more); (b) cycles through {SAME_TOKENS} tokens seen once before; (c) and the "
        f"peers verify {MIX_TOKENS} new tokens x {MIX_REPEATS} in random order; 'x floor' is "
        "the median of the per-round ratios to the floor; 'memo on / off' and '(c) >= Nx' "
        "are medians of per-round ratios of the two cases' times. The memo starts full "
        "(steady state).",
        "",
    ]
    report = intro + lines + ["", f"run time: {time.perf_counter() - started:.0f} s"]
    publish(report, args.results, "Verification benchmark results", "bench_verify.py")
    return 1 if (failed and args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
