"""What ``login_required`` adds to a Flask request, and the refresh grants a signed-in app makes.

    pip install -e ".[flask]" && python benchmarks/bench_flask_login.py [--check] [--results FILE]

One Flask app with a ``CognitoLogin`` on a LocalCognito (loopback; refresh-token rotation on)
and three views that return the same small JSON body: ``/open``, ``/signed-in`` under
``@login_required`` and, for scale, ``/bearer`` under ``@require_token``. A session is signed in
through the app's own routes and the hosted UI; every timed request carries its cookie (its
access token valid: no refresh is due) and a remembered bearer token.

* Cost of a signed-in request (the default memory store): as in ``bench_guard.py``, each
  request is one WSGI call, ``app.wsgi_app(environ, start_response)``, on a copy of an environ
  prepared once, the body read and closed. Round by round the routes serve ``REQUESTS``
  requests each, in turns (the first to run rotates); a round's extra cost is the difference
  of the two routes' times per request, and the figure is its median over the rounds. The
  time is the serving thread's CPU time (``time.thread_time``): on a shared machine, wall
  time also counts the time the process waits for a CPU. Target: at most ``MAX_EXTRA_US``
  microseconds. What ``@require_token`` adds on the same app (``bench_guard.py``'s row, its
  target 8 us) is shown beside it: on a busy machine both grow alike.
* The Redis store (when Debian's ``redis-server`` is found; a throwaway one on a free loopback
  port, the tests' ``tests/redis_server.py``): Redis commands per signed-in request through
  the app, counted on the client (target: 1, the ``MGET`` of the session), and the time per
  request for scale.
* Refresh grants for one session whose access token has expired (counted by LocalCognito): 16
  threads of one process each making one request through the app (memory store), and 4
  spawned processes, each with the app on a ``RedisSessionStore`` of the same Redis, each
  making one request. Target: 1 each.

Exits 0 and prints FAIL rows for missed targets; with ``--check`` a missed target exits 1.
"""

from __future__ import annotations

import argparse
import datetime
import io
import multiprocessing
import os
import statistics
import sys
import threading
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")  # everything here is loopback

from _results import publish  # benchmarks/, on sys.path when run as a script
from bench_guard import serve
from bench_sessions import SECRET, Clock, CountingClient, RedisServer, find_redis_server
from bench_verify import cpu_line

from cognito_helper import CognitoConfig
from cognito_helper.testing import LocalCognito

USER, PASSWORD = "bench-user", "Bench-Passw0rd!"
ORIGIN = "http://localhost"  # Flask's test client
ROUNDS = 80
REQUESTS = 512  # per route and round
REDIS_REQUESTS = 500
MAX_EXTRA_US = 10.0
ROUTES = ("open", "signed-in", "bearer")
LIFETIME = 300  # LocalCognito's token lifetime
BOUND = 120  # seconds: the most any wait for a thread or process may take


def make_app(config: CognitoConfig, store: Any = None, clock: Any = time.time) -> Any:
    """The Flask app: ``/open``, ``/signed-in`` and (for scale) ``/bearer`` under
    ``@require_token``, the same view body."""
    import flask

    from cognito_helper.flask import CognitoLogin, login_required, require_token

    app = flask.Flask("bench_flask_login")
    CognitoLogin(app, config=config, store=store, clock=clock)

    @app.get("/open")
    def open_view() -> Any:
        return {"ok": True}

    @app.get("/signed-in")
    @login_required
    def signed_in_view() -> Any:
        return {"ok": True}

    @app.get("/bearer")
    @require_token(config=config)
    def bearer_view() -> Any:
        return {"ok": True}

    return app


def sign_in(lc: LocalCognito, app: Any, seconds_left: Optional[float] = None) -> str:
    """A session id, through the app's routes and the hosted UI (tokens with ``seconds_left``
    of their lifetime when given)."""
    client = app.test_client()
    started = client.get("/login")
    if seconds_left is not None:
        lc.advance_clock(seconds_left - lc.token_lifetime)
    try:
        landed = client.get(lc.sign_in(started.headers["Location"], USER, PASSWORD))
    finally:
        lc.clock = time.time
    cookie = client.get_cookie("cognito_session")
    if landed.status_code != 302 or cookie is None:
        raise RuntimeError(f"the sign-in failed: {landed.status_code}")
    return str(cookie.value)


def environs(path: str, session_id: str, copies: int, token: str = "none") -> List[Dict[str, Any]]:
    """``copies`` WSGI environs of ``GET path`` with the session cookie and a bearer token,
    each header a new str."""
    base: Dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "localhost",
        "HTTP_ACCEPT": "text/html,application/xhtml+xml,*/*;q=0.8",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    cookie, bearer = f"theme=dark; cognito_session={session_id}", f"Bearer {token}"
    return [
        dict(
            base, HTTP_COOKIE=cookie.encode().decode(), HTTP_AUTHORIZATION=bearer.encode().decode()
        )
        for _ in range(copies)
    ]


