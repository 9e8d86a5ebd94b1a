"""Issue 23, "Issuers": both issuer forms by default, each with its own JWKS fetched only when
a token names that form; ``issuer=`` pins; replica regions.

Over real loopback HTTP: a scripted server publishing two issuer forms of one pool (each with
its own key set path), and LocalCognito switched from the ORIGINAL to the UPDATED form.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from typing import Any, Callable, Dict, Iterator, List

import pytest
import requests

from cognito_helper import (
    CognitoConfig,
    decode_verify_jwt,
    forget_jwks_caches,
    verification_memo_info,
)
from cognito_helper.errors import (
    CognitoConnectionError,
    ConfigError,
    InvalidClaimsError,
    InvalidSignatureError,
    TokenVerificationError,
)
from cognito_helper.jwt_helper import CognitoVerifier
from cognito_helper.testing import LocalCognito

from .servers import ScriptedServer, respond
from .tokens import CLIENT, POOL, KeyPair, claims_for

AWS_POOL = "us-east-1_AbC123"
ORIGINAL = f"https://cognito-idp.us-east-1.amazonaws.com/{AWS_POOL}"
UPDATED = f"https://issuer-cognito-idp.us-east-1.amazonaws.com/{AWS_POOL}"
REPLICA = f"https://cognito-idp.eu-west-1.amazonaws.com/{AWS_POOL}"
JWKS = "/.well-known/jwks.json"


# -- which issuers a config trusts (no request needed) -------------------------------------------


def test_a_config_without_issuer_trusts_both_forms_each_with_its_own_keys() -> None:
    config = CognitoConfig(user_pool_id=AWS_POOL, client_id=CLIENT)
    assert config.issuers == (ORIGINAL, UPDATED)
    assert config.jwks_url_for(ORIGINAL) == ORIGINAL + JWKS
    assert config.jwks_url_for(UPDATED) == UPDATED + JWKS
    assert config.jwks_url_for(REPLICA) is None
    assert config.issuer == ORIGINAL and config.jwks_url == ORIGINAL + JWKS


def test_issuer_pins_exactly_what_is_given_with_its_jwks_url() -> None:
    config = CognitoConfig(user_pool_id=AWS_POOL, client_id=CLIENT, issuer=ORIGINAL)
    assert config.issuers == (ORIGINAL,)
    assert config.jwks_url_for(UPDATED) is None
    pinned = CognitoConfig(user_pool_id=AWS_POOL, client_id=CLIENT, issuer=UPDATED)
    assert pinned.issuers == (UPDATED,)
    assert pinned.jwks_url == UPDATED + JWKS  # the issuer's own keys


def test_an_explicit_jwks_url_serves_every_default_issuer() -> None:
    url = "https://keys.example.com/jwks.json"
    config = CognitoConfig(user_pool_id=AWS_POOL, client_id=CLIENT, jwks_url=url)
    assert config.issuers == (ORIGINAL, UPDATED)
    assert {config.jwks_url_for(i) for i in config.issuers} == {url}


def test_replace_keeps_the_default_issuers() -> None:
    config = CognitoConfig(user_pool_id=AWS_POOL, client_id=CLIENT)
    other = dataclasses.replace(config, client_id="other")
    assert other.issuers == (ORIGINAL, UPDATED)
    assert other.jwks_url_for(UPDATED) == UPDATED + JWKS


# -- a pool publishing both forms over HTTP --------------------------------------------------------


class TwoForms:
    """One pool's two issuer forms on loopback: ``/{POOL}`` and ``/updated/{POOL}``, each
    with its own key set path; ``updated_on`` says whether the UPDATED form's keys are
    served (else 403, as AWS answers for a pool that has not switched)."""

    def __init__(self, server: ScriptedServer, key: KeyPair) -> None:
        self.server, self.key = server, key
        self.original = f"{server.url}/{POOL}"
        self.updated = f"{server.url}/updated/{POOL}"
        self.updated_on = False
        keys = {"keys": [key.jwk()]}
        server.routes[f"/{POOL}{JWKS}"] = respond(200, keys)
        forbidden = respond(403, {"message": "Forbidden"})
        served = respond(200, keys)
        server.routes[f"/updated/{POOL}{JWKS}"] = lambda h: (
            served(h) if self.updated_on else forbidden(h)
        )
        self.config = CognitoConfig(
            user_pool_id=POOL, client_id=CLIENT, issuer=[self.original, self.updated], timeout=2.0
        )

    def fetches(self, form: str) -> Dict[str, int]:
        return {
            "original": self.server.count(f"/{POOL}{JWKS}"),
            "updated": self.server.count(f"/updated/{POOL}{JWKS}"),
        }[form]

    def token(self, iss: str, key: KeyPair | None = None, **claims: Any) -> str:
        return (key or self.key).token(claims_for("id", iss, **claims))


@pytest.fixture
def forms(key_pairs: List[KeyPair]) -> Iterator[TwoForms]:
    with ScriptedServer() as server:
        yield TwoForms(server, key_pairs[0])


def test_each_form_is_fetched_from_its_own_url_only_when_a_token_names_it(
    forms: TwoForms,
) -> None:
    config = forms.config
    assert config.jwks_url_for(forms.updated) == forms.updated + JWKS
    for _ in range(3):
        decode_verify_jwt(forms.token(forms.original), config=config)
    assert (forms.fetches("original"), forms.fetches("updated")) == (1, 0)
    forms.updated_on = True  # the pool switches to the UPDATED form
    for _ in range(3):
        assert decode_verify_jwt(forms.token(forms.updated), config=config)["iss"] == forms.updated
    decode_verify_jwt(forms.token(forms.original), config=config)  # old tokens still verify
    assert (forms.fetches("original"), forms.fetches("updated")) == (1, 1)


def test_a_forged_token_naming_the_other_form_costs_one_fetch_and_leaves_the_genuine_cache(
    forms: TwoForms, key_pairs: List[KeyPair]
) -> None:
    config = forms.config
    genuine = forms.token(forms.original)
    decode_verify_jwt(genuine, config=config)
    forger = key_pairs[1]
    for _ in range(5):  # the pool has not switched: the UPDATED keys answer 403
        with pytest.raises((CognitoConnectionError, TokenVerificationError)):
            decode_verify_jwt(forms.token(forms.updated, key=forger), config=config)
    assert forms.fetches("updated") == 1
    assert decode_verify_jwt(genuine, config=config)["iss"] == forms.original
    forms.updated_on = True
    forget_jwks_caches(forms.updated + JWKS)  # as if the cool-down had passed
    forged = forger.token(claims_for("id", forms.updated), {"kid": forms.key.kid})
    for _ in range(3):  # the kid is known: a bad signature, no refetch
        with pytest.raises(InvalidSignatureError):
            decode_verify_jwt(forged, config=config)
    assert forms.fetches("updated") == 2
    assert decode_verify_jwt(genuine, config=config)["iss"] == forms.original
    assert forms.fetches("original") == 1


def test_a_token_naming_neither_form_is_refused_before_any_fetch(forms: TwoForms) -> None:
    other = f"{forms.server.url}/elsewhere/{POOL}"
    with pytest.raises(InvalidClaimsError) as excinfo:
        decode_verify_jwt(forms.token(other), config=[forms.config])
    assert excinfo.value.reason == "issuer"
    assert (forms.fetches("original"), forms.fetches("updated")) == (0, 0)


@pytest.mark.parametrize("several", [False, True], ids=["one-config", "several-configs"])
def test_single_and_several_config_paths_behave_alike_and_the_memo_answers_repeats(
    forms: TwoForms, several: bool
) -> None:
    forms.updated_on = True
    other = CognitoConfig(user_pool_id="us-east-1_OtherPool1", client_id=CLIENT)
    configs: Any = [other, forms.config] if several else forms.config
    verifier = CognitoVerifier(configs, token_use="id")
    tokens = [forms.token(forms.original), forms.token(forms.updated)]
    for token in tokens:
        verifier.verify(token)
    hits = verification_memo_info().hits
    for token in tokens:
        assert verifier.verify(token)["iss"] in (forms.original, forms.updated)
        assert verifier.may_fetch(token) is several  # the other pool's cache lacks its kid
    assert verification_memo_info().hits == hits + 2
    assert (forms.fetches("original"), forms.fetches("updated")) == (1, 1)


# -- replica regions ---------------------------------------------------------------------------


def test_replica_regions_trust_each_regions_original_form_with_its_own_keys() -> None:
    config = CognitoConfig(user_pool_id=AWS_POOL, client_id=CLIENT, replica_regions=["eu-west-1"])
    assert config.issuers == (ORIGINAL, UPDATED, REPLICA)
    assert config.jwks_url_for(REPLICA) == REPLICA + JWKS
    assert config.replica_regions == ("eu-west-1",)


@pytest.mark.parametrize("regions", [["eu-wset-1"], [42], 42])
def test_a_bad_replica_region_is_a_config_error(regions: Any) -> None:
    with pytest.raises(ConfigError, match="replica_regions"):
        CognitoConfig(user_pool_id=AWS_POOL, client_id=CLIENT, replica_regions=regions)


def test_replica_regions_with_a_pinned_issuer_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="replica_regions"):
        CognitoConfig(
            user_pool_id=AWS_POOL, client_id=CLIENT, issuer=ORIGINAL, replica_regions="eu-west-1"
        )


def test_cognito_replica_regions_from_the_environment() -> None:
    env = {
        "COGNITO_USER_POOL_ID": AWS_POOL,
        "COGNITO_CLIENT_ID": CLIENT,
        "COGNITO_REPLICA_REGIONS": "eu-west-1, us-west-2",
    }
    config = CognitoConfig.from_env(env)
    assert config.replica_regions == ("eu-west-1", "us-west-2")
    assert REPLICA in config.issuers
    with pytest.raises(ConfigError, match="COGNITO_REPLICA_REGIONS"):
        CognitoConfig.from_env({**env, "COGNITO_REPLICA_REGIONS": "eu-wset-1"})


def test_the_cli_verify_takes_cognito_replica_regions(lc: LocalCognito) -> None:
    """Replica issuers are AWS URLs: the keys come from LocalCognito through COGNITO_JWKS_URL
    (one URL for every trusted issuer), the token names the replica region's issuer."""
    replica = f"https://cognito-idp.eu-west-1.amazonaws.com/{lc.user_pool_id}"
    token = lc.mint("access", iss=replica)
    env = {k: v for k, v in os.environ.items() if not k.startswith("COGNITO_")}
    env.update(
        COGNITO_USER_POOL_ID=lc.user_pool_id,
        COGNITO_CLIENT_ID=lc.client_id,
        COGNITO_JWKS_URL=lc.jwks_url,
        PYTHONIOENCODING="utf-8",
    )

    def verify(extra: Dict[str, str]) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "cognito_helper", "verify", token]
        return subprocess.run(
            command, env={**env, **extra}, capture_output=True, text=True, timeout=60
        )

    refused = verify({})
    assert refused.returncode == 1 and "'iss'" in refused.stderr
    accepted = verify({"COGNITO_REPLICA_REGIONS": "eu-west-1"})
    assert accepted.returncode == 0, accepted.stderr
    assert json.loads(accepted.stdout)["iss"] == replica


