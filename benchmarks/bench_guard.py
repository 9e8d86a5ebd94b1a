"""What the Flask guard adds to a request whose token is remembered, over the route unguarded.

    pip install -e ".[flask]" && python benchmarks/bench_guard.py [--check] [--results FILE]

One Flask app, two views that return the same small JSON body: ``/open``, and ``/guarded``
under ``@require_token()`` (an access token, the process default configuration: a
LocalCognito pool on loopback). Every request carries the same ``Authorization: Bearer``
header, verified once before timing starts, so the guard's verification is answered by the
memo, as for a client that calls again with its token.

Each request is one WSGI call, ``app.wsgi_app(environ, start_response)``, on a copy of an
environ prepared once, the body read and closed: Flask's whole request handling (request
context, URL matching, dispatch, the JSON response) without the test client's overhead. As on a
server, where each request's header is a new ``str``, the header is a new string object with
the same text (cycling through ``COPIES`` of them), never the one verified first.

Timing: round by round, both routes serve ``REQUESTS`` requests, in turns (the first to run
alternates); a round's extra cost is the guarded route's time per request minus the open
route's in that round, and the report gives the medians over the rounds. Also shown, for scale:
``decode_verify_jwt`` on the same token (the memo hit the guard makes).

Target (issue 20): the guard adds at most 8 us per request. Runs on an older tree too
(``PYTHONPATH=<tree>``): it uses only ``cognito_helper.flask.require_token``,
``decode_verify_jwt``, ``configure`` and ``LocalCognito``.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import sys
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")  # everything here is loopback

from _results import publish  # benchmarks/, on sys.path when run as a script
from bench_verify import cpu_line

import cognito_helper
from cognito_helper import configure, decode_verify_jwt
from cognito_helper.testing import LocalCognito

ROUNDS = 40
REQUESTS = 2048  # per route and round (a multiple of COPIES)
COPIES = 64  # distinct str objects of the one header text
MAX_EXTRA_US = 8.0

WsgiApp = Callable[[Dict[str, Any], Callable[..., Any]], Any]


def make_app() -> Any:
    """The Flask app: ``/open`` and ``/guarded``, the same view body."""
    import flask

    from cognito_helper.flask import require_token

    app = flask.Flask("bench_guard")

    @app.get("/open")
    def open_view() -> Any:
        return {"ok": True}

    @app.get("/guarded")
    @require_token()
    def guarded_view() -> Any:
        return {"ok": True}

    return app


def environs(path: str, token: str) -> List[Dict[str, Any]]:
    """``COPIES`` WSGI environs of ``GET path`` with the bearer token, each header a new str."""
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
        "HTTP_ACCEPT": "application/json",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    header = f"Bearer {token}"
    return [
        dict(base, HTTP_AUTHORIZATION=header.encode("ascii").decode("ascii")) for _ in range(COPIES)
    ]


def serve(app: WsgiApp, requests: Sequence[Dict[str, Any]]) -> List[str]:
    """Serve each environ (a copy) once, the body read and closed: the statuses."""
    statuses: List[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        statuses.append(status)
        return None

    for environ in requests:
        body = app(dict(environ), start_response)
        for _ in body:
            pass
        close = getattr(body, "close", None)
        if close is not None:
            close()
    return statuses


def per_request_us(app: WsgiApp, requests: Sequence[Dict[str, Any]]) -> float:
    """Microseconds per request of :func:`serve` over ``requests``."""
    start = time.perf_counter()
    serve(app, requests)
    return (time.perf_counter() - start) / len(requests) * 1e6


def per_verify_us(tokens: Sequence[str]) -> float:
    """Microseconds per ``decode_verify_jwt`` of a remembered access token."""
    verify = decode_verify_jwt
    start = time.perf_counter()
    for token in tokens:
        verify(token, token_use="access")
    return (time.perf_counter() - start) / len(tokens) * 1e6


def rounds_of(rounds: int) -> Iterator[int]:
    for index in range(rounds):
        if index and index % 10 == 0:
            print(f"  ... round {index}/{rounds}", file=sys.stderr)
        yield index


def measure(rounds: int) -> Dict[str, List[float]]:
    """Per round: ``open`` and ``guarded`` us/request, their difference ``extra``, and
    ``memo`` (us per decode_verify_jwt of the same token)."""
    with LocalCognito() as lc:
        configure(lc.config)
        token = lc.mint("access")
        app = make_app().wsgi_app
        opened = [e for _ in range(REQUESTS // COPIES) for e in environs("/open", token)]
        guarded = [e for _ in range(REQUESTS // COPIES) for e in environs("/guarded", token)]
        tokens = [env["HTTP_AUTHORIZATION"][len("Bearer ") :] for env in guarded]
        for name, requests in (("/open", opened), ("/guarded", guarded)):
            statuses = set(serve(app, requests))  # warm up: the JWKS fetch, the memo, the code
            if statuses != {"200 OK"}:
                raise SystemExit(f"{name} answered {sorted(statuses)}, not 200 OK")
        per_verify_us(tokens)
        samples: Dict[str, List[float]] = {"open": [], "guarded": [], "extra": [], "memo": []}
        for r in rounds_of(rounds):
            turns = [("open", opened), ("guarded", guarded)]
            if r % 2:
                turns.reverse()
            times = {name: per_request_us(app, requests) for name, requests in turns}
            samples["open"].append(times["open"])
            samples["guarded"].append(times["guarded"])
            samples["extra"].append(times["guarded"] - times["open"])
            samples["memo"].append(per_verify_us(tokens))
        configure(None)
    return samples


def report(samples: Dict[str, List[float]]) -> Tuple[List[str], bool]:
    """The table, and whether the target holds."""
    median = {name: statistics.median(values) for name, values in samples.items()}
    extra = median["extra"]
    ok = extra <= MAX_EXTRA_US
    ratio = statistics.median(g / o for g, o in zip(samples["guarded"], samples["open"]))
    width = 60
    lines = [
        f"{'case':<{width}} {'us/request':>10}  target",
        "-" * (width + 50),
        f"{'Flask, unguarded route (WSGI call)':<{width}} {median['open']:>10.2f}",
        f"{'Flask, @require_token route, remembered token':<{width}} {median['guarded']:>10.2f}"
        f"  {ratio:.2f}x unguarded",
        f"{'the guard adds (median of per-round differences)':<{width}} {extra:>10.2f}"
        f"  <= {MAX_EXTRA_US:g} us: {'PASS' if ok else 'FAIL'}",
        f"{'for scale: decode_verify_jwt, the same token (memo hit)':<{width}} "
        f"{median['memo']:>10.2f}",
    ]
    return lines, ok


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Measure, print the table; with ``--check`` exit 1 when the target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"default {ROUNDS}")
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    parser.add_argument("--results", metavar="FILE", help="also write the report as Markdown")
    args = parser.parse_args(argv)
    print(f"measuring {cognito_helper.__file__}", file=sys.stderr)
    import flask

    lines, ok = report(measure(max(args.rounds, 3)))
    intro = [
        f"Flask guard on a remembered token, {args.rounds} rounds of {REQUESTS} requests per "
        "route (WSGI calls, turns alternating); medians over the rounds",
        f"CPU: {cpu_line()}",
        f"Python {platform.python_version()}, cognito_helper {cognito_helper.__version__}, "
        f"Flask {_version_of(flask)}",
        "",
    ]
    publish(intro + lines, args.results, "Flask guard benchmark results", "bench_guard.py")
    return 0 if ok or not args.check else 1


def _version_of(module: Any) -> str:
    try:
        from importlib.metadata import version

        return version(module.__name__)
    except Exception:  # a vendored or renamed install: the report still runs
        return "?"


if __name__ == "__main__":
    sys.exit(main())
