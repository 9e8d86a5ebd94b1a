"""The hosted-UI URLs a CognitoConfig builds (``cognito_helper.settings.hosted_ui``): the
endpoint URLs, ``login_url``, ``start_login`` and ``logout_url``.

URLs are checked by parsing them with :mod:`urllib.parse`, never by comparing raw strings,
except where the exact encoding is the behaviour under test (``%20`` for spaces).
"""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

import pytest

from cognito_helper import CognitoConfig, ConfigError, LoginRequest

from .config_values import (
    CHALLENGE,
    CLIENT_ID,
    LOGOUT,
    PKCE_VERIFIER_ALPHABET,
    POOL,
    PREFIX_BASE,
    REDIRECT,
    endpoint_of,
    make,
    query_of,
    s256,
)

# -- endpoint URLs -----------------------------------------------------------------------------


class TestEndpointUrls:
    @pytest.mark.parametrize(
        ("prop", "path"),
        [
            ("token_url", "/oauth2/token"),
            ("authorize_url", "/oauth2/authorize"),
            ("revoke_url", "/oauth2/revoke"),
            ("userinfo_url", "/oauth2/userInfo"),
        ],
    )
    def test_endpoint_url_is_the_path_on_the_hosted_ui_domain(self, prop, path):
        assert getattr(make(), prop) == PREFIX_BASE + path

    def test_endpoint_urls_follow_a_custom_domain(self):
        assert make(domain="https://auth.example.com/").token_url == (
            "https://auth.example.com/oauth2/token"
        )

    @pytest.mark.parametrize(
        "prop", ["base_url", "token_url", "authorize_url", "revoke_url", "userinfo_url"]
    )
    def test_missing_domain_raises_config_error_naming_domain_when_a_url_is_asked_for(self, prop):
        config = make(domain=None)
        with pytest.raises(ConfigError, match="domain"):
            getattr(config, prop)

    def test_missing_domain_raises_config_error_naming_domain_for_login_url(self):
        with pytest.raises(ConfigError, match="domain"):
            make(domain=None).login_url()

    def test_missing_domain_raises_config_error_naming_domain_for_logout_url(self):
        with pytest.raises(ConfigError, match="domain"):
            make(domain=None).logout_url()


# -- login_url ---------------------------------------------------------------------------------


