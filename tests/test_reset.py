"""The process's state has one reset: ``cognito_helper.testing.reset()``.

Every piece of module-level state the package keeps is a part listed in
``cognito_helper.testing.state.PARTS``. The first tests fill every part through the library's
own calls (over loopback HTTP to LocalCognito and LocalALB) and check that ``reset()`` empties
each and restores the default sizes. The last scans the package's source: a module-level
mutable value (a dict, set, list or other object built at import, a name a function rebinds
with ``global``, an ``lru_cache``) that is neither a part nor on this file's list of tables
that never change fails it, so a new singleton cannot escape the reset.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import sys
import warnings
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple

import pytest

import cognito_helper
from cognito_helper import (
    ClientCredentials,
    ConfigError,
    decode_verify_jwt,
    get_client_credentials_token,
    get_cognito_tokens,
    get_config,
    set_verification_memo_size,
    verification_memo_info,
    verify_alb_request,
)
from cognito_helper.config import UnknownVariableWarning
from cognito_helper.core import http as _http
from cognito_helper.testing import LocalALB, LocalCognito, reset
from cognito_helper.testing.state import PARTS
from cognito_helper.verification import alb as _alb
from cognito_helper.verification.alb_settings import alb_settings
from cognito_helper.verification.memo import DEFAULT_MAXSIZE

from .helpers import USER, MakeLocalCognito, sign_in

PACKAGE = Path(cognito_helper.__file__).parent

SECRET = "reset-test-secret"

#: The pool's variables in the environment, and one misspelt name (warned about once).
ENVIRON = {
    "COGNITO_USER_POOL_ID": "us-east-1_AbC123",
    "COGNITO_CLIENT_ID": "1example23456789abcdefghij",
    "COGNITO_LOGOUT_URL": "https://app.example.com/",  # did you mean COGNITO_LOGOUT_URI?
}


def held(value: Any) -> int:
    """How much a part's object holds: entries of a cache, memo or registry; 1 for a value
    set (a default config, an HTTP session), 0 for ``None``."""
    if value is None:
        return 0
    if hasattr(value, "cache_info"):  # an lru_cache
        return int(value.cache_info().currsize)
    if hasattr(value, "info"):  # a VerificationMemo
        return int(value.info().currsize)
    if hasattr(value, "__len__"):
        return len(value)
    return 1


def holdings() -> Dict[str, int]:
    """``"module:name" -> held(...)`` for every name of every part."""
    found = {}
    for part in PARTS:
        module = importlib.import_module(part.module)
        for name in part.names:
            found[f"{part.module}:{name}"] = held(getattr(module, name))
    return found


class Filled:
    """What the filling calls used, to call them again after the reset."""

    def __init__(self, lc: LocalCognito, alb: LocalALB) -> None:
        self.lc = lc
        self.alb = alb
        self.session: Any = None
        self.settings: Any = None


def fill(lc: LocalCognito, alb: LocalALB, monkeypatch: pytest.MonkeyPatch) -> Filled:
    """Put something in every part through the library's own calls."""
    filled = Filled(lc, alb)
    for name, value in ENVIRON.items():
        monkeypatch.setenv(name, value)
    with pytest.warns(UnknownVariableWarning):
        get_config()  # the env config, read once, and the misspelt name, warned about once
    cognito_helper.configure(lc.config)  # the default
    set_verification_memo_size(7)
    _alb.memo.resize(3)
    login = lc.config.start_login()
    signed = sign_in(lc, login)
    tokens = get_cognito_tokens(signed.code, code_verifier=login.code_verifier)  # HTTP session
    decode_verify_jwt(  # JWKS cache, memo, header kid, at_hash
        tokens.id_token, token_use="id", nonce=login.nonce, access_token=tokens.access_token
    )
    verify_alb_request(alb.headers(USER), **alb.verify_options)  # key cache, ALB memo, settings
    filled.settings = alb_settings(alb.alb_arn, None, alb.client_id, alb.issuer, alb.key_url)
    credentials = ClientCredentials("localapi/read")
    credentials.access_token()  # an M2M slot
    rotated = dataclasses.replace(lc.config, client_secret=["reset-stale-secret", SECRET])
    get_client_credentials_token("localapi/read", config=rotated)  # the second secret works
    filled.session = _http.session()
    django = pytest.importorskip("cognito_helper.integrations.django")

    class Authentication(django.CognitoAuthentication):
        config = lc.config

    Authentication().get_config()  # the configs the DRF guard built
    from django.test import override_settings

    from cognito_helper.integrations.django_settings import sign_in as django_sign_in

    from .django_setup import configure_django

    configure_django()
    with override_settings(COGNITO=lc.config):
        django_sign_in()  # the Django sign-in's CognitoSessions
    return filled


