"""What a new user copies from the documentation works.

Every Python snippet of README.md, SECURITY.md and docs/*.md runs: as printed here, or in the
test its marker names, which completes it when it is a fragment (``tests/snippets.py`` reads
them all and explains the markers). The README's fragments that belong to no module's own tests
are completed here, offline, against LocalCognito, a loopback API and a real ``redis-server``.
Every ``pip install`` the project prints installs this checkout, never a name on a package index.
"""

from __future__ import annotations

import ast
import re
import sys
import types
import uuid
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

import pytest
import requests

import cognito_helper
from cognito_helper import (
    CognitoConfig,
    InvalidClaimsError,
    decode_verify_jwt,
    set_verification_memo_size,
    verification_memo_info,
)
from cognito_helper.testing import LocalCognito

from .helpers import MakeLocalCognito
from .redis_server import RedisServer, redis_server_path
from .servers import Handler, ScriptedServer, send
from .snippets import (
    AS_PRINTED,
    FRAGMENT,
    PYTHON_INFO,
    ROOT,
    Snippet,
    all_snippets,
    documents,
    fences,
    snippets_for,
)

SNIPPETS = all_snippets()

# -- every snippet runs -------------------------------------------------------------------


@pytest.mark.parametrize("snippet", [s for s in SNIPPETS if s.kind == AS_PRINTED], ids=str)
def test_snippet_runs_as_printed(snippet: Snippet) -> None:
    size = verification_memo_info().maxsize
    try:
        snippet.run()
    finally:
        set_verification_memo_size(size)  # the memo snippet changes it for the process


def _definition(tree: ast.Module, qualname: str) -> Optional[ast.AST]:
    """The function or class ``qualname`` (``name`` or ``Class.name``) defined in ``tree``."""
    body: List[ast.stmt] = tree.body
    found: Optional[ast.AST] = None
    for part in qualname.split("."):
        found = next(
            (
                node
                for node in body
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                and node.name == part
            ),
            None,
        )
        if found is None:
            return None
        body = found.body  # type: ignore[attr-defined]
    return found


def test_every_marker_names_a_test_that_asks_for_its_snippets() -> None:
    """A snippet not run as printed names its test, and that test exists and calls
    ``snippets_for(itself)``: no snippet is left out, whatever the marker says."""
    assert SNIPPETS, "no python snippet found: the extractor is broken"
    for snippet in SNIPPETS:
        if snippet.kind == AS_PRINTED:
            continue  # test_snippet_runs_as_printed runs it
        assert snippet.test is not None
        path, _, qualname = snippet.test.partition("::")
        assert (ROOT / path).is_file(), f"{snippet}: its marker names a missing file {path}"
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        definition = _definition(tree, qualname)
        assert definition is not None, f"{snippet}: {snippet.test} is not defined"
        asks = [
            node
            for node in ast.walk(definition)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "snippets_for"
            and [ast.unparse(arg) for arg in node.args] == [qualname]
        ]
        assert asks, f"{snippet}: {snippet.test} never calls snippets_for({qualname})"


def test_no_python_hides_under_another_fence() -> None:
    """Only ```python fences are run, so Python code must not sit in a fence labelled
    otherwise (``py``, none) where the tests above would never see it."""
    assert documents()[0].name == "README.md"
    for path in documents():
        for fence in fences(path):
            if fence.info == "python":
                continue
            where = f"{path.name}:{fence.line}"
            assert fence.info not in PYTHON_INFO, f"{where}: label it ```python"
            try:
                tree = ast.parse(fence.text)
            except SyntaxError:
                continue  # a shell session, a table: not Python
            code = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)
            assert not any(isinstance(node, code) for node in ast.walk(tree)), (
                f"{where}: Python code in a ```{fence.info} fence"
            )


def test_the_extractor_reads_markers_and_refuses_a_malformed_one(tmp_path: Path) -> None:
    from .snippets import snippet_of

    text = (
        "# Top\n\n<!-- snippet: fragment, completed by tests/test_x.py::test_y -->\n"
        "```python\nx = token\n```\n\n## Next\n<!-- snippet: fragmant tests/x.py::y -->\n"
        "```python\npass\n```\n"
    )
    (tmp_path / "doc.md").write_text(text, encoding="utf-8")
    first, second = fences(tmp_path / "doc.md")
    fragment = snippet_of(first)
    assert (fragment.kind, fragment.test, fragment.line, fragment.heading) == (
        FRAGMENT,
        "tests/test_x.py::test_y",
        5,
        "Top",
    )
    assert fragment.source == "x = token\n"
    with pytest.raises(AssertionError, match="malformed snippet marker"):
        snippet_of(second)


