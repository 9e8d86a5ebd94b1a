"""``CognitoConfig.from_discovery``: a config from the pool's OpenID configuration.

The document is read once, over real loopback HTTP: from LocalCognito (which serves it as
Cognito does, at ``{issuer}/.well-known/openid-configuration``) and from scripted servers for
the documents that must be refused (another issuer, plain http, too large, too slow, not JSON,
not an object, a field missing or of the wrong type). What Cognito publishes for a real pool
(AWS issuer, prefix or custom domain, no domain at all) is mapped by
``settings.discovery.document_settings``, a pure function, tested here with such documents.
"""

from __future__ import annotations

import json
import shlex
from typing import Any, Dict, Iterator

import pytest

from cognito_helper import (
    CognitoConfig,
    ConfigError,
    decode_verify_jwt,
    get_cognito_tokens,
    get_config,
)
from cognito_helper.cli import main
from cognito_helper.settings.discovery import (
    DISCOVERY_PATH,
    MAX_DISCOVERY_BYTES,
    document_settings,
)
from cognito_helper.testing import LocalCognito

from .helpers import MakeLocalCognito, sign_in
from .servers import ScriptedServer, closed_port, hold, redirect, respond, stream
from .snippets import snippets_for
from .tokens import CLIENT, POOL

REGION = "us-east-1"
AWS_POOL = "us-east-1_AbC123"
ORIGINAL = f"https://cognito-idp.{REGION}.amazonaws.com/{AWS_POOL}"
UPDATED = f"https://issuer-cognito-idp.{REGION}.amazonaws.com/{AWS_POOL}"
PREFIX_DOMAIN = f"https://my-app.auth.{REGION}.amazoncognito.com"


def cognito_document(issuer: str, domain: str) -> Dict[str, Any]:
    """What Cognito publishes for a pool with a hosted-UI domain (every key it lists)."""
    return {
        "authorization_endpoint": f"{domain}/oauth2/authorize",
        "end_session_endpoint": f"{domain}/logout",
        "id_token_signing_alg_values_supported": ["RS256"],
        "issuer": issuer,
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "response_types_supported": ["code", "token"],
        "revocation_endpoint": f"{domain}/oauth2/revoke",
        "scopes_supported": ["openid", "email", "phone", "profile"],
        "subject_types_supported": ["public"],
        "token_endpoint": f"{domain}/oauth2/token",
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "userinfo_endpoint": f"{domain}/oauth2/userInfo",
    }


# -- from LocalCognito, over HTTP -------------------------------------------------------------


def test_localcognito_publishes_what_cognito_publishes_end_session_included(
    lc: LocalCognito,
) -> None:
    import requests

    got = requests.get(lc.issuer + DISCOVERY_PATH, timeout=5).json()
    assert got == cognito_document(lc.issuer, lc.url) | {"jwks_uri": lc.jwks_url}


def test_from_the_issuer_url_the_config_points_where_localcognito_does(lc: LocalCognito) -> None:
    config = CognitoConfig.from_discovery(
        lc.issuer,
        client_id=lc.client_id,
        redirect_uri=lc.config.redirect_uri,
        logout_uri=lc.config.logout_uri,
    )
    assert config == lc.config
    assert lc.requests_seen == [("GET", f"/{lc.user_pool_id}{DISCOVERY_PATH}")]  # read once


def test_from_the_documents_own_url_too(lc: LocalCognito) -> None:
    config = CognitoConfig.from_discovery(lc.issuer + DISCOVERY_PATH, client_id=lc.client_id)
    assert (config.domain, config.issuer, config.jwks_url) == (lc.url, lc.issuer, lc.jwks_url)
    assert config.user_pool_id == lc.user_pool_id