def per_request_us(app: Any, requests: Sequence[Dict[str, Any]]) -> float:
    """CPU microseconds of this thread per request of :func:`serve` over ``requests``."""
    start = time.thread_time()
    serve(app, requests)
    return (time.thread_time() - start) / len(requests) * 1e6


def request_costs(lc: LocalCognito, rounds: int) -> Dict[str, List[float]]:
    """Per round: us per request of ``open``, ``signed-in`` and ``bearer``, and the extra
    cost of the two guarded routes."""
    app = make_app(lc.config)
    sid = sign_in(lc, app)
    token = lc.mint("access")
    wsgi = app.wsgi_app
    routes = {name: environs(f"/{name}", sid, REQUESTS, token) for name in ROUTES}
    for name, requests in routes.items():
        statuses = set(serve(wsgi, requests))  # warm up: the JWKS, the memo, the code
        if statuses != {"200 OK"}:
            raise SystemExit(f"/{name} answered {sorted(statuses)}, not 200 OK")
    grants = lc.token_requests("refresh_token")
    samples: Dict[str, List[float]] = {name: [] for name in (*ROUTES, "extra", "bearer-extra")}
    for r in range(rounds):
        order = ROUTES[r % 3 :] + ROUTES[: r % 3]  # the first to run rotates
        times = {name: per_request_us(wsgi, routes[name]) for name in order}
        for name in ROUTES:
            samples[name].append(times[name])
        samples["extra"].append(times["signed-in"] - times["open"])
        samples["bearer-extra"].append(times["bearer"] - times["open"])
    if lc.token_requests("refresh_token") != grants:
        raise RuntimeError("a refresh ran while requests were timed")
    return samples


def redis_rows(lc: LocalCognito, redis_client: Any) -> Tuple[float, float]:
    """Redis commands per signed-in request through the app, and us per request."""
    from cognito_helper.sessions import RedisSessionStore

    client = CountingClient(redis_client)
    app = make_app(lc.config, store=RedisSessionStore(client, secret=SECRET))
    sid = sign_in(lc, app)
    requests = environs("/signed-in", sid, REDIS_REQUESTS)
    serve(app.wsgi_app, requests[:10])  # warm up
    before = client.commands
    started = time.perf_counter()
    statuses = set(serve(app.wsgi_app, requests))
    elapsed = time.perf_counter() - started
    if statuses != {"200 OK"}:
        raise SystemExit(f"/signed-in with Redis answered {sorted(statuses)}")
    return (client.commands - before) / REDIS_REQUESTS, elapsed / REDIS_REQUESTS * 1e6