# -- the README's fragments -----------------------------------------------------------------


def test_verify_tokens(lc: LocalCognito) -> None:
    (call,) = snippets_for(test_verify_tokens)
    cognito_helper.configure(lc.config)
    token = lc.mint("access", scope="orders/read")
    claims = call.run(token=token, decode_verify_jwt=decode_verify_jwt)["claims"]
    assert claims["scope"] == "orders/read"
    with pytest.raises(InvalidClaimsError):
        call.run(token=lc.mint("access"), decode_verify_jwt=decode_verify_jwt)


def test_a_check_of_your_own(lc: LocalCognito) -> None:
    flask = pytest.importorskip("flask")
    (check,) = snippets_for(test_a_check_of_your_own)
    cognito_helper.configure(lc.config)
    names = {"InvalidClaimsError": InvalidClaimsError, "decode_verify_jwt": decode_verify_jwt}
    with flask.Flask("tenants").test_request_context(base_url="https://acme.example.com"):
        token = lc.mint("id", **{"custom:tenant": "acme"})
        assert check.run(token=token, request=flask.request, **names)["claims"]["sub"]
        other = lc.mint("id", **{"custom:tenant": "globex"})
        with pytest.raises(InvalidClaimsError, match="another tenant") as refused:
            check.run(token=other, request=flask.request, **names)
        assert refused.value.claim == "custom:tenant"


def test_several_clients_and_pools(lc: LocalCognito) -> None:
    """The snippet's pools are real AWS ones: their JWKS is preloaded (LocalCognito's keys),
    so the tokens minted for them verify without any request."""
    (several,) = snippets_for(test_several_clients_and_pools)
    jwks = requests.get(lc.jwks_url, timeout=10).json()
    for region, pool in (("us-east-1", "us-east-1_Customers"), ("eu-west-1", "eu-west-1_Staff")):
        cognito_helper.jwks_cache(
            f"https://cognito-idp.{region}.amazonaws.com/{pool}/.well-known/jwks.json"
        ).preload(jwks)

    def token(pool: str, client_id: str) -> str:
        region = pool.split("_")[0]
        issuer = f"https://cognito-idp.{region}.amazonaws.com/{pool}"
        return lc.mint("access", iss=issuer, client_id=client_id)

    names = {"CognitoConfig": CognitoConfig, "decode_verify_jwt": decode_verify_jwt}
    for pool, client_id in (
        ("us-east-1_Customers", "mobile-client-id"),
        ("eu-west-1_Staff", "staff-client-id"),
    ):
        claims = several.run(token=token(pool, client_id), **names)["claims"]
        assert claims["client_id"] == client_id
    with pytest.raises(InvalidClaimsError) as refused:
        several.run(token=token("eu-west-1_Staff", "web-client-id"), **names)
    assert refused.value.claim == "client_id"


class Orders:
    """``/v1/orders`` on a loopback server standing in for https://orders.example.com."""

    def __init__(self, server: ScriptedServer) -> None:
        self.server = server
        server.routes["/v1/orders"] = self._answer

    def _answer(self, h: Handler) -> None:
        if (h.headers.get("Authorization") or "").startswith("Bearer "):
            send(h, 200, b'{"orders":[]}')
        else:
            send(h, 401, b'{"message":"Unauthorized"}', headers={"WWW-Authenticate": "Bearer"})

    @property
    def tokens(self) -> List[str]:
        with self.server.lock:
            seen = [headers.get("Authorization", "") for _, _, headers, _ in self.server.requests]
        return [value.partition(" ")[2] for value in seen]


@pytest.fixture
def orders_api() -> Iterator[Tuple[Orders, str]]:
    with ScriptedServer() as server:
        yield Orders(server), server.url