# -- LocalCognito: issuer forms and replicas ---------------------------------------------------


def test_local_cognito_serves_and_signs_with_the_updated_form(
    make_lc: Callable[..., LocalCognito],
) -> None:
    lc = make_lc(issuer_form="updated")
    assert lc.issuer == f"{lc.url}/issuer-cognito-idp/{lc.user_pool_id}"
    document = requests.get(lc.issuer + "/.well-known/openid-configuration", timeout=5).json()
    assert (document["issuer"], document["jwks_uri"]) == (lc.issuer, lc.jwks_url)
    assert decode_verify_jwt(lc.mint("id"), config=lc.config)["iss"] == lc.issuer
    assert lc.key_requests(lc.issuer) == 1 and lc.jwks_requests == 1


def test_local_cognito_answers_403_for_the_updated_keys_of_a_pool_not_switched(
    lc: LocalCognito,
) -> None:
    updated = lc.issuers[1]
    assert requests.get(updated + JWKS, timeout=5).status_code == 403
    assert requests.get(lc.issuer + JWKS, timeout=5).status_code == 200


@pytest.mark.usefixtures("memo")
def test_a_pool_switched_from_original_to_updated_while_the_app_runs(lc: LocalCognito) -> None:
    app = CognitoVerifier(lc.forms_config, token_use=None)  # configured once, never changed
    original, updated = lc.issuers[:2]
    old = [lc.mint("id"), lc.mint("access")]
    for token in old:
        assert app.verify(token)["iss"] == original
    lc.forms.form = "updated"  # the pool's IssuerConfiguration changes
    new = [lc.mint("id"), lc.mint("access")]
    for _ in range(2):
        for token in new:
            assert app.verify(token)["iss"] == updated
        for token in old:
            assert app.verify(token)["iss"] == original
    assert (lc.key_requests(original), lc.key_requests(updated)) == (1, 1)
    assert lc.jwks_requests == 2  # no key set that no token named