def test_a_discovered_config_signs_in_exchanges_and_verifies(make_lc: MakeLocalCognito) -> None:
    lc = make_lc(client_secret="discovered-client-secret")
    config = CognitoConfig.from_discovery(
        lc.issuer + "/",
        client_id=lc.client_id,
        client_secret="discovered-client-secret",
        redirect_uri=lc.config.redirect_uri,
    )
    login = config.start_login()
    got = sign_in(lc, login)
    tokens = get_cognito_tokens(got.code, config=config, code_verifier=login.code_verifier)
    claims = decode_verify_jwt(tokens.access_token, config=config, token_use="access")
    assert claims["client_id"] == lc.client_id


def test_the_other_settings_are_the_callers(lc: LocalCognito) -> None:
    config = CognitoConfig.from_discovery(
        lc.issuer, client_id="otherclient", scopes="openid", timeout=3
    )
    assert (config.client_id, config.scopes, config.timeout) == ("otherclient", ("openid",), 3)
    assert config.client_secret is None and config.redirect_uri is None


# -- documents that are refused, from scripted servers -----------------------------------------


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as srv:
        yield srv


def issuer_of(server: ScriptedServer) -> str:
    return f"{server.url}/{POOL}"


def serve(server: ScriptedServer, document: Any) -> None:
    server.routes[f"/{POOL}{DISCOVERY_PATH}"] = respond(200, document)


def discover(server: ScriptedServer, **options: Any) -> CognitoConfig:
    return CognitoConfig.from_discovery(issuer_of(server), client_id=CLIENT, **options)


def good(server: ScriptedServer) -> Dict[str, Any]:
    return cognito_document(issuer_of(server), server.url)


def test_a_scripted_document_that_is_right_is_accepted(server: ScriptedServer) -> None:
    serve(server, good(server))
    config = discover(server)
    assert (config.domain, config.issuer) == (server.url, issuer_of(server))


def test_a_document_naming_another_issuer_is_refused(server: ScriptedServer) -> None:
    serve(server, good(server) | {"issuer": f"{server.url}/us-east-1_Other"})
    with pytest.raises(ConfigError, match="issuer") as caught:
        discover(server)
    assert issuer_of(server) in str(caught.value)


def test_an_issuer_that_differs_only_by_a_trailing_slash_is_refused(server: ScriptedServer) -> None:
    serve(server, good(server) | {"issuer": issuer_of(server) + "/"})
    with pytest.raises(ConfigError, match="issuer"):
        discover(server)


@pytest.mark.parametrize(
    "key",
    [
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "revocation_endpoint",
        "end_session_endpoint",
        "jwks_uri",
    ],
)
def test_an_endpoint_over_plain_http_to_a_remote_host_is_refused(
    server: ScriptedServer, key: str
) -> None:
    document = good(server)
    document[key] = document[key].replace(server.url, "http://auth.example.com")
    serve(server, document)
    with pytest.raises(ConfigError, match=f"{key}.*https"):
        discover(server)


@pytest.mark.parametrize(
    ("key", "elsewhere"),
    [
        ("authorization_endpoint", "https://evil.example.com/oauth2/authorize"),
        ("userinfo_endpoint", "https://evil.example.com/oauth2/userInfo"),
        ("revocation_endpoint", "https://evil.example.com/oauth2/revoke"),
        ("end_session_endpoint", "https://evil.example.com/logout"),
        ("token_endpoint", "https://evil.example.com/token"),
    ],
)
def test_endpoints_a_config_cannot_hold_are_refused(
    server: ScriptedServer, key: str, elsewhere: str
) -> None:
    """A config holds one hosted-UI domain and derives each endpoint from it: a document
    whose endpoints are not all on it would be followed only in part."""
    serve(server, good(server) | {key: elsewhere})
    with pytest.raises(ConfigError, match=key):
        discover(server)


def test_endpoints_below_a_path_are_refused_naming_the_token_endpoint() -> None:
    """A config's domain is a base URL: endpoints under a path could not be derived from one."""
    document = cognito_document(ORIGINAL, "https://auth.example.com/tenant")
    with pytest.raises(ConfigError, match=r"^token_endpoint .* hosted-UI domain"):
        document_settings(ORIGINAL, document)