@pytest.fixture
def m2m_lc(make_lc: MakeLocalCognito) -> LocalCognito:
    """A confidential client whose resource server has the README's scopes, the default config.
    The secret is new per test, so no token held for another test's provider is shared."""
    lc = make_lc(
        client_secret=f"snippet-secret-{uuid.uuid4().hex}",
        custom_scopes=("orders/read", "orders/write"),
    )
    cognito_helper.configure(lc.config)
    return lc


def test_machine_to_machine(m2m_lc: LocalCognito, orders_api: Tuple[Orders, str]) -> None:
    api, url = orders_api
    plain, with_httpx = snippets_for(test_machine_to_machine)
    production = {"https://orders.example.com": url}
    namespace = plain.replacing(production).run()
    assert namespace["resp"].status_code == 200
    assert api.tokens == [namespace["token"]]
    assert m2m_lc.token_requests("client_credentials") == 1  # then orders.invalidate()
    pytest.importorskip("httpx")
    with_httpx.replacing(production).run(orders=namespace["orders"])
    assert len(api.tokens) == 3 and api.tokens[1] == api.tokens[2] != namespace["token"]
    assert m2m_lc.token_requests("client_credentials") == 2


def test_one_token_across_a_fleet(m2m_lc: LocalCognito, orders_api: Tuple[Orders, str]) -> None:
    (fleet,) = snippets_for(test_one_token_across_a_fleet)
    api, url = orders_api
    with RedisServer(redis_server_path()) as redis_server:
        production = {
            "redis://cache.internal:6379/0": redis_server.url,
            "https://orders.example.com": url,
        }
        namespace = fleet.replacing(production).run()
        stored = namespace["client"].keys("cognito-helper:*")
        namespace["client"].close()
    assert len(api.tokens) == 1 and api.tokens[0]
    assert m2m_lc.token_requests("client_credentials") == 1
    assert any(key.endswith(b":token") for key in stored)


def test_behind_an_alb(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app snippet is the module ``app`` that the test snippet imports; the test runs."""
    pytest.importorskip("flask")
    app_snippet, test_snippet = snippets_for(test_behind_an_alb)
    app_module = types.ModuleType("app")
    app_module.__dict__.update(app_snippet.run(module="app"))
    monkeypatch.setitem(sys.modules, "app", app_module)
    test_snippet.run(module="test_app")["test_profile_behind_the_alb"]()


# -- what the README tells a new user to install --------------------------------------------


def _text_files() -> Iterator[Path]:
    """Every file the project ships or runs that may print an install command."""
    yield from documents()
    for pattern in ("*.md", "*.py", ".ci/*", "*.toml"):
        yield from ROOT.glob(pattern)
    for folder in ("cognito_helper", "tests", "examples", "benchmarks", "fuzz"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in (".py", ".md") and "__pycache__" not in path.parts:
                yield path


def test_every_pip_install_installs_this_checkout() -> None:
    """The package is installed from source and its name is not registered on the package
    index: a ``pip install 'cognito-helper[x]'`` would install whatever someone publishes
    under that name one day. Every install command names this checkout: ``.`` or ``".[x]"``."""
    commands = 0
    for path in set(_text_files()):
        if path == Path(__file__) or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        where = path.relative_to(ROOT)
        assert not re.search(r"cognito[-_]helper\[", text), f"{where} installs by name"
        for match in re.finditer(r"pip install((?:\s+-[-\w]+)*)\s+(\S+)", text):
            commands += 1
            target = match.group(2).lstrip("`")  # what follows may close a string or `...`
            assert re.match(r"""(["']?)\.(\[[\w,-]+\])?\1(?![\w./\[-])""", target), (
                f"{where}: {match.group(0)!r} installs from a package index, not this checkout"
            )
    assert commands >= 10, "the search for install commands found almost none: broken"


def test_flask_async_is_named_once_as_part_of_the_flask_extra() -> None:
    """The ``flask`` extra is ``flask[async]``: the README says so once, beside the install
    line; nothing tells a user to install it on its own."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = [line for line in readme.splitlines() if "flask[async]" in line]
    assert len(lines) == 1, lines
    assert 'pip install ".[flask]"' in lines[0] and "includes" in lines[0], lines[0]
    for path in sorted((ROOT / "cognito_helper").rglob("*.py")):
        assert "flask[async]" not in path.read_text(encoding="utf-8"), path
