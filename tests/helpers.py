"""Helpers the test modules share: the standard user, a hosted-UI sign-in, an at_hash oracle,
:func:`verify` (a token against an ``issuer`` fixture's config), :func:`free_port`,
:func:`load_example`, :func:`imports` (what a fresh interpreter imports), :func:`unavailable`,
:func:`run_in_threads`, and the hostile-table :class:`Case` with the cases every verifier
refuses alike.

The ``lc`` and ``make_lc`` fixtures (``conftest.py``) start LocalCognito providers with the
user below already added; :func:`sign_in` signs that user in the way a browser would.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, NoReturn, Optional, Union
from urllib.parse import parse_qs, urlsplit

from cognito_helper import (
    InvalidSignatureError,
    LoginRequest,
    MalformedTokenError,
    TokenExpiredError,
    TokenVerificationError,
    decode_verify_jwt,
)
from cognito_helper.testing import LocalCognito

from .tokens import b64

if TYPE_CHECKING:
    from .conftest import Issuer

# This checkout: the package, README.md and examples/.
ROOT = Path(__file__).resolve().parents[1]

# The user every provider made by the ``lc`` and ``make_lc`` fixtures has.
USER = "alice"
PASSWORD = "Alice-Passw0rd!"
EMAIL = "alice@example.com"
GROUPS = ("staff",)

# The type of the ``make_lc`` fixture: ``make_lc(**LocalCognito options) -> LocalCognito``.
MakeLocalCognito = Callable[..., LocalCognito]


@dataclass(frozen=True)
class SignIn:
    """What came back from the hosted UI: the callback URL and the ``code`` and ``state`` on it,
    with the verifier and nonce of the login it answers (None when the login was started
    elsewhere and only its URL was given)."""

    redirect: str
    code: str
    state: Optional[str]
    code_verifier: Optional[str]
    nonce: Optional[str]


def sign_in(
    lc: LocalCognito,
    login: Union[LoginRequest, str, None] = None,
    *,
    username: str = USER,
    password: str = PASSWORD,
) -> SignIn:
    """Sign ``username`` in on ``lc``'s hosted UI, as a browser would, and read the callback.

    ``login`` is the sign-in to follow: a :class:`LoginRequest`, or a sign-in URL started
    elsewhere (the CLI, an app under test). By default a new one is started with ``lc.config``.
    When the login's state is known, the callback must carry it back.
    """
    if login is None:
        login = lc.config.start_login()
    url = login if isinstance(login, str) else login.url
    redirect = lc.sign_in(url, username, password)
    query = parse_qs(urlsplit(redirect).query)
    assert "code" in query, f"no code on the callback: {redirect}"
    state = query["state"][0] if "state" in query else None
    if isinstance(login, str):
        return SignIn(redirect, query["code"][0], state, None, None)
    assert state == login.state, (state, login.state)
    return SignIn(redirect, query["code"][0], state, login.code_verifier, login.nonce)


def at_hash(access_token: str) -> str:
    """The OIDC ``at_hash`` of an RS256 access token, computed here, independently of the
    library (a test oracle): the unpadded base64url of the left half of its SHA-256."""
    return b64(hashlib.sha256(access_token.encode()).digest()[:16])


def verify(issuer: Issuer, token: Any, **options: Any) -> Dict[str, Any]:
    """``decode_verify_jwt(token, config=issuer.config, **options)``: a token checked against
    the ``issuer`` fixture's pool (``conftest.Issuer``)."""
    return decode_verify_jwt(token, config=issuer.config, **options)


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released): free to listen on, and a
    connection to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def load_example(name: str) -> ModuleType:
    """``examples/{name}.py`` imported anew as module ``{name}_example`` (not in sys.modules)."""
    spec = importlib.util.spec_from_file_location(
        f"{name}_example", ROOT / "examples" / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def example_env(**variables: str) -> Dict[str, str]:
    """The test's environment without COGNITO_* and PORT, this checkout first on the path,
    unbuffered output, plus ``variables``: for running an example as a program."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COGNITO_")}
    env.pop("PORT", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    env.update(variables)
    return env


@dataclass
class ExampleRun:
    """An example running as a program; ``out`` and ``err`` are its output once it stopped."""

    process: subprocess.Popen[str]
    out: str = ""
    err: str = ""


@contextmanager
def running_example(name: str, cwd: Path, env: Dict[str, str], port: int) -> Iterator[ExampleRun]:
    """``python examples/{name}.py`` in ``cwd`` with ``env``, once it accepts connections on
    ``port`` (within 30 s); stopped after the block."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / f"{name}.py")],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    run = ExampleRun(process)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, "the example exited: " + process.communicate()[1]
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the example did not start listening"
                time.sleep(0.05)
        yield run
    finally:
        process.terminate()
        run.out, run.err = process.communicate(timeout=15)


def unavailable(tests: str, reason: str, install: str) -> NoReturn:
    """A test that needs an outside program it cannot have: skipped locally (with the command
    that installs it), failed under ``CI=true``, where every test must run."""
    import pytest

    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {tests} cannot run: {reason}; install: {install}")
    pytest.skip(f"{reason}; to run {tests}: {install}")


def run_in_threads(count: int, work: Callable[[], object]) -> List[BaseException]:
    """Run ``work`` in ``count`` threads released at once (a barrier); what they raised."""
    barrier = threading.Barrier(count)
    errors: List[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            work()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return errors


# -- the hostile tables (tests/test_adversarial.py, tests/test_alb_verify.py) ------------------


@dataclass(frozen=True)
class Case:
    """One hostile token of a table: made from the table's context by ``make_token``, it must
    fail with exactly ``expected_error`` (with the verifier's ``options``)."""

    name: str
    category: str
    make_token: Callable[[Any], Any]
    expected_error: type
    options: Dict[str, Any] = field(default_factory=dict)


def refused_as_the_case_says(
    case: Case, ctx: Any, verify: Callable[[Any], object], hostile: Any
) -> Any:
    """Verify ``case``'s token with ``verify``: it must fail with exactly the case's error,
    ``hostile`` (a watched server) must have heard nothing, and the message must not show the
    token. Returns the token."""
    import pytest

    token = case.make_token(ctx)
    with pytest.raises(TokenVerificationError) as info:
        verify(token)
    assert type(info.value) is case.expected_error, f"{type(info.value).__name__}: {info.value}"
    assert hostile.requests == [], "a header made the library contact a server"
    if isinstance(token, str):
        shown = str(info.value) + repr(info.value)
        assert not [s for s in token.split(".") if len(s) >= 8 and s in shown]
    return token


def segments(token: str) -> List[str]:
    return token.split(".")


def _header_with(ctx: Any, member: bytes) -> bytes:
    """The context's good header as JSON bytes, with ``member`` added at its end."""
    return json.dumps(ctx.header()).encode()[:-1] + b", " + member + b"}"


def compact_form_cases() -> List[Case]:
    """The ``structure`` cases every verifier refuses alike, with MalformedTokenError: the
    compact form (segments, alphabet, white space, size, type) and the package's one JSON rule
    for the header and for a validly signed payload.

    ``make_token`` takes a table's context: ``signed()`` (a good token), ``raw(header,
    payload)`` (exactly these bytes, validly signed), ``header()`` and ``claims()`` (good ones).
    """

    def case(name: str, make_token: Callable[[Any], Any]) -> Case:
        return Case(name, "structure", make_token, MalformedTokenError)

    return [
        case("two-segments", lambda c: ".".join(segments(c.signed())[:2])),
        case("four-segments", lambda c: c.signed() + ".AAAA"),
        case("empty-string", lambda c: ""),
        case("only-dots", lambda c: ".."),
        case("empty-signature-segment", lambda c: ".".join(segments(c.signed())[:2]) + "."),
        case(
            "standard-base64-alphabet",
            lambda c: c.signed().replace("-", "+").replace("_", "/") + "+/",
        ),
        case("trailing-newline", lambda c: c.signed() + "\n"),
        case("leading-space", lambda c: " " + c.signed()),
        case("header-not-json", lambda c: c.raw(b"not json", c.claims())),
        case("header-json-array", lambda c: c.raw(b"[1,2]", c.claims())),
        case("header-nan", lambda c: c.raw(_header_with(c, b'"x": NaN'), c.claims())),
        case("header-not-utf8", lambda c: c.raw(_header_with(c, b'"x": "\xff\xfe"'), c.claims())),
        case(
            "header-with-utf8-bom",
            lambda c: c.raw(b"\xef\xbb\xbf" + json.dumps(c.header()).encode(), c.claims()),
        ),
        case("payload-not-json-signed", lambda c: c.raw(c.header(), b"not json")),
        case("payload-json-array-signed", lambda c: c.raw(c.header(), b"[]")),
        case("oversized-token", lambda c: c.signed(padding="x" * (64 * 1024))),
        case("bytes-not-str", lambda c: c.signed().encode()),
        case("none-not-str", lambda c: None),
    ]


def with_signature(
    ctx: Any, change: Callable[[bytes], bytes], encode: Callable[[bytes], str] = b64
) -> str:
    """A good token of ``ctx`` whose signature bytes are ``change``d, then ``encode``d."""
    head, body, sig = segments(ctx.signed())
    raw = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    return f"{head}.{body}.{encode(change(raw))}"


def tampered_signature_cases(encode: Callable[[bytes], str] = b64) -> List[Case]:
    """The ``signature`` cases every verifier refuses alike, with InvalidSignatureError: a good
    token's signature zeroed or with its last bit flipped (``encode``: how the table writes a
    segment), and a good signature under another good payload."""

    def swapped_payload(ctx: Any) -> str:
        head, _, sig = segments(ctx.signed())
        _, other_body, _ = segments(ctx.signed(sub="someone-else"))
        return f"{head}.{other_body}.{sig}"

    def case(name: str, make_token: Callable[[Any], Any]) -> Case:
        return Case(name, "signature", make_token, InvalidSignatureError)

    return [
        case("signature-all-zeros", lambda c: with_signature(c, lambda s: bytes(len(s)), encode)),
        case(
            "signature-last-bit-flipped",
            lambda c: with_signature(c, lambda s: s[:-1] + bytes([s[-1] ^ 1]), encode),
        ),
        case("swapped-payload", swapped_payload),
    ]


def expiry_cases() -> List[Case]:
    """The ``claims`` cases of ``exp`` every verifier refuses alike, with TokenExpiredError, for
    a table whose context has ``now`` (the pinned clock) and ``signed(exp=...)``: ``exp``
    equal to now, a second ago, and a second beyond a 30-second leeway."""

    def case(name: str, ago: int, **options: Any) -> Case:
        return Case(name, "claims", lambda c: c.signed(exp=c.now - ago), TokenExpiredError, options)

    return [
        case("exp-equals-now", 0),
        case("exp-one-second-ago", 1),
        case("exp-beyond-the-leeway", 31, leeway=30),
    ]


#: What an app that uses no framework imports and touches: for :func:`imports`.
PLAIN_USE = (
    "import cognito_helper, cognito_helper.integrations.bearer\ncognito_helper.decode_verify_jwt"
)


def imports(code: str, module: str) -> bool:
    """Whether running ``code`` in a fresh interpreter ends with ``module`` imported."""
    return imported(code, module) == [module]


def imported(code: str, *modules: str) -> List[str]:
    """Which of ``modules`` running ``code`` in a fresh interpreter, with this checkout first
    on its path, ends with imported (a submodule imports its package too). ``code`` must run
    without error."""
    probe = f"{code}\nimport sys\nprint(' '.join(m for m in {modules!r} if m in sys.modules))"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=ROOT, env=env
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.split()