def grants_with_threads(lc: LocalCognito, threads: int) -> int:
    """Refresh grants when ``threads`` requests of one expired session arrive at once."""
    clock = Clock()
    app = make_app(lc.config, clock=clock)
    sid = sign_in(lc, app, seconds_left=5)
    clock.offset = 10  # expired, for the sessions
    start = threading.Barrier(threads)
    statuses: List[str] = []
    failures: List[BaseException] = []

    def request() -> None:
        try:
            requests = environs("/signed-in", sid, 1)
            start.wait(BOUND)
            statuses.extend(serve(app.wsgi_app, requests))
        except BaseException as exc:
            failures.append(exc)

    before = lc.token_requests("refresh_token")
    running = [threading.Thread(target=request) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join(BOUND)
    if failures:
        raise failures[0]
    if statuses != ["200 OK"] * threads:
        raise RuntimeError(f"the requests were answered {sorted(set(statuses))}")
    return lc.token_requests("refresh_token") - before


def _process(url: str, config: CognitoConfig, sid: str, start: Any, done: Any) -> None:
    """One process of a fleet (spawned): the app on the shared Redis, one request at expiry."""
    import redis

    from cognito_helper.sessions import RedisSessionStore

    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    app = make_app(config, store=RedisSessionStore(client, secret=SECRET), clock=Clock(10.0))
    requests = environs("/signed-in", sid, 1)
    start.wait(BOUND)
    done.put(serve(app.wsgi_app, requests)[0])


def grants_with_processes(lc: LocalCognito, server: Any, processes: int) -> int:
    from cognito_helper.sessions import RedisSessionStore

    store = RedisSessionStore(server.client(), secret=SECRET)
    sid = sign_in(lc, make_app(lc.config, store=store), seconds_left=5)
    ctx = multiprocessing.get_context("spawn")
    start, done = ctx.Barrier(processes), ctx.Queue()
    args = (server.url, lc.config, sid, start, done)
    workers = [ctx.Process(target=_process, args=args, daemon=True) for _ in range(processes)]
    before = lc.token_requests("refresh_token")
    for worker in workers:
        worker.start()
    try:
        statuses = [done.get(timeout=BOUND) for _ in workers]
    finally:
        for worker in workers:
            worker.join(BOUND)
            if worker.is_alive():
                worker.kill()
    if statuses != ["200 OK"] * processes:
        raise RuntimeError(f"the processes were answered {sorted(set(statuses))}")
    return lc.token_requests("refresh_token") - before


# -- the report -------------------------------------------------------------------------------


def run(rounds: int) -> Tuple[List[str], bool]:
    results: Dict[str, Any] = {}
    program = find_redis_server()
    server = RedisServer(program).start() if program else None
    try:
        with LocalCognito(
            redirect_uri=f"{ORIGIN}/cognito_redirect",
            logout_uri=f"{ORIGIN}/",
            token_lifetime=LIFETIME,
            refresh_token_rotation=True,
            rotation_grace_period=0,
        ) as lc:
            lc.add_user(USER, PASSWORD, email="bench@example.com")
            print(f"measuring {rounds} rounds of {REQUESTS} requests ...", file=sys.stderr)
            results["costs"] = request_costs(lc, rounds)
            if server is not None:
                results["redis"] = redis_rows(lc, server.client())
            print("counting refresh grants ...", file=sys.stderr)
            results["threads"] = grants_with_threads(lc, 16)
            if server is not None:
                results["fleet"] = grants_with_processes(lc, server, 4)
            results["errors"] = len(lc.server_errors)
    finally:
        if server is not None:
            server.stop()
    return report(results)


def report(results: Dict[str, Any]) -> Tuple[List[str], bool]:
    failed = False

    def verdict(ok: bool) -> str:
        nonlocal failed
        failed = failed or not ok
        return "PASS" if ok else "FAIL"

    median = {name: statistics.median(values) for name, values in results["costs"].items()}
    width = 66
    lines = [f"{'row':<{width}} {'value':>9}  target", "-" * (width + 34)]
    lines.append(f"{'Flask route without login_required (WSGI call), us':<{width}} "
                 f"{median['open']:>9.2f}")  # fmt: skip
    lines.append(f"{'the same route, @login_required, valid token, memory store, us':<{width}} "
                 f"{median['signed-in']:>9.2f}")  # fmt: skip
    extra = median["extra"]
    lines.append(
        f"{'login_required adds (median of per-round differences), us':<{width}} {extra:>9.2f}"
        f"  <= {MAX_EXTRA_US:g}: {verdict(extra <= MAX_EXTRA_US)}"
    )
    lines.append(
        f"{'for scale: @require_token adds (remembered token; its target 8), us':<{width}} "
        f"{median['bearer-extra']:>9.2f}"
    )
    if "redis" in results:
        trips, redis_us = results["redis"]
        lines.append(
            f"{'Redis round trips per signed-in request (RedisSessionStore)':<{width}} "
            f"{trips:>9.3f}  <= 1: {verdict(trips <= 1.0)}"
        )
        lines.append(f"{'@login_required route, RedisSessionStore (loopback), us':<{width}} "
                     f"{redis_us:>9.1f}")  # fmt: skip
    else:
        lines.append("Redis rows: n/a (no redis-server; sudo apt-get install redis-server)")
    threads = results["threads"]
    lines.append(
        f"{'refresh grants, 16 concurrent requests at expiry, one process':<{width}} "
        f"{threads:>9}  1: {verdict(threads == 1)}"
    )
    if "fleet" in results:
        fleet = results["fleet"]
        lines.append(
            f"{'refresh grants, 4 processes at expiry, RedisSessionStore':<{width}} "
            f"{fleet:>9}  1: {verdict(fleet == 1)}"
        )
    lines.append(f"LocalCognito internal errors: {results['errors']}")
    return lines, failed or results["errors"] > 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"default {ROUNDS}")
    parser.add_argument("--results", metavar="FILE", help="also write the report into FILE")
    args = parser.parse_args(argv)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    lines, failed = run(max(args.rounds, 3))
    intro = [
        f"Date: {datetime.date.today().isoformat()}",
        f"CPU: {cpu_line()}",
        f"Python: {sys.version.split()[0]}",
        f"{args.rounds} rounds of {REQUESTS} requests per route (WSGI calls, turns rotating, "
        "CPU time of the serving thread); medians over the rounds",
        f"load average at the start: {load}",
        "",
    ]
    publish(intro + lines, args.results, "Flask sign-in benchmark results", "bench_flask_login.py")
    return 1 if failed and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
