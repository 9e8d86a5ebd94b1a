"""One rule for every ``scopes``, ``groups`` and ``audience`` option.

A string is a space-separated list of names, split on whitespace, in ``decode_verify_jwt``,
every guard (through ``bearer.Guard``) and ``ClientCredentials`` alike; a list names them one
by one, each a non-empty string without whitespace; nothing at all (``""``, ``"  "``, ``[]``)
is a ``ValueError`` everywhere (``None`` is the only "not asked"). Tokens come from
LocalCognito and the scripted issuer; nothing in the verifier is mocked.
"""

from __future__ import annotations

import uuid
from typing import Any, Callable, Dict

import pytest

from cognito_helper import InvalidClaimsError, decode_unverified, decode_verify_jwt
from cognito_helper.integrations.bearer import BearerRefusal, Guard
from cognito_helper.oauth.m2m import ClientCredentials
from cognito_helper.testing import LocalCognito

from .conftest import Issuer
from .helpers import verify

READ, WRITE = "localapi/read", "localapi/write"
BOTH = f"{READ} {WRITE}"
API, OTHER = "https://api.example.com", "https://other.example.com"


@pytest.fixture
def m2m(make_lc: Callable[..., LocalCognito]) -> LocalCognito:
    # A secret of its own: a later test's provider may get the same port, and so the same
    # token URL; the process-wide token cache must not hand it this test's token.
    return make_lc(client_secret=f"option-names-{uuid.uuid4().hex}", resources=[API, OTHER])


# -- a space-separated string is split --------------------------------------------------------


@pytest.mark.parametrize("granted", [READ, WRITE, f"openid {WRITE}"])
@pytest.mark.parametrize("asked", [BOTH, f"  {READ}\t{WRITE} ", f"{WRITE}\n{READ}"])
def test_a_space_separated_scopes_string_names_several_scopes(
    issuer: Issuer, granted: str, asked: str
) -> None:
    token = issuer.token("access", scope=granted)
    for _ in range(2):  # a new token, then a remembered one
        assert verify(issuer, token, scopes=asked)["scope"] == granted
    with pytest.raises(InvalidClaimsError):
        verify(issuer, issuer.token("access", scope="localapi/admin"), scopes=asked)


def test_a_space_separated_groups_string_names_several_groups(issuer: Issuer) -> None:
    token = issuer.token("id", **{"cognito:groups": ["staff"]})
    assert verify(issuer, token, groups="admins staff")["cognito:groups"] == ["staff"]
    with pytest.raises(InvalidClaimsError):
        verify(issuer, token, groups="admins owners")


def test_a_space_separated_audience_string_names_several_resources(issuer: Issuer) -> None:
    token = issuer.token("access", aud=OTHER)
    assert verify(issuer, token, audience=f"{API} {OTHER}")["aud"] == OTHER
    with pytest.raises(InvalidClaimsError):
        verify(issuer, token, audience=f"{API} https://third.example.com")


def test_a_guard_splits_the_string_as_decode_verify_jwt_does(lc: LocalCognito) -> None:
    guard = Guard.of(
        config=lc.config, scopes=BOTH, groups="admins staff", audience=f"{API} {OTHER}"
    )
    assert guard.scopes == (READ, WRITE)
    assert guard.groups == ("admins", "staff")
    assert guard.audience == (API, OTHER)
    only_scopes = Guard.of(config=lc.config, scopes=BOTH)
    assert only_scopes.verify(f"Bearer {lc.mint('access', scope=WRITE)}")["scope"] == WRITE
    with pytest.raises(BearerRefusal) as info:
        only_scopes.verify(f"Bearer {lc.mint('access', scope='localapi/admin')}")
    refusal = info.value.refusal
    assert refusal.status == 403
    assert f'scope="{READ} {WRITE}"' in refusal.headers["WWW-Authenticate"]


def test_the_flask_guard_splits_the_string(lc: LocalCognito) -> None:
    pytest.importorskip("flask")
    from flask import Flask, g

    from cognito_helper.flask import require_token

    app = Flask(__name__)

    @app.get("/orders")
    @require_token(config=lc.config, scopes=BOTH)
    def orders() -> Dict[str, Any]:
        return {"scope": g.cognito_claims["scope"]}

    client = app.test_client()
    for granted, status in [(READ, 200), (WRITE, 200), ("localapi/admin", 403)]:
        answer = client.get(
            "/orders", headers={"Authorization": f"Bearer {lc.mint('access', scope=granted)}"}
        )
        assert answer.status_code == status


def test_the_same_string_is_the_same_scopes_in_client_credentials_and_verification(
    m2m: LocalCognito,
) -> None:
    as_string = ClientCredentials(f" {WRITE}  {READ} ", config=m2m.config)
    as_list = ClientCredentials([READ, WRITE], config=m2m.config)
    assert as_string.scopes == as_list.scopes == (READ, WRITE)
    assert as_string.cache_key == as_list.cache_key
    token = as_string.access_token()
    assert sorted(decode_unverified(token)[1]["scope"].split()) == [READ, WRITE]  # asked for both
    claims = decode_verify_jwt(token, config=m2m.config, token_use="access", scopes=BOTH)
    assert claims["client_id"] == m2m.client_id
    guard = Guard.of(config=m2m.config, scopes=BOTH)
    assert guard.verify(f"Bearer {token}")["client_id"] == m2m.client_id
    assert guard.scopes == as_string.scopes


# -- what names nothing, or names badly, is a ValueError everywhere ---------------------------


NOTHING = ["", "   ", "\t\n", [], ()]
BAD = [["a b"], [READ, ""], [READ, 5], 5, b"localapi/read", {READ: True}, [None]]


def everywhere(lc: LocalCognito, m2m: LocalCognito) -> Dict[str, Callable[[str, Any], Any]]:
    """Each place a scopes/groups/audience option is given: ``place(name, value)``."""
    token = lc.mint("access", scope=READ)

    def client_credentials(name: str, value: Any) -> Any:
        return ClientCredentials(value, config=m2m.config) if name == "scopes" else None

    return {
        "decode_verify_jwt": lambda name, value: decode_verify_jwt(
            token, config=lc.config, **{name: value}
        ),
        "Guard.of": lambda name, value: Guard.of(config=lc.config, **{name: value}),
        "ClientCredentials": client_credentials,
    }


@pytest.mark.parametrize("name", ["scopes", "groups", "audience"])
@pytest.mark.parametrize("value", NOTHING + BAD, ids=repr)
def test_naming_nothing_or_a_bad_entry_or_type_is_a_value_error_everywhere(
    lc: LocalCognito, m2m: LocalCognito, name: str, value: Any
) -> None:
    for place, give in everywhere(lc, m2m).items():
        if place == "ClientCredentials" and name != "scopes":
            continue
        with pytest.raises(ValueError, match=name):
            give(name, value)


def test_none_asks_for_nothing_and_client_credentials_then_takes_the_default_scopes(
    m2m: LocalCognito,
) -> None:
    assert ClientCredentials(None, config=m2m.config).scopes == ()
    token = m2m.mint("access")
    assert decode_verify_jwt(token, config=m2m.config, scopes=None, groups=None, audience=None)
