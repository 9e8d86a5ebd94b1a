"""A throwaway ``redis-server`` on a free loopback port, for the Redis store's tests and benchmark.

:class:`RedisServer` needs nothing but the standard library and Debian's ``redis-server``
(``.ci/run`` installs it): no persistence, its files in a temporary directory removed at
:meth:`RedisServer.stop`. :func:`redis_server_path` finds the program and, in a test, skips
locally or fails under ``CI=true`` when it is missing, as the browser test does.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, List, Optional

INSTALL = "sudo apt-get install redis-server && pip install -e '.[test]'"
DEBIAN_PATH = "/usr/bin/redis-server"
START_TIMEOUT = 10.0  # seconds until PING must answer


def find_redis_server() -> Optional[str]:
    """``$REDIS_SERVER`` when set, else Debian's path, else ``redis-server`` on the PATH."""
    override = os.environ.get("REDIS_SERVER")
    if override:
        return override if Path(override).is_file() else None
    if Path(DEBIAN_PATH).is_file():
        return DEBIAN_PATH
    return shutil.which("redis-server")


def redis_server_path() -> str:
    """The program, for a test: skips locally and fails under ``CI=true`` when it (or the
    ``redis`` package) is missing."""

    found = find_redis_server()
    reason = None
    if found is None:
        reason = f"redis-server not found (looked at $REDIS_SERVER, {DEBIAN_PATH}, the PATH)"
    elif importlib.util.find_spec("redis") is None:
        reason = "the redis package is not installed"
    if reason is not None:
        from .helpers import unavailable

        unavailable("the Redis tests", reason, INSTALL)
    assert found is not None
    return found


def _free_port() -> int:
    # helpers.free_port, written again: benchmarks/_repo.py loads this file alone, by path, so
    # it imports nothing from tests/ at module level.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """``redis-server --port P --bind 127.0.0.1 --save "" --appendonly no --dir TMP``.

    ``port`` 0 picks a free one. :meth:`start` returns once PING answers (within
    :data:`START_TIMEOUT` seconds, or ``RuntimeError`` with the server's log); :meth:`stop`
    ends it and removes its directory. Also a context manager. :meth:`client` makes a
    ``redis.Redis`` for it.
    """

    def __init__(self, program: str, *, port: int = 0) -> None:
        self.program = program
        self.port = port
        self._fixed_port = port
        self._dir: Optional[str] = None
        self._process: Optional[subprocess.Popen[bytes]] = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start on the given port, or on a free one (another one if it was taken meanwhile)."""
        self._dir = tempfile.mkdtemp(prefix="cognito-helper-redis-")
        for _ in range(1 if self._fixed_port else 3):
            if self._start_on(self._fixed_port or _free_port()):
                return self
        log = self._log()
        self.stop()
        raise RuntimeError(f"redis-server did not answer PING within {START_TIMEOUT} s:\n{log}")

    def _start_on(self, port: int) -> bool:
        assert self._dir is not None
        self.port = port
        args: List[str] = [
            self.program,
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", self._dir,
            "--logfile", os.path.join(self._dir, "redis.log"),
        ]  # fmt: skip
        self._process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:  # exited: the port was taken, most likely
                return False
            if _ping(port):
                return True
            time.sleep(0.02)
        self._kill()
        return False

    def _log(self) -> str:
        if self._dir is None:
            return ""
        path = Path(self._dir, "redis.log")
        return path.read_text(errors="replace")[-2000:] if path.is_file() else "(no log)"

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def stop(self) -> None:
        """Stop the server (idempotent) and remove its directory."""
        self._kill()
        directory, self._dir = self._dir, None
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)

    def client(self, **options: Any) -> Any:
        """A ``redis.Redis`` for this server, with 2-second socket timeouts unless given."""
        import redis

        options.setdefault("socket_timeout", 2.0)
        options.setdefault("socket_connect_timeout", 2.0)
        return redis.Redis(host="127.0.0.1", port=self.port, **options)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