def test_white_space_around_the_url_is_ignored(lc: LocalCognito) -> None:
    config = CognitoConfig.from_discovery(f"  {lc.issuer}\n", client_id=lc.client_id)
    assert config.issuer == lc.issuer


@pytest.mark.parametrize("key", ["issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"])
def test_a_document_missing_a_required_field_is_refused(server: ScriptedServer, key: str) -> None:
    document = good(server)
    del document[key]
    serve(server, document)
    with pytest.raises(ConfigError, match=f"no {key}"):
        discover(server)


@pytest.mark.parametrize("key", ["issuer", "token_endpoint", "jwks_uri", "userinfo_endpoint"])
def test_a_field_that_is_not_a_string_is_refused(server: ScriptedServer, key: str) -> None:
    serve(server, good(server) | {key: ["https://x.example.com"]})
    with pytest.raises(ConfigError, match=f"{key}.*list"):
        discover(server)


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b"<html>not json</html>", "not JSON"),
        (b"[1, 2, 3]", "not a JSON object"),
        (b'"a string"', "not a JSON object"),
        (b"", "not JSON"),
    ],
)
def test_a_document_that_is_not_a_json_object_is_refused(
    server: ScriptedServer, body: bytes, said: str
) -> None:
    serve(server, body)
    with pytest.raises(ConfigError, match=said):
        discover(server)


def test_an_oversized_document_is_refused_at_the_cap(server: ScriptedServer) -> None:
    padding = "x" * MAX_DISCOVERY_BYTES
    serve(server, good(server) | {"padding": padding})
    with pytest.raises(ConfigError, match=rf"larger than {MAX_DISCOVERY_BYTES} bytes"):
        discover(server)


def test_an_endless_document_without_a_length_is_cut_at_the_cap(server: ScriptedServer) -> None:
    server.routes[f"/{POOL}{DISCOVERY_PATH}"] = stream(200, b" " * 4096)
    with pytest.raises(ConfigError, match="larger than"):
        discover(server)


def test_a_slow_document_is_refused_at_the_timeout(server: ScriptedServer) -> None:
    server.routes[f"/{POOL}{DISCOVERY_PATH}"] = hold(10)
    with pytest.raises(ConfigError, match=r"did not answer within 0\.5 s"):
        discover(server, timeout=0.5)


@pytest.mark.parametrize("status", [404, 500])
def test_an_error_status_is_refused(server: ScriptedServer, status: int) -> None:
    server.routes[f"/{POOL}{DISCOVERY_PATH}"] = respond(status, {"message": "nope"})
    with pytest.raises(ConfigError, match=f"HTTP {status}"):
        discover(server)


def test_a_redirect_is_not_followed(server: ScriptedServer) -> None:
    server.routes[f"/{POOL}{DISCOVERY_PATH}"] = redirect(302, "https://evil.example.com/")
    with pytest.raises(ConfigError, match="HTTP 302"):
        discover(server)
    assert len(server.requests) == 1


def test_nothing_listening_is_a_config_error_naming_the_url() -> None:
    url = f"http://127.0.0.1:{closed_port()}/{POOL}"
    with pytest.raises(ConfigError, match="could not reach") as caught:
        CognitoConfig.from_discovery(url, client_id=CLIENT)
    assert url + DISCOVERY_PATH in str(caught.value)


@pytest.mark.parametrize(
    ("url", "said"),
    [
        (f"http://cognito-idp.{REGION}.amazonaws.com/{AWS_POOL}", "https"),
        (f"{ORIGINAL}?x=1", "query"),
        (f"{ORIGINAL}#frag", "fragment"),
        ("cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123", "absolute URL"),
        ("", "non-empty"),
    ],
)
def test_a_url_that_cannot_be_an_issuer_is_refused_before_any_request(url: str, said: str) -> None:
    with pytest.raises(ConfigError, match=said):
        CognitoConfig.from_discovery(url, client_id=CLIENT)


def test_a_url_that_is_not_a_string_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="str"):
        CognitoConfig.from_discovery(42, client_id=CLIENT)  # type: ignore[arg-type]


