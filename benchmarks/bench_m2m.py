"""What a cached machine-to-machine token costs per call, and how many token requests are made.

    python benchmarks/bench_m2m.py [--check] [--rounds N]

Starts a LocalCognito with a confidential app client and, when Debian's ``redis-server`` is
found (``sudo apt-get install redis-server``), a throwaway one on a free loopback port (the
tests' ``tests/redis_server.py``). Nothing leaves loopback.

* Cost per call with a cached token: ``cc.access_token()`` of a :class:`ClientCredentials`
  that holds a valid token, without a store and with a :class:`RedisTokenStore` (the
  in-process cache is in front of the store, so both should cost the same), next to reading
  a dict (``cache[key]``), the floor. Each round times ``CALLS`` calls of each case, in turn;
  the figure is the median over the rounds of the time per call, "x dict" the median of the
  per-round ratios to the dict read. Target: at most ``HIT_MAX_EXTRA_US`` microseconds more
  than the dict read. Also shown, for scale: ``RedisTokenStore.obtain`` finding the token in
  Redis (what a process whose own cache is empty pays) and a token request to LocalCognito.
* Token requests during one token lifetime (3600 s; every run is far shorter): one thread,
  16 threads (one instance each, same cache key) and 4 processes (spawned, one instance
  each) sharing a ``RedisTokenStore``, each making many calls, all starting together.
  Target: 1. Four processes without a store make one request each, for comparison.
  Requests are counted by LocalCognito (``token_requests("client_credentials")``); each
  scenario uses an app client of its own, so no cache is shared between scenarios.

Exits 0 and prints FAIL rows for missed targets; with ``--check`` a missed target exits 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import functools
import multiprocessing
import os
import platform
import statistics
import sys
import threading
import time
from typing import Any, Callable, List, Optional, Sequence, Tuple

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")  # everything here is loopback

from _repo import test_helper
from _results import publish
from bench_verify import cpu_line

import cognito_helper
from cognito_helper import (  # the public paths, the same in any tree
    ClientCredentials,
    CognitoConfig,
    HeldToken,
    RedisTokenStore,
    get_client_credentials_token,
)
from cognito_helper.testing import LocalCognito

_redis = test_helper("redis_server")  # the tests' throwaway redis-server
INSTALL, RedisServer, find_redis_server = (
    _redis.INSTALL,
    _redis.RedisServer,
    _redis.find_redis_server,
)

SECRET = "bench-m2m-client-secret-0123456789abcdef"
ROUNDS = 25
CALLS = 100_000  # per case and round
HIT_MAX_EXTRA_US = 2.0
THREAD_CALLS = 2_000  # per thread
PROCESS_CALLS = 2_000  # per process
ROUND_TRIPS = 200  # obtain() from Redis (a quarter as many token requests), for scale
SCALE_ROUNDS = 5  # of those: the median is shown
BOUND = 120  # seconds: the most any wait for a thread or process may take


# -- cost per call ----------------------------------------------------------------------------


def per_call_us(call: Callable[[], Any], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - started) / calls * 1e6


def dict_read_us(calls: int) -> float:
    cache = {"cache-key": "an-access-token"}
    key = "cache-key"
    started = time.perf_counter()
    for _ in range(calls):
        cache[key]
    return (time.perf_counter() - started) / calls * 1e6


@dataclasses.dataclass
class Case:
    name: str
    us: List[float] = dataclasses.field(default_factory=list)
    ratios: List[float] = dataclasses.field(default_factory=list)
    note: str = ""

    @property
    def median_us(self) -> float:
        return statistics.median(self.us)


def hit_costs(
    lc: LocalCognito, store: Optional[RedisTokenStore], rounds: int
) -> Tuple[Case, List[Case]]:
    """The dict floor and ``access_token()`` with a held token, without and with the store."""
    floor = Case("reading a dict: cache[key]")
    plain = ClientCredentials(config=client_config(lc, "bench-hit-plain"))
    cases: List[Tuple[Case, Callable[[], Any]]] = [
        (Case("cc.access_token(), token cached, no store"), plain.access_token)
    ]
    shared = Case("cc.access_token(), token cached, RedisTokenStore")
    if store is None:
        shared.note = f"n/a (redis-server not found: {INSTALL})"
    else:
        with_store = ClientCredentials(config=client_config(lc, "bench-hit-redis"), store=store)
        cases.append((shared, with_store.access_token))
    for _, call in cases:  # the one request each, and warm code paths
        per_call_us(call, 1000)
    dict_read_us(1000)
    for r in range(rounds):
        order = cases if r % 2 == 0 else cases[::-1]
        for case, call in order:
            before = dict_read_us(CALLS)
            us = per_call_us(call, CALLS)
            after = dict_read_us(CALLS)
            floor.us.append((before + after) / 2)
            case.us.append(us)
            case.ratios.append(us / ((before + after) / 2))
    return floor, [case for case, _ in cases] + ([shared] if store is None else [])


def round_trips(lc: LocalCognito, store: Optional[RedisTokenStore]) -> List[Case]:
    """For scale: a token found in Redis, and a token request to LocalCognito."""
    config = client_config(lc, "bench-round-trips")
    cc = ClientCredentials(config=config)  # its cache_key, the store's key
    found = Case("RedisTokenStore.obtain(), token in Redis (a cold process)")
    if store is None:
        found.note = f"n/a (redis-server not found: {INSTALL})"
    else:
        ClientCredentials(config=config, store=store).access_token()  # now in Redis

        def no_fetch() -> HeldToken:
            raise AssertionError("the token is in Redis: obtain() must not fetch")

        def obtain() -> HeldToken:
            return store.obtain(cc.cache_key, no_fetch, lambda held: time.time() < held.expires_at)

        found.us = [per_call_us(obtain, ROUND_TRIPS) for _ in range(SCALE_ROUNDS)]
    request = Case("get_client_credentials_token() to LocalCognito (loopback)")
    ask = functools.partial(get_client_credentials_token, config=config)
    request.us = [per_call_us(ask, ROUND_TRIPS // 4) for _ in range(SCALE_ROUNDS)]
    return [found, request]


# -- requests per lifetime --------------------------------------------------------------------


def client_config(lc: LocalCognito, client_id: str) -> CognitoConfig:
    """A confidential app client of its own (so its own cache key) on ``lc``."""
    lc.add_client(client_id, client_secret=SECRET)
    return dataclasses.replace(lc.config, client_id=client_id, client_secret=SECRET)


def _process(
    config: CognitoConfig, redis_url: Optional[str], calls: int, start: Any, done: Any
) -> None:
    """One process of a fleet (spawned): ``calls`` calls of ``access_token()``."""
    store = None
    if redis_url is not None:
        import redis

        client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        store = RedisTokenStore(client)
    cc = ClientCredentials(config=config, store=store)
    start.wait(BOUND)
    tokens = {cc.access_token() for _ in range(calls)}
    done.put(len(tokens))


def in_processes(config: CognitoConfig, redis_url: Optional[str], processes: int) -> None:
    ctx = multiprocessing.get_context("spawn")
    start, done = ctx.Barrier(processes), ctx.Queue()
    args = (config, redis_url, PROCESS_CALLS, start, done)
    workers = [ctx.Process(target=_process, args=args, daemon=True) for _ in range(processes)]
    for worker in workers:
        worker.start()
    try:
        for _ in workers:
            done.get(timeout=BOUND)
    finally:
        for worker in workers:
            worker.join(BOUND)
            if worker.is_alive():
                worker.kill()
    if any(worker.exitcode != 0 for worker in workers):
        raise RuntimeError(f"a process failed: exit codes {[w.exitcode for w in workers]}")


def in_threads(config: CognitoConfig, threads: int) -> None:
    start = threading.Barrier(threads)
    failures: List[BaseException] = []

    def calls() -> None:
        cc = ClientCredentials(config=config)
        try:
            start.wait(BOUND)
            for _ in range(THREAD_CALLS):
                cc.access_token()
        except BaseException as exc:
            failures.append(exc)

    running = [threading.Thread(target=calls) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join(BOUND)
    if failures:
        raise failures[0]


def requests_per_lifetime(lc: LocalCognito, server: Optional[RedisServer]) -> List[Tuple[str, str]]:
    """(scenario, token requests or n/a) rows; each scenario on an app client of its own."""

    def counted(run: Callable[[], None]) -> int:
        before = lc.token_requests("client_credentials")
        run()
        return lc.token_requests("client_credentials") - before

    one = client_config(lc, "bench-one-thread")
    sixteen = client_config(lc, "bench-16-threads")
    alone = client_config(lc, "bench-4-processes-alone")
    fleet = client_config(lc, "bench-4-processes-redis")
    rows = [
        (
            f"1 thread, {THREAD_CALLS} calls",
            counted(lambda: in_threads(one, 1)),
        ),
        (
            f"16 threads, {THREAD_CALLS} calls each",
            counted(lambda: in_threads(sixteen, 16)),
        ),
        (
            f"4 processes, {PROCESS_CALLS} calls each, no store (for comparison)",
            counted(lambda: in_processes(alone, None, 4)),
        ),
    ]
    name = f"4 processes, {PROCESS_CALLS} calls each, sharing a RedisTokenStore"
    if server is None:
        return [(n, str(c)) for n, c in rows] + [(name, f"n/a (redis-server not found: {INSTALL})")]
    rows.append((name, counted(lambda: in_processes(fleet, server.url, 4))))
    return [(n, str(c)) for n, c in rows]


# -- the report -------------------------------------------------------------------------------


def run(rounds: int) -> Tuple[List[str], bool]:
    lines: List[str] = []
    failed = False

    def verdict(ok: bool) -> str:
        nonlocal failed
        failed = failed or not ok
        return "PASS" if ok else "FAIL"

    program = find_redis_server()
    server = RedisServer(program).start() if program else None
    try:
        with LocalCognito(client_secret=SECRET) as lc:
            store = RedisTokenStore(server.client()) if server else None
            print(f"measuring {rounds} rounds of {CALLS} calls per case ...", file=sys.stderr)
            floor, hits = hit_costs(lc, store, rounds)
            scale = round_trips(lc, store)
            print("counting token requests ...", file=sys.stderr)
            fleet_rows = requests_per_lifetime(lc, server)
            server_errors = len(lc.server_errors)
    finally:
        if server is not None:
            server.stop()

    width = 60
    header = f"{'case':<{width}} {'us/call':>9} {'x dict':>8}  target"
    lines += [header, "-" * (len(header) + 40)]
    lines.append(f"{floor.name:<{width}} {floor.median_us:>9.3f} {1.0:>8.2f}")
    for case in hits:
        if case.note:
            lines.append(f"{case.name:<{width}} {case.note}")
            continue
        extra = case.median_us - floor.median_us
        target = f"<= {HIT_MAX_EXTRA_US:.1f} us more than the dict: {extra:+.3f} us " + verdict(
            extra <= HIT_MAX_EXTRA_US
        )
        ratio = statistics.median(case.ratios)
        lines.append(f"{case.name:<{width}} {case.median_us:>9.3f} {ratio:>8.2f}  {target}")
    for case in scale:
        if case.note:
            lines.append(f"{case.name:<{width}} {case.note}")
        else:
            ratio = case.median_us / floor.median_us
            lines.append(f"{case.name:<{width}} {case.median_us:>9.1f} {ratio:>8.0f}  (for scale)")
    lines.append("")
    header = f"{'token requests during one token lifetime':<{width + 10}} {'requests':>8}  target"
    lines += [header, "-" * (len(header) + 20)]
    for name, count in fleet_rows:
        if not count.isdigit():
            lines.append(f"{name:<{width + 10}} {count}")
        elif "no store" in name:
            lines.append(f"{name:<{width + 10}} {count:>8}  (one per process)")
        else:
            lines.append(f"{name:<{width + 10}} {count:>8}  1: {verdict(count == '1')}")
    if server_errors:
        lines.append(f"LocalCognito server errors: {server_errors}: FAIL")
        failed = True
    return lines, failed


def versions(program: Optional[str]) -> str:
    import redis

    server = "not found"
    if program:
        import subprocess

        out = subprocess.run(  # noqa: S603 - the redis-server found, --version only
            [program, "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout.split()
        server = next((w[2:] for w in out if w.startswith("v=")), "?")
    return (
        f"Python {platform.python_version()}, cognito_helper {cognito_helper.__version__}, "
        f"redis-py {redis.__version__}, redis-server {server}"
    )


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"default {ROUNDS}")
    parser.add_argument("--results", metavar="FILE", help="also write the report into FILE")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    print(f"measuring {cognito_helper.__file__}", file=sys.stderr)
    lines, failed = run(max(args.rounds, 3))
    date = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    intro = [
        f"cognito_helper machine-to-machine benchmark, {date}",
        f"CPU: {cpu_line()}",
        versions(find_redis_server()),
        f"{args.rounds} rounds; in each, every cached-token case makes {CALLS} calls between "
        f"two runs of {CALLS} dict reads; 'us/call' is the median over the rounds, 'x dict' "
        "the median of the per-round ratios to the mean of the two dict runs around it.",
        "",
    ]
    report = intro + lines + ["", f"run time: {time.perf_counter() - started:.0f} s"]
    publish(report, args.results, "Machine-to-machine benchmark results", "bench_m2m.py")
    return 1 if (failed and args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