class TestLoginUrl:
    def test_login_url_targets_the_authorize_endpoint(self):
        assert endpoint_of(make().login_url()) == PREFIX_BASE + "/oauth2/authorize"

    def test_login_url_asks_for_the_authorization_code_flow(self):
        assert query_of(make().login_url())["response_type"] == "code"

    def test_login_url_carries_client_id_and_redirect_uri(self):
        query = query_of(make().login_url())
        assert query["client_id"] == CLIENT_ID
        assert query["redirect_uri"] == REDIRECT

    def test_login_url_carries_the_configured_scopes_space_separated(self):
        assert query_of(make().login_url())["scope"] == "openid email profile"

    def test_scope_spaces_are_encoded_as_percent_20_not_plus(self):
        raw = urlsplit(make().login_url()).query
        assert "scope=openid%20email%20profile" in raw.split("&")
        assert "+" not in raw

    @pytest.mark.parametrize("scopes", [["openid", "phone"], "openid phone"])
    def test_scopes_argument_replaces_the_configured_scopes(self, scopes):
        assert query_of(make().login_url(scopes=scopes))["scope"] == "openid phone"

    def test_login_url_carries_state_and_nonce(self):
        query = query_of(make().login_url(state="the-state", nonce="the-nonce"))
        assert query["state"] == "the-state"
        assert query["nonce"] == "the-nonce"

    def test_login_url_without_state_nonce_or_challenge_omits_them(self):
        query = query_of(make().login_url())
        for name in ("state", "nonce", "code_challenge", "code_challenge_method"):
            assert name not in query

    def test_code_challenge_is_sent_with_method_s256(self):
        query = query_of(make().login_url(code_challenge=CHALLENGE))
        assert query["code_challenge"] == CHALLENGE
        assert query["code_challenge_method"] == "S256"

    @pytest.mark.parametrize(
        "challenge",
        [
            "",
            "short",
            CHALLENGE[:-1],
            CHALLENGE + "A",
            CHALLENGE[:-1] + "=",
            CHALLENGE[:-1] + "+",
            CHALLENGE[:-1] + "/",
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk.",
        ],
    )
    def test_invalid_code_challenge_raises_value_error(self, challenge):
        with pytest.raises(ValueError):
            make().login_url(code_challenge=challenge)

    def test_login_url_carries_identity_provider(self):
        assert query_of(make().login_url(identity_provider="Google"))["identity_provider"] == (
            "Google"
        )

    def test_login_url_carries_login_hint(self):
        hint = "user+tag@example.com"
        assert query_of(make().login_url(login_hint=hint))["login_hint"] == hint

    @pytest.mark.parametrize(
        ("name", "value"),
        [("idp_identifier", "example.com"), ("lang", "fr"), ("prompt", "login")],
    )
    def test_login_url_carries_the_other_optional_parameters(self, name, value):
        assert query_of(make().login_url(**{name: value}))[name] == value

    @pytest.mark.parametrize(
        "value",
        [
            "a&b=c",
            "x=y&scope=admin",
            "with spaces  and\ttabs",
            "plus+sign/slash?question#hash%percent",
            "unicod\u00e9 \u65e5\u672c \U0001f600",
        ],
    )
    def test_special_characters_round_trip_exactly(self, value):
        url = make().login_url(state=value, nonce=value, login_hint=value, identity_provider=value)
        query = query_of(url)
        assert query["state"] == value
        assert query["nonce"] == value
        assert query["login_hint"] == value
        assert query["identity_provider"] == value
        assert query["client_id"] == CLIENT_ID
        assert query["response_type"] == "code"

    def test_redirect_uri_argument_overrides_the_configured_one(self):
        other = "https://other.example.com/callback"
        assert query_of(make().login_url(redirect_uri=other))["redirect_uri"] == other

    def test_redirect_uri_argument_is_validated(self):
        with pytest.raises(ConfigError, match="redirect_uri"):
            make().login_url(redirect_uri="http://other.example.com/callback")

    def test_redirect_uri_argument_works_without_a_configured_one(self):
        url = make(redirect_uri=None).login_url(redirect_uri="myapp://callback")
        assert query_of(url)["redirect_uri"] == "myapp://callback"

    def test_missing_redirect_uri_raises_config_error_naming_redirect_uri(self):
        with pytest.raises(ConfigError, match="redirect_uri"):
            make(redirect_uri=None).login_url()

    @pytest.mark.parametrize("name", ["state", "nonce", "login_hint", "identity_provider"])
    def test_empty_optional_value_raises_value_error(self, name):
        with pytest.raises(ValueError):
            make().login_url(**{name: ""})

    @pytest.mark.parametrize("scopes", [5, [3], ["a b"]])
    def test_invalid_login_url_scopes_raise_value_error(self, scopes: object) -> None:
        config = CognitoConfig(
            user_pool_id=POOL,
            client_id=CLIENT_ID,
            domain="my-app",
            redirect_uri="https://app.example.com/cb",
        )
        with pytest.raises(ValueError, match="scope"):
            config.login_url(scopes=scopes)  # type: ignore[arg-type]


# -- start_login -------------------------------------------------------------------------------