def test_an_issuer_that_does_not_end_with_a_pool_id_is_refused(server: ScriptedServer) -> None:
    issuer = f"{server.url}/not-a-pool"
    document = cognito_document(issuer, server.url)
    server.routes[f"/not-a-pool{DISCOVERY_PATH}"] = respond(200, document)
    with pytest.raises(ConfigError, match="pool id"):
        CognitoConfig.from_discovery(issuer, client_id=CLIENT)


# -- what Cognito publishes, mapped (a pure function) -----------------------------------------


def test_a_pool_on_the_original_issuer_keeps_the_default_issuer_and_keys() -> None:
    settings = document_settings(ORIGINAL, cognito_document(ORIGINAL, PREFIX_DOMAIN))
    assert settings == {"user_pool_id": AWS_POOL, "domain": PREFIX_DOMAIN}
    config = CognitoConfig(client_id=CLIENT, **settings)
    assert ORIGINAL in config.issuers
    assert config.token_url == PREFIX_DOMAIN + "/oauth2/token"
    assert config.logout_url("https://app.example.com/").startswith(PREFIX_DOMAIN + "/logout?")


def test_a_pool_on_the_updated_issuer_is_trusted_with_that_issuers_keys() -> None:
    document = cognito_document(UPDATED, PREFIX_DOMAIN)
    config = CognitoConfig(client_id=CLIENT, **document_settings(UPDATED, document))
    assert UPDATED in config.issuers
    if config.issuer == UPDATED:  # pinned: then the keys are that issuer's too
        assert config.jwks_url == UPDATED + "/.well-known/jwks.json"


def test_a_custom_domain_is_the_config_domain() -> None:
    document = cognito_document(ORIGINAL, "https://auth.example.com")
    assert document_settings(ORIGINAL, document)["domain"] == "https://auth.example.com"


def test_a_pool_without_a_domain_gives_a_config_that_only_verifies() -> None:
    """Cognito then lists endpoints under the issuer itself, which answer nothing."""
    document = {
        "authorization_endpoint": f"{ORIGINAL}/authorize",
        "end_session_endpoint": f"{ORIGINAL}/logout",
        "issuer": ORIGINAL,
        "jwks_uri": f"{ORIGINAL}/.well-known/jwks.json",
        "revocation_endpoint": f"{ORIGINAL}/revoke",
        "token_endpoint": f"{ORIGINAL}/token",
        "userinfo_endpoint": f"{ORIGINAL}/userInfo",
    }
    settings = document_settings(ORIGINAL, document)
    assert settings == {"user_pool_id": AWS_POOL}
    config = CognitoConfig(client_id=CLIENT, **settings)
    with pytest.raises(ConfigError, match="domain is not set"):
        config.token_url


def test_keys_elsewhere_than_the_issuers_own_are_pinned() -> None:
    document = cognito_document(ORIGINAL, PREFIX_DOMAIN)
    document["jwks_uri"] = f"https://keys.example.com/{AWS_POOL}/jwks.json"
    settings = document_settings(ORIGINAL, document)
    assert settings["jwks_url"] == document["jwks_uri"]
    assert settings["issuer"] == ORIGINAL


def test_the_document_url_gives_the_same_settings_as_the_issuer_url() -> None:
    document = cognito_document(ORIGINAL, PREFIX_DOMAIN)
    assert document_settings(ORIGINAL + DISCOVERY_PATH, document) == document_settings(
        ORIGINAL, document
    )


def test_the_keys_cognito_adds_without_meaning_here_are_ignored() -> None:
    document = cognito_document(ORIGINAL, PREFIX_DOMAIN) | {"claims_supported": ["sub"]}
    assert document_settings(ORIGINAL, document) == {
        "user_pool_id": AWS_POOL,
        "domain": PREFIX_DOMAIN,
    }


def test_refusals_never_echo_a_huge_value() -> None:
    document = cognito_document(ORIGINAL, PREFIX_DOMAIN) | {"issuer": "https://x/" + "y" * 5000}
    with pytest.raises(ConfigError) as caught:
        document_settings(ORIGINAL, document)
    assert len(str(caught.value)) < 1000
    json.dumps(str(caught.value))  # printable