def test_local_cognito_mints_replica_tokens(make_lc: Callable[..., LocalCognito]) -> None:
    lc = make_lc(replica_regions=["eu-west-1"])
    primary = lc.mint("access")
    lc.forms.serving_region = "eu-west-1"
    replica = lc.mint("access")
    replica_issuer = f"{lc.url}/eu-west-1/{lc.user_pool_id}"
    assert lc.issuer == replica_issuer == lc.issuers[2]
    assert decode_verify_jwt(replica, config=lc.forms_config)["iss"] == replica_issuer
    assert decode_verify_jwt(primary, config=lc.forms_config)["iss"] == lc.issuers[0]
    assert lc.key_requests(replica_issuer) == 1 and lc.key_requests(lc.issuers[1]) == 0
    with pytest.raises(InvalidClaimsError):  # a config pinned to the primary issuer
        decode_verify_jwt(replica, config=replace_issuer(lc, lc.issuers[0]))
    with pytest.raises(ValueError):
        lc.forms.serving_region = "us-west-2"


def replace_issuer(lc: LocalCognito, issuer: str) -> CognitoConfig:
    return dataclasses.replace(lc.config, issuer=issuer, jwks_url=issuer + JWKS)


def test_replica_tokens_verify_only_with_replica_regions(lc: LocalCognito) -> None:
    replica = f"https://cognito-idp.eu-west-1.amazonaws.com/{lc.user_pool_id}"
    token = lc.mint("id", iss=replica)
    plain = CognitoConfig(
        user_pool_id=lc.user_pool_id, client_id=lc.client_id, jwks_url=lc.jwks_url
    )
    with pytest.raises(InvalidClaimsError) as excinfo:
        decode_verify_jwt(token, config=plain)
    assert excinfo.value.reason in ("iss", "issuer")
    replicated = dataclasses.replace(plain, replica_regions=["eu-west-1"])
    for config in (replicated, [replicated]):
        assert decode_verify_jwt(token, config=config)["iss"] == replica


def test_a_bad_issuer_form_or_replica_region_is_refused() -> None:
    with pytest.raises(ValueError, match="issuer_form"):
        LocalCognito(issuer_form="newest")
    with pytest.raises(ConfigError, match="replica_regions"):
        LocalCognito(replica_regions=["eu-wset-1"])