class TestStartLogin:
    def test_start_login_returns_a_login_request(self):
        assert isinstance(make().start_login(), LoginRequest)

    def test_state_and_nonce_are_at_least_43_characters(self):
        login = make().start_login()
        assert len(login.state) >= 43
        assert len(login.nonce) >= 43

    def test_state_and_nonce_differ_across_calls(self):
        logins = [make().start_login() for _ in range(5)]
        values = [login.state for login in logins] + [login.nonce for login in logins]
        assert len(set(values)) == len(values)

    def test_code_verifier_is_43_to_128_characters_of_the_rfc_7636_alphabet(self):
        verifier = make().start_login().code_verifier
        assert 43 <= len(verifier) <= 128
        assert PKCE_VERIFIER_ALPHABET.fullmatch(verifier)

    def test_code_verifier_differs_across_calls(self):
        verifiers = {make().start_login().code_verifier for _ in range(5)}
        assert len(verifiers) == 5

    def test_url_code_challenge_is_the_s256_hash_of_the_verifier(self):
        login = make().start_login()
        query = query_of(login.url)
        assert query["code_challenge_method"] == "S256"
        assert query["code_challenge"] == s256(login.code_verifier)

    def test_url_state_and_nonce_equal_the_returned_ones(self):
        login = make().start_login()
        query = query_of(login.url)
        assert query["state"] == login.state
        assert query["nonce"] == login.nonce

    def test_url_is_an_authorization_code_request_for_the_config(self):
        query = query_of(make().start_login().url)
        assert query["response_type"] == "code"
        assert query["client_id"] == CLIENT_ID
        assert query["redirect_uri"] == REDIRECT

    def test_start_login_passes_the_optional_parameters_through(self):
        login = make().start_login(
            redirect_uri="http://localhost:8000/cb",
            scopes=["openid"],
            identity_provider="Google",
            login_hint="someone@example.com",
        )
        query = query_of(login.url)
        assert query["redirect_uri"] == "http://localhost:8000/cb"
        assert query["scope"] == "openid"
        assert query["identity_provider"] == "Google"
        assert query["login_hint"] == "someone@example.com"

    @pytest.mark.parametrize("render", [repr, str])
    def test_login_request_rendering_does_not_contain_the_verifier(self, render):
        login = make().start_login()
        assert login.code_verifier not in render(login)

    def test_login_request_rendering_shows_state_and_nonce(self):
        login = make().start_login()
        assert login.state in repr(login)
        assert login.nonce in repr(login)

    def test_login_request_is_frozen(self):
        login = make().start_login()
        with pytest.raises(dataclasses.FrozenInstanceError):
            login.state = "forged"  # type: ignore[misc]


# -- logout_url --------------------------------------------------------------------------------


class TestLogoutUrl:
    def test_logout_url_targets_the_logout_endpoint(self):
        assert endpoint_of(make().logout_url()) == PREFIX_BASE + "/logout"

    def test_logout_url_carries_client_id_and_the_configured_logout_uri(self):
        assert query_of(make().logout_url()) == {"client_id": CLIENT_ID, "logout_uri": LOGOUT}

    def test_logout_uri_argument_overrides_the_configured_one(self):
        other = "https://app.example.com/bye?x=1&y=a%20b"
        assert query_of(make().logout_url(other))["logout_uri"] == other

    def test_logout_uri_argument_works_without_a_configured_one(self):
        url = make(logout_uri=None).logout_url("http://localhost:8000/bye")
        assert query_of(url) == {"client_id": CLIENT_ID, "logout_uri": "http://localhost:8000/bye"}

    def test_logout_uri_argument_is_validated(self):
        with pytest.raises(ConfigError, match="logout_uri"):
            make().logout_url("http://app.example.com/bye")

    def test_login_redirect_form_asks_cognito_to_show_sign_in_again(self):
        query = query_of(make().logout_url(login_redirect_uri=REDIRECT))
        assert query["client_id"] == CLIENT_ID
        assert query["response_type"] == "code"
        assert query["redirect_uri"] == REDIRECT

    def test_login_redirect_form_does_not_send_the_configured_logout_uri(self):
        query = query_of(make().logout_url(login_redirect_uri=REDIRECT))
        assert "logout_uri" not in query

    def test_login_redirect_uri_is_validated(self):
        with pytest.raises(ConfigError, match="redirect_uri"):
            make().logout_url(login_redirect_uri="http://app.example.com/cb")

    def test_giving_both_logout_uri_and_login_redirect_uri_raises_value_error(self):
        with pytest.raises(ValueError):
            make().logout_url(LOGOUT, login_redirect_uri=REDIRECT)

    def test_no_logout_uri_anywhere_raises_config_error_naming_logout_uri(self):
        with pytest.raises(ConfigError, match="logout_uri"):
            make(logout_uri=None).logout_url()

    def test_logout_url_carries_state_when_given(self):
        assert query_of(make().logout_url(state="s t&x"))["state"] == "s t&x"