# -- cognito-helper discover -------------------------------------------------------------------


def exported(printed: str) -> Dict[str, str]:
    """The variables of ``export NAME=VALUE`` lines, as a POSIX shell reads them."""
    found = {}
    for line in printed.splitlines():
        words = shlex.split(line)
        assert words[0] == "export" and len(words) == 2, line
        name, _, value = words[1].partition("=")
        found[name] = value
    return found


def test_discover_prints_the_variables_from_env_reads_back(
    lc: LocalCognito, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["discover", lc.issuer, "--client-id", lc.client_id]) == 0
    out, err = capsys.readouterr()
    variables = exported(out)
    assert variables == {
        "COGNITO_USER_POOL_ID": lc.user_pool_id,
        "COGNITO_CLIENT_ID": lc.client_id,
        "COGNITO_DOMAIN": lc.url,
        "COGNITO_ISSUER": lc.issuer,
        "COGNITO_JWKS_URL": lc.jwks_url,
    }
    assert CognitoConfig.from_env(variables) == CognitoConfig.from_discovery(
        lc.issuer, client_id=lc.client_id
    )
    assert err.startswith("next: set COGNITO_CLIENT_SECRET")


def test_discover_without_a_client_id_says_to_set_it(
    lc: LocalCognito, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["discover", lc.issuer + DISCOVERY_PATH]) == 0
    out, err = capsys.readouterr()
    assert "COGNITO_CLIENT_ID" not in exported(out)
    assert err.startswith("next: set COGNITO_CLIENT_ID, COGNITO_CLIENT_SECRET")


def test_discover_prints_no_secret_from_the_environment(
    lc: LocalCognito, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COGNITO_CLIENT_SECRET", "env-secret-never-printed-0123456789")
    assert main(["discover", lc.issuer, "--client-id", lc.client_id]) == 0
    out, err = capsys.readouterr()
    assert "env-secret-never-printed" not in out + err
    assert "COGNITO_CLIENT_SECRET=" not in out


def test_discover_refusing_a_document_exits_2_with_a_hint(
    server: ScriptedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    serve(server, good(server) | {"issuer": "https://elsewhere.example.com/" + POOL})
    assert main(["discover", issuer_of(server)]) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == ""
    assert lines[0].startswith("error: ConfigError: the OpenID configuration at ")
    assert lines[-1].startswith("hint: give the pool's issuer URL")


def test_discover_refuses_a_bad_client_id_naming_the_option(
    lc: LocalCognito, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["discover", lc.issuer, "--client-id", "a*b"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("hint: --client-id must")


@pytest.mark.slow  # a subprocess
def test_discover_as_a_command_configures_the_other_commands(lc: LocalCognito) -> None:
    from .test_cli import base_env, run

    discovered = run("discover", lc.issuer, "--client-id", lc.client_id)
    assert discovered.returncode == 0, discovered.stderr
    env = {**base_env(), **exported(discovered.stdout)}
    env["COGNITO_REDIRECT_URI"] = str(lc.config.redirect_uri)
    login = run("login-url", env=env)
    assert login.returncode == 0, login.stderr
    assert login.stdout.startswith(lc.url + "/oauth2/authorize?")
    unreachable = run("discover", f"http://127.0.0.1:{closed_port()}/{POOL}")
    assert unreachable.returncode == 2
    assert "could not reach" in unreachable.stderr


# -- the README -----------------------------------------------------------------------------------


def test_the_readme_discovery_snippet(lc: LocalCognito) -> None:
    (snippet,) = snippets_for(test_the_readme_discovery_snippet)
    snippet.replacing(
        {
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123": lc.issuer,
            '"1example23456789"': repr(lc.client_id),
        }
    ).run()
    config = get_config()
    assert (config.domain, config.issuer, config.jwks_url) == (lc.url, lc.issuer, lc.jwks_url)
    assert config.redirect_uri == "https://app.example.com/cognito_redirect"