@pytest.fixture
def pair(make_lc: MakeLocalCognito) -> Iterator[Tuple[LocalCognito, LocalALB]]:
    lc = make_lc(client_secret=SECRET)
    with LocalALB(lc) as alb:
        yield lc, alb


def test_reset_empties_every_part_a_process_filled(
    pair: Tuple[LocalCognito, LocalALB], monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(*pair, monkeypatch)
    before = holdings()
    assert [name for name, count in before.items() if count == 0] == []  # all filled
    reset()
    assert holdings() == {name: 0 for name in before}


def test_reset_restores_the_default_sizes_and_the_next_calls_start_afresh(
    pair: Tuple[LocalCognito, LocalALB], monkeypatch: pytest.MonkeyPatch
) -> None:
    lc, alb = pair
    filled = fill(lc, alb, monkeypatch)
    jwks_fetches, key_fetches = lc.jwks_requests, alb.key_requests
    reset()
    assert verification_memo_info() == (0, 0, DEFAULT_MAXSIZE, 0)
    assert _alb.memo.info() == (0, 0, _alb.MEMO_SIZE, 0)
    assert _http.session() is not filled.session
    settings = alb_settings(alb.alb_arn, None, alb.client_id, alb.issuer, alb.key_url)
    assert settings == filled.settings and settings is not filled.settings
    with pytest.warns(UnknownVariableWarning):  # warned again, and the env read again
        assert get_config() != lc.config
    for name in ENVIRON:
        monkeypatch.delenv(name)
    cognito_helper.configure(None)
    with pytest.raises(ConfigError):
        get_config()  # no default is left
    decode_verify_jwt(lc.mint("id"), config=lc.config)
    verify_alb_request(alb.headers(USER), config=lc.config, **alb.verify_options)
    assert (lc.jwks_requests, alb.key_requests) == (jwks_fetches + 1, key_fetches + 1)


def test_a_test_that_fills_every_part_leaves_it_filled(
    pair: Tuple[LocalCognito, LocalALB], monkeypatch: pytest.MonkeyPatch
) -> None:
    """For the next test: conftest's ``clean_state`` must empty what this one leaves."""
    fill(*pair, monkeypatch)
    assert [name for name, count in holdings().items() if count == 0] == []


def test_the_next_test_starts_with_every_part_empty() -> None:
    assert holdings() == {name: 0 for name in holdings()}


def test_reset_imports_nothing() -> None:
    """A part whose module was never imported holds nothing: reset() leaves it unimported
    (so it never needs Django, Flask or FastAPI installed)."""
    before = set(sys.modules)
    reset()
    assert set(sys.modules) == before


def test_the_reset_docstring_names_every_part() -> None:
    doc = reset.__doc__ or ""
    assert [part.label for part in PARTS if part.label not in doc] == []


# -- no module-level state outside the parts ------------------------------------------------

#: Module-level values built at import that never change (tables, compiled patterns,
#: sentinels, stateless objects) or that reset() must not touch, each with its reason.
NOT_STATE: Dict[str, str] = {
    "cognito_helper:_LAZY": "a table: public name -> defining module",
    "cognito_helper.cli.diagnose:_FORMS": "a table",
    "cognito_helper.cli.parser:_VARIABLE_HELP": "a table",
    "cognito_helper.core.encoding:_VALUE": "a table: base64url character -> value",
    "cognito_helper.core.encoding:_UNUSED_BITS": "a table",
    "cognito_helper.core.encoding:_JSON_KINDS": "a table",
    "cognito_helper.core.encoding:_STRICT": "a JSON decoder: holds its options only",
    "cognito_helper.core.encoding:_STRICT_NO_DUPLICATES": "a JSON decoder: options only",
    "cognito_helper.core.http:_POOL_CLASSES": "a table: scheme -> connection pool class",
    "cognito_helper.core.http:_call": (
        "per thread, the deadline of the HTTP call it is making: set and cleared by that call"
    ),
    "cognito_helper.django:_LAZY": "a table: public name -> defining module",
    "cognito_helper.integrations.django:_UNSET": "a sentinel: an option set nowhere",
    "cognito_helper.integrations.django_views:urlpatterns": (
        "the URL patterns of cognito_helper.django.urls, which read the settings at each match"
    ),
    "cognito_helper.integrations.flask:_guarded": (
        "weak references to the views a guarding decorator (require_token, login_required) "
        "was given, a fact about live functions that the mis-ordered-decorator check reads; "
        "nothing is cached"
    ),
    "cognito_helper.oauth.endpoints:_WHERE_FROM": "a table",
    "cognito_helper.oauth.m2m_slots:NOTHING": "a sentinel: the Fresh of no token, never changed",
    "cognito_helper.oauth.redis_store:_UNREADABLE": "a sentinel",
    "cognito_helper.verification.cognito:_DEFAULTS": (
        "decode_verify_jwt's verifier per token_use: options only (the config is read per call)"
    ),
    "cognito_helper.sessions.web:_DEFAULT_PORTS": "a table: scheme -> default port",
    "cognito_helper.settings.fields:_ANY": "a sentinel: ANY_APP_CLIENT",
    "cognito_helper.testing.alb:_USERS": "a UUID namespace",
    "cognito_helper.testing.minting:_REFRESH_HEADER": "a string",
    "cognito_helper.verification.claims:_NOT_TRUSTED": "a table",
}

#: Calls whose result never changes or holds no state of the process: not scanned further.
IMMUTABLE_CALLS = {
    "frozenset",
    "tuple",
    "re.compile",
    "MappingProxyType",
    "TypeVar",
    "TypedDict",
    "logging.getLogger",
    "threading.Lock",  # a lock guards a part; it holds nothing
    "threading.RLock",
}
#: What builds mutable state in a class body (a class attribute shared by every instance).
MUTABLE_CALLS = {
    "dict",
    "list",
    "set",
    "OrderedDict",
    "defaultdict",
    "deque",
    "weakref.WeakSet",
    "weakref.WeakValueDictionary",
    "weakref.WeakKeyDictionary",
}
DISPLAYS = (ast.Dict, ast.Set, ast.List, ast.DictComp, ast.SetComp, ast.ListComp)
CACHES = {"lru_cache", "functools.lru_cache", "cache", "functools.cache"}


def dotted(node: ast.AST) -> Optional[str]:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def statements(body: List[ast.stmt], prefix: str = "") -> Iterator[Tuple[str, ast.stmt]]:
    """Every statement run at import (module level, in if/try/with blocks, class bodies),
    with the class path a class body's names are under."""
    for stmt in body:
        if isinstance(stmt, ast.ClassDef):
            yield from statements(stmt.body, f"{prefix}{stmt.name}.")
        elif isinstance(stmt, (ast.If, ast.Try, ast.With)):
            nested = [*stmt.body, *getattr(stmt, "orelse", []), *getattr(stmt, "finalbody", [])]
            for handler in getattr(stmt, "handlers", []):
                nested += handler.body
            yield from statements(nested, prefix)
        else:
            yield prefix, stmt


def is_state(value: ast.expr, in_class: bool) -> bool:
    if isinstance(value, DISPLAYS):
        return True
    if not isinstance(value, ast.Call):
        return False
    called = dotted(value.func)
    if in_class:
        return called in MUTABLE_CALLS
    return called not in IMMUTABLE_CALLS


def state_of(tree: ast.Module) -> Set[str]:
    """The names of a module's state: values built at import (see :func:`is_state`), names
    a function rebinds with ``global``, functions under an ``lru_cache``."""
    found = set()
    for prefix, stmt in statements(tree.body):
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                if isinstance(target, ast.Name) and target.id != "__all__":
                    if is_state(stmt.value, bool(prefix)):
                        found.add(prefix + target.id)
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in stmt.decorator_list:
                called = decorator.func if isinstance(decorator, ast.Call) else decorator
                if dotted(called) in CACHES:
                    found.add(prefix + stmt.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            found.update(node.names)
    return found


def package_state() -> Set[str]:
    found = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        found.update(f"{module}:{name}" for name in state_of(tree))
    return found


def test_every_module_level_state_is_a_part_that_reset_clears() -> None:
    found = package_state()
    covered = {f"{part.module}:{name}" for part in PARTS for name in part.names}
    assert sorted(found - covered - set(NOT_STATE)) == [], (
        "module-level state that cognito_helper.testing.reset() does not clear: make it a "
        "part in cognito_helper/testing/state.py (or, if it never changes, list it in NOT_STATE)"
    )
    assert sorted(covered - found) == [], "parts naming state that is no longer there"
    assert sorted(set(NOT_STATE) - found) == [], "NOT_STATE entries no longer found"
    assert sorted(covered & set(NOT_STATE)) == []


def test_the_scan_finds_each_kind_of_state() -> None:
    """The scan itself can fail: each kind of module-level state is found, tables are not."""
    source = """
import functools, re, threading
from collections import OrderedDict
_cache = {}
_seen: set = set()
_order = OrderedDict()
_pattern = re.compile("x")
_lock = threading.Lock()
_NAMES = ("a", "b")
_held = None
def rebind():
    global _held
    _held = 1
@functools.lru_cache(maxsize=8)
def cached(x): return x
class Kept:
    instances = []
    _slots = ("a",)
"""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = state_of(ast.parse(source))
    assert found == {"_cache", "_seen", "_order", "_held", "cached", "Kept.instances"}
