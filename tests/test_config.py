"""Specification of ``cognito_helper.config``: what CognitoConfig accepts and the URLs it builds.

Everything here is offline: the config only validates values and builds hosted-UI URLs.
URLs are checked by parsing them with :mod:`urllib.parse`, never by comparing raw strings,
except where the exact encoding is the behaviour under test (``%20`` for spaces).
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import hashlib
import inspect
import pickle
import re
import secrets
import socket
import sys
from urllib.parse import parse_qs, urlsplit

import pytest
from urllib3.util import parse_url

import cognito_helper
from cognito_helper import CognitoConfig, ConfigError, LoginRequest, get_config, pkce_challenge
from cognito_helper.settings.fields import scope_tuple
from cognito_helper.settings.urls import connecting_host

config_module = sys.modules["cognito_helper.settings.config"]

POOL = "us-east-1_AbC123"
REGION = "us-east-1"
CLIENT_ID = "1example23456789abcdefghij"
SECRET = "sEcReT-value-0123456789-must-not-leak"
REDIRECT = "https://app.example.com/cognito_redirect"
LOGOUT = "https://app.example.com/signed-out"
PREFIX_BASE = f"https://my-app.auth.{REGION}.amazoncognito.com"
ORIGINAL_ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{POOL}"
UPDATED_ISSUER = f"https://issuer-cognito-idp.{REGION}.amazonaws.com/{POOL}"
DEFAULT_JWKS = f"https://cognito-idp.{REGION}.amazonaws.com/{POOL}/.well-known/jwks.json"
# A valid S256 challenge shape: 43 base64url characters.
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

ENV_VARS = (
    "COGNITO_USER_POOL_ID",
    "COGNITO_CLIENT_ID",
    "COGNITO_CLIENT_SECRET",
    "COGNITO_DOMAIN",
    "COGNITO_REDIRECT_URI",
    "COGNITO_LOGOUT_URI",
    "COGNITO_REGION",
    "COGNITO_SCOPES",
    "COGNITO_ISSUER",
    "COGNITO_JWKS_URL",
)

# Every AWS region (commercial, GovCloud, China, ISO, European Sovereign Cloud) as of 2026.
AWS_REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1", "ap-east-2",
    "ap-south-1", "ap-south-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
    "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1",
    "eu-central-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-south-1", "eu-south-2",
    "eu-north-1", "il-central-1", "me-south-1", "me-central-1", "mx-central-1", "sa-east-1",
    "us-gov-west-1", "us-gov-east-1", "cn-north-1", "cn-northwest-1", "us-iso-east-1",
    "us-iso-west-1", "us-isob-east-1", "us-isof-south-1", "us-isof-east-1", "eu-isoe-west-1",
    "eusc-de-east-1",
)  # fmt: skip
# Typos of a direction word, a geography or a partition, and numbers no region has.
MISSPELLED_REGIONS = (
    "us-eest-1", "us-esat-1", "us-est-1", "eu-wset-1", "eu-centrl-1", "ap-southest-1",
    "ap-sotheast-2", "ap-north-east-1", "su-east-1", "ue-west-1", "uss-east-1", "us-gvo-west-1",
    "us-gov-wst-1", "us-east-0", "us-east-01", "eu-west",
)  # fmt: skip

PKCE_VERIFIER_ALPHABET = re.compile(r"[A-Za-z0-9\-._~]+")


@pytest.fixture(autouse=True)
def _isolated_defaults(monkeypatch: pytest.MonkeyPatch):
    """No process default and no COGNITO_* variable leaks into or out of a test."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    cognito_helper.configure(None)
    yield
    cognito_helper.configure(None)


def make(**overrides) -> CognitoConfig:
    """A complete, valid config (prefix domain, redirect and logout URIs), with overrides."""
    settings = {
        "user_pool_id": POOL,
        "client_id": CLIENT_ID,
        "domain": "my-app",
        "redirect_uri": REDIRECT,
        "logout_uri": LOGOUT,
    }
    settings.update(overrides)
    return CognitoConfig(**settings)


def query_of(url: str) -> dict[str, str]:
    """The query of ``url`` as a dict, insisting that every parameter occurs exactly once."""
    parsed = parse_qs(urlsplit(url).query, keep_blank_values=True, strict_parsing=True)
    for name, values in parsed.items():
        assert len(values) == 1, f"{name} occurs {len(values)} times in {url}"
    return {name: values[0] for name, values in parsed.items()}


def endpoint_of(url: str) -> str:
    """``scheme://host/path`` of ``url``, without the query."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def s256(verifier: str) -> str:
    """BASE64URL(SHA256(ASCII(verifier))) without padding, computed independently of the library."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


# ---------------------------------------------------------------------------------------
# CognitoConfig: user pool id, client id, region
# ---------------------------------------------------------------------------------------


class TestUserPoolIdAndRegion:
    @pytest.mark.parametrize(
        ("pool_id", "region"),
        [
            ("us-east-1_AbC123", "us-east-1"),
            ("eu-west-2_xYz9", "eu-west-2"),
            ("ap-southeast-1_Q1w2E3r4", "ap-southeast-1"),
            ("us-gov-west-1_AbC123", "us-gov-west-1"),
            ("us-east-1_6cc4a58e686c4d078e601af53cbcef71", "us-east-1"),
        ],
    )
    def test_region_is_derived_from_pool_id(self, pool_id, region):
        config = CognitoConfig(user_pool_id=pool_id, client_id=CLIENT_ID)
        assert config.region == region
        assert config.user_pool_id == pool_id

    def test_explicit_region_equal_to_the_pool_ids_region_is_accepted(self):
        config = CognitoConfig(user_pool_id=POOL, client_id=CLIENT_ID, region=REGION)
        assert config.region == REGION

    def test_region_that_contradicts_the_pool_id_raises_config_error_naming_both(self):
        # Used to be allowed: the domain was then built in eu-west-1, the issuer in us-east-1.
        with pytest.raises(ConfigError) as excinfo:
            CognitoConfig(user_pool_id=POOL, client_id=CLIENT_ID, region="eu-west-1")
        message = str(excinfo.value)
        assert message.startswith("region 'eu-west-1' contradicts user_pool_id")
        assert POOL in message
        assert "'us-east-1'" in message

    def test_invalid_region_raises_config_error_naming_region(self):
        with pytest.raises(ConfigError, match="region"):
            CognitoConfig(user_pool_id=POOL, client_id=CLIENT_ID, region="Europe (Ireland)")

    @pytest.mark.parametrize("region", AWS_REGIONS)
    def test_every_aws_region_is_accepted_in_a_pool_id_and_as_region(self, region):
        config = CognitoConfig(user_pool_id=f"{region}_AbC123", client_id=CLIENT_ID, region=region)
        assert config.region == region

    @pytest.mark.parametrize("region", MISSPELLED_REGIONS)
    def test_a_misspelled_region_in_the_pool_id_is_refused_when_the_config_is_built(self, region):
        # Used to be accepted until the first key fetch (a DNS error for cognito-idp.{region}).
        with pytest.raises(ConfigError) as excinfo:
            CognitoConfig(user_pool_id=f"{region}_AbC123", client_id=CLIENT_ID)
        message = str(excinfo.value)
        assert message.startswith(f"user_pool_id '{region}_AbC123'")
        assert f"{region!r} is not an AWS region" in message

    @pytest.mark.parametrize("region", MISSPELLED_REGIONS)
    def test_a_misspelled_region_given_as_region_is_refused_naming_region(self, region):
        with pytest.raises(ConfigError) as excinfo:
            CognitoConfig(user_pool_id=POOL, client_id=CLIENT_ID, region=region)
        assert str(excinfo.value).startswith(f"region {region!r} is not an AWS region")

    def test_a_misspelled_region_in_cognito_user_pool_id_names_the_variable(self):
        environ = {"COGNITO_USER_POOL_ID": "us-eest-1_AbC123", "COGNITO_CLIENT_ID": CLIENT_ID}
        with pytest.raises(ConfigError) as excinfo:
            CognitoConfig.from_env(environ)
        assert str(excinfo.value).startswith("COGNITO_USER_POOL_ID: user_pool_id 'us-eest-1_")

    @pytest.mark.parametrize("region", ["us-eest-1", "eu-wset-1"])
    def test_the_alb_verifier_refuses_a_misspelled_region_by_the_same_rule(self, region):
        from cognito_helper.verification.alb import verify_alb_jwt

        arn = f"arn:aws:elasticloadbalancing:{region}:123456789012:loadbalancer/app/a/0123abcd"
        with pytest.raises(ConfigError, match=f"^alb_arn 'arn:aws:elasticloadbalancing:{region}:"):
            verify_alb_jwt("a.b.c", alb_arn=arn)
        good = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/a/0123abcd"
        with pytest.raises(ConfigError, match=re.escape(repr(region))):
            verify_alb_jwt("a.b.c", alb_arn=good, region=region)

    @pytest.mark.parametrize(
        "pool_id",
        [
            "",
            "   ",
            None,
            "us-east-1",
            "AbC123",
            "us-east-1_",
            "_AbC123",
            "us-east-1-AbC123",
            "US-EAST-1_AbC123",
            "useast1_AbC123",
            "us-east-1_AbC-123",
            "us-east-1_AbC 123",
            "us-east-1_AbC123/../x",
        ],
    )
    def test_invalid_pool_id_raises_config_error_naming_user_pool_id(self, pool_id):
        with pytest.raises(ConfigError, match="user_pool_id"):
            CognitoConfig(user_pool_id=pool_id, client_id=CLIENT_ID)

    @pytest.mark.parametrize("client_id", ["", "   ", None, "abc def", "abc\tdef", "a\nb"])
    def test_empty_or_space_containing_client_id_raises_config_error_naming_client_id(
        self, client_id
    ):
        with pytest.raises(ConfigError, match="client_id"):
            CognitoConfig(user_pool_id=POOL, client_id=client_id)

    def test_surrounding_whitespace_is_stripped_from_ids(self):
        config = CognitoConfig(user_pool_id=f" {POOL}\n", client_id=f"\t{CLIENT_ID} ")
        assert config.user_pool_id == POOL
        assert config.client_id == CLIENT_ID


# ---------------------------------------------------------------------------------------
# CognitoConfig: redirect_uri and logout_uri
# ---------------------------------------------------------------------------------------


class TestRedirectAndLogoutUris:
    @pytest.mark.parametrize("field_name", ["redirect_uri", "logout_uri"])
    def test_https_uri_is_kept_unchanged(self, field_name):
        uri = "https://app.example.com/path?x=1"
        assert getattr(make(**{field_name: uri}), field_name) == uri

    @pytest.mark.parametrize("field_name", ["redirect_uri", "logout_uri"])
    @pytest.mark.parametrize(
        "uri", ["/cognito_redirect", "cognito_redirect", "app.example.com/cognito_redirect"]
    )
    def test_non_absolute_uri_raises_config_error_naming_the_field(self, field_name, uri):
        with pytest.raises(ConfigError, match=field_name):
            make(**{field_name: uri})

    def test_host_and_port_without_scheme_is_rejected_as_redirect_uri(self):
        with pytest.raises(ConfigError, match="redirect_uri"):
            make(redirect_uri="localhost:8080/callback")

    @pytest.mark.parametrize("field_name", ["redirect_uri", "logout_uri"])
    @pytest.mark.parametrize(
        "uri",
        [
            "http://app.example.com/cb",
            "http://10.0.0.1/cb",
            "http://0.0.0.0:8000/cb",
            "http://localhost.example.com/cb",
            "http://localhost@evil.example.com/cb",
        ],
    )
    def test_plain_http_to_a_non_loopback_host_raises_config_error_naming_the_field(
        self, field_name, uri
    ):
        with pytest.raises(ConfigError, match=field_name):
            make(**{field_name: uri})

    @pytest.mark.parametrize("field_name", ["redirect_uri", "logout_uri"])
    @pytest.mark.parametrize(
        "uri",
        [
            "http://localhost/cb",
            "http://localhost:8000/cb",
            "http://127.0.0.1/cb",
            "http://127.5.5.5:8080/cb",
            "http://[::1]:3000/cb",
        ],
    )
    def test_plain_http_is_allowed_for_loopback_hosts(self, field_name, uri):
        assert getattr(make(**{field_name: uri}), field_name) == uri

    @pytest.mark.parametrize("uri", ["myapp://callback", "com.example.app:/oauth2redirect"])
    def test_custom_scheme_redirect_uri_is_allowed_for_native_apps(self, uri):
        assert make(redirect_uri=uri).redirect_uri == uri

    @pytest.mark.parametrize("field_name", ["redirect_uri", "logout_uri"])
    def test_uri_with_a_fragment_raises_config_error_naming_the_field(self, field_name):
        with pytest.raises(ConfigError, match=field_name):
            make(**{field_name: "https://app.example.com/cb#done"})

    @pytest.mark.parametrize("field_name", ["redirect_uri", "logout_uri"])
    def test_https_uri_without_a_host_raises_config_error_naming_the_field(self, field_name):
        with pytest.raises(ConfigError, match=field_name):
            make(**{field_name: "https:///cb"})

    @pytest.mark.parametrize("field_name", ["redirect_uri", "logout_uri"])
    def test_uris_are_optional(self, field_name):
        assert getattr(make(**{field_name: None}), field_name) is None


# ---------------------------------------------------------------------------------------
# CognitoConfig: the hosted-UI domain
# ---------------------------------------------------------------------------------------


class TestDomain:
    def test_prefix_becomes_the_amazoncognito_host_in_the_pools_region(self):
        assert make(domain="my-app").domain == PREFIX_BASE

    def test_prefix_uses_the_region_of_a_gov_cloud_pool(self):
        config = make(user_pool_id="us-gov-west-1_AbC123", domain="my-app")
        assert config.domain == "https://my-app.auth.us-gov-west-1.amazoncognito.com"

    def test_custom_host_becomes_an_https_url(self):
        assert make(domain="auth.example.com").domain == "https://auth.example.com"

    def test_custom_host_with_port_keeps_the_port(self):
        assert make(domain="auth.example.com:8443").domain == "https://auth.example.com:8443"

    @pytest.mark.parametrize(
        ("given", "expected"),
        [
            ("https://auth.example.com", "https://auth.example.com"),
            ("https://auth.example.com/", "https://auth.example.com"),
            (
                "https://my-app.auth.eu-west-1.amazoncognito.com/",
                "https://my-app.auth.eu-west-1.amazoncognito.com",
            ),
        ],
    )
    def test_full_url_is_kept_without_trailing_slash(self, given, expected):
        assert make(domain=given).domain == expected

    def test_plain_http_domain_url_raises_config_error_naming_domain(self):
        with pytest.raises(ConfigError, match="domain"):
            make(domain="http://auth.example.com")

    def test_plain_http_loopback_domain_url_is_allowed_for_local_providers(self):
        assert make(domain="http://127.0.0.1:9999").domain == "http://127.0.0.1:9999"

    def test_domain_url_with_a_query_raises_config_error_naming_domain(self):
        with pytest.raises(ConfigError, match="domain"):
            make(domain="https://auth.example.com/?x=1")

    @pytest.mark.parametrize(
        "prefix", ["My_App", "MY-APP", "-my-app", "my-app-", "my app", "my_app", "a" * 64]
    )
    def test_invalid_prefix_raises_config_error_naming_domain(self, prefix):
        with pytest.raises(ConfigError, match="domain"):
            make(domain=prefix)

    @pytest.mark.parametrize("domain", [None, ""])
    def test_domain_is_optional(self, domain):
        assert make(domain=domain).domain is None


# ---------------------------------------------------------------------------------------
# CognitoConfig: issuer and JWKS URL
# ---------------------------------------------------------------------------------------


class TestIssuerAndJwks:
    def test_default_issuer_is_the_original_form(self):
        config = make()
        assert config.issuer == ORIGINAL_ISSUER
        assert config.issuers == (ORIGINAL_ISSUER,)

    def test_default_issuer_uses_the_pools_own_region_and_id(self):
        config = make(user_pool_id="us-gov-west-1_AbC123")
        assert (
            config.issuer == "https://cognito-idp.us-gov-west-1.amazonaws.com/us-gov-west-1_AbC123"
        )

    def test_default_jwks_url_is_the_pools_well_known_jwks(self):
        assert make().jwks_url == DEFAULT_JWKS

    def test_default_jwks_url_uses_the_pools_own_region_and_id(self):
        config = make(user_pool_id="eu-central-1_Zz9")
        assert config.jwks_url == (
            "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_Zz9/.well-known/jwks.json"
        )

    def test_issuer_given_as_a_string_replaces_the_default(self):
        config = make(issuer=UPDATED_ISSUER)
        assert config.issuer == UPDATED_ISSUER
        assert config.issuers == (UPDATED_ISSUER,)

    def test_issuer_given_as_a_list_accepts_every_listed_issuer(self):
        config = make(issuer=[ORIGINAL_ISSUER, UPDATED_ISSUER])
        assert config.issuers == (ORIGINAL_ISSUER, UPDATED_ISSUER)

    def test_issuer_list_is_stored_as_an_immutable_tuple(self):
        issuers = [ORIGINAL_ISSUER, UPDATED_ISSUER]
        config = make(issuer=issuers)
        issuers.append("https://attacker.example.com")
        assert config.issuer == (ORIGINAL_ISSUER, UPDATED_ISSUER)

    def test_empty_issuer_list_raises_config_error_naming_issuer(self):
        with pytest.raises(ConfigError, match="issuer"):
            make(issuer=[])

    @pytest.mark.parametrize(
        "issuer", ["http://cognito-idp.example.com/pool", "cognito-idp.us-east-1.amazonaws.com"]
    )
    def test_non_https_issuer_raises_config_error_naming_issuer(self, issuer):
        with pytest.raises(ConfigError, match="issuer"):
            make(issuer=issuer)

    def test_non_string_issuer_entry_raises_config_error_naming_issuer(self):
        with pytest.raises(ConfigError, match="issuer"):
            make(issuer=[ORIGINAL_ISSUER, 42])

    def test_explicit_jwks_url_replaces_the_default(self):
        url = "http://127.0.0.1:9999/.well-known/jwks.json"
        assert make(jwks_url=url).jwks_url == url

    def test_plain_http_jwks_url_to_a_remote_host_raises_config_error_naming_jwks_url(self):
        with pytest.raises(ConfigError, match="jwks_url"):
            make(jwks_url="http://keys.example.com/jwks.json")


# ---------------------------------------------------------------------------------------
# CognitoConfig: endpoint URLs
# ---------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------
# CognitoConfig: scopes, timeout, secrecy, immutability
# ---------------------------------------------------------------------------------------


class TestScopes:
    def test_default_scopes_are_openid_email_profile(self):
        assert make().scopes == ("openid", "email", "profile")

    def test_scopes_given_as_a_space_separated_string_are_split(self):
        assert make(scopes="openid  email\taws.cognito.signin.user.admin").scopes == (
            "openid",
            "email",
            "aws.cognito.signin.user.admin",
        )

    def test_scopes_given_as_a_list_become_a_tuple(self):
        assert make(scopes=["openid", "phone"]).scopes == ("openid", "phone")

    @pytest.mark.parametrize("bad", [["openid", "e mail"], ["openid", ""], ["openid", 7]])
    def test_invalid_scope_entry_raises_config_error_naming_scopes(self, bad):
        with pytest.raises(ConfigError, match="scopes"):
            make(scopes=bad)


class TestTimeout:
    def test_default_timeout_is_ten_seconds(self):
        assert make().timeout == 10.0

    @pytest.mark.parametrize("timeout", [0.5, 3, 30.0, 300])
    def test_positive_timeout_up_to_300_seconds_is_kept(self, timeout):
        assert make(timeout=timeout).timeout == timeout

    @pytest.mark.parametrize(
        "timeout", [0, -1, 300.5, float("inf"), float("nan"), True, "10", None]
    )
    def test_invalid_timeout_raises_config_error_naming_timeout(self, timeout):
        with pytest.raises(ConfigError, match="timeout"):
            make(timeout=timeout)


class TestSecrecyAndImmutability:
    @pytest.mark.parametrize("render", [repr, str])
    def test_rendering_never_contains_the_client_secret(self, render):
        assert SECRET not in render(make(client_secret=SECRET))

    @pytest.mark.parametrize("render", [repr, str])
    def test_rendering_says_a_client_secret_is_set(self, render):
        text = render(make(client_secret=SECRET))
        assert "client_secret" in text
        assert "client_secret=None" not in text

    @pytest.mark.parametrize("render", [repr, str])
    def test_rendering_says_no_client_secret_is_set_for_a_public_client(self, render):
        assert "client_secret=None" in render(make(client_secret=None))

    def test_rendering_shows_the_non_secret_settings(self):
        text = repr(make())
        assert POOL in text
        assert CLIENT_ID in text
        assert PREFIX_BASE in text

    def test_client_secret_is_available_to_the_library(self):
        assert make(client_secret=SECRET).client_secret == SECRET

    def test_empty_client_secret_means_a_public_client(self):
        assert make(client_secret="").client_secret is None

    def test_config_error_about_another_field_does_not_contain_the_client_secret(self):
        with pytest.raises(ConfigError) as excinfo:
            make(client_secret=SECRET, redirect_uri="http://app.example.com/cb")
        assert SECRET not in str(excinfo.value)

    @pytest.mark.parametrize("field_name", ["client_id", "client_secret", "domain", "issuer"])
    def test_assigning_a_field_raises_frozen_instance_error(self, field_name):
        config = make(client_secret=SECRET)
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(config, field_name, "changed")
        assert getattr(config, field_name) != "changed"

    def test_configs_built_from_equal_settings_are_equal_and_hashable(self):
        a = make(issuer=[ORIGINAL_ISSUER, UPDATED_ISSUER], scopes=["openid"])
        b = make(issuer=(ORIGINAL_ISSUER, UPDATED_ISSUER), scopes="openid")
        assert a == b
        assert hash(a) == hash(b)


# ---------------------------------------------------------------------------------------
# login_url
# ---------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------
# start_login
# ---------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------
# logout_url
# ---------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------
# CognitoConfig.from_dict
# ---------------------------------------------------------------------------------------


SEED = {
    "region": "us-east-1",
    "domain": "my-app",
    "client_id": CLIENT_ID,
    "client_secret": SECRET,
    "user_pool_id": POOL,
    "redirect_uri": REDIRECT,
}


class TestFromDict:
    def test_seed_dict_shape_builds_a_config(self):
        config = CognitoConfig.from_dict(SEED)
        assert config.user_pool_id == POOL
        assert config.client_id == CLIENT_ID
        assert config.client_secret == SECRET
        assert config.region == "us-east-1"
        assert config.domain == PREFIX_BASE
        assert config.redirect_uri == REDIRECT

    def test_from_dict_does_not_modify_the_given_dict(self):
        data = dict(SEED)
        CognitoConfig.from_dict(data)
        assert data == SEED

    def test_from_dict_accepts_every_constructor_keyword(self):
        config = CognitoConfig.from_dict(
            {
                **SEED,
                "logout_uri": LOGOUT,
                "scopes": ["openid"],
                "issuer": [ORIGINAL_ISSUER, UPDATED_ISSUER],
                "jwks_url": "http://127.0.0.1:9999/jwks.json",
                "timeout": 2.5,
            }
        )
        assert config.logout_uri == LOGOUT
        assert config.scopes == ("openid",)
        assert config.issuers == (ORIGINAL_ISSUER, UPDATED_ISSUER)
        assert config.jwks_url == "http://127.0.0.1:9999/jwks.json"
        assert config.timeout == 2.5

    def test_unknown_key_raises_config_error_naming_it(self):
        with pytest.raises(ConfigError, match="redirect_url"):
            CognitoConfig.from_dict({**SEED, "redirect_url": REDIRECT})

    @pytest.mark.parametrize("required", ["user_pool_id", "client_id"])
    def test_missing_required_key_raises_config_error_naming_it(self, required):
        data = {k: v for k, v in SEED.items() if k != required}
        with pytest.raises(ConfigError, match=required):
            CognitoConfig.from_dict(data)

    @pytest.mark.parametrize("required", ["user_pool_id", "client_id"])
    def test_empty_required_value_raises_config_error_naming_it(self, required):
        with pytest.raises(ConfigError, match=required):
            CognitoConfig.from_dict({**SEED, required: ""})

    @pytest.mark.parametrize(
        ("key", "attribute", "unset_value"),
        [
            ("client_secret", "client_secret", None),
            ("domain", "domain", None),
            ("redirect_uri", "redirect_uri", None),
            ("logout_uri", "logout_uri", None),
            ("region", "region", REGION),
            ("issuer", "issuer", ORIGINAL_ISSUER),
            ("jwks_url", "jwks_url", DEFAULT_JWKS),
        ],
    )
    def test_empty_string_value_is_treated_as_unset(self, key, attribute, unset_value):
        config = CognitoConfig.from_dict({**SEED, key: ""})
        assert getattr(config, attribute) == unset_value

    def test_empty_string_scopes_is_treated_as_unset(self):
        config = CognitoConfig.from_dict({**SEED, "scopes": ""})
        assert config.scopes == ("openid", "email", "profile")

    @pytest.mark.parametrize("data", [None, "user_pool_id=x", [("client_id", "x")]])
    def test_non_mapping_raises_config_error(self, data):
        with pytest.raises(ConfigError):
            CognitoConfig.from_dict(data)

    def test_invalid_value_raises_config_error_naming_the_field(self):
        with pytest.raises(ConfigError, match="redirect_uri"):
            CognitoConfig.from_dict({**SEED, "redirect_uri": "http://app.example.com/cb"})


# ---------------------------------------------------------------------------------------
# CognitoConfig.from_env
# ---------------------------------------------------------------------------------------


def set_env(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)


class TestFromEnv:
    def test_every_cognito_variable_is_read(self, monkeypatch):
        set_env(
            monkeypatch,
            COGNITO_USER_POOL_ID=POOL,
            COGNITO_CLIENT_ID=CLIENT_ID,
            COGNITO_CLIENT_SECRET=SECRET,
            COGNITO_DOMAIN="auth.example.com",
            COGNITO_REDIRECT_URI=REDIRECT,
            COGNITO_LOGOUT_URI=LOGOUT,
            COGNITO_REGION=REGION,
            COGNITO_SCOPES="openid email aws.cognito.signin.user.admin",
            COGNITO_ISSUER=f"{ORIGINAL_ISSUER} {UPDATED_ISSUER}",
            COGNITO_JWKS_URL="http://127.0.0.1:9999/jwks.json",
        )
        config = CognitoConfig.from_env()
        assert config.user_pool_id == POOL
        assert config.client_id == CLIENT_ID
        assert config.client_secret == SECRET
        assert config.domain == "https://auth.example.com"
        assert config.redirect_uri == REDIRECT
        assert config.logout_uri == LOGOUT
        assert config.region == REGION
        assert config.scopes == ("openid", "email", "aws.cognito.signin.user.admin")
        assert config.issuers == (ORIGINAL_ISSUER, UPDATED_ISSUER)
        assert config.jwks_url == "http://127.0.0.1:9999/jwks.json"

    def test_single_cognito_issuer_becomes_a_single_issuer(self, monkeypatch):
        set_env(
            monkeypatch,
            COGNITO_USER_POOL_ID=POOL,
            COGNITO_CLIENT_ID=CLIENT_ID,
            COGNITO_ISSUER=UPDATED_ISSUER,
        )
        config = CognitoConfig.from_env()
        assert config.issuer == UPDATED_ISSUER
        assert config.issuers == (UPDATED_ISSUER,)

    def test_only_pool_id_and_client_id_are_needed(self, monkeypatch):
        set_env(monkeypatch, COGNITO_USER_POOL_ID=POOL, COGNITO_CLIENT_ID=CLIENT_ID)
        config = CognitoConfig.from_env()
        assert config.client_secret is None
        assert config.domain is None
        assert config.scopes == ("openid", "email", "profile")
        assert config.issuer == ORIGINAL_ISSUER
        assert config.jwks_url == DEFAULT_JWKS

    def test_empty_optional_variables_are_treated_as_unset(self, monkeypatch):
        set_env(
            monkeypatch,
            COGNITO_USER_POOL_ID=POOL,
            COGNITO_CLIENT_ID=CLIENT_ID,
            COGNITO_CLIENT_SECRET="",
            COGNITO_DOMAIN=" ",
            COGNITO_SCOPES="",
            COGNITO_ISSUER="",
            COGNITO_REGION="",
        )
        config = CognitoConfig.from_env()
        assert config.client_secret is None
        assert config.domain is None
        assert config.scopes == ("openid", "email", "profile")
        assert config.issuer == ORIGINAL_ISSUER
        assert config.region == REGION

    @pytest.mark.parametrize("pool_id", [None, "", "   "])
    def test_missing_pool_id_raises_config_error_naming_cognito_user_pool_id(
        self, monkeypatch, pool_id
    ):
        monkeypatch.setenv("COGNITO_CLIENT_ID", CLIENT_ID)
        if pool_id is not None:
            monkeypatch.setenv("COGNITO_USER_POOL_ID", pool_id)
        with pytest.raises(ConfigError, match="COGNITO_USER_POOL_ID"):
            CognitoConfig.from_env()

    def test_missing_client_id_raises_config_error_naming_cognito_client_id(self, monkeypatch):
        monkeypatch.setenv("COGNITO_USER_POOL_ID", POOL)
        with pytest.raises(ConfigError, match="COGNITO_CLIENT_ID"):
            CognitoConfig.from_env()

    def test_invalid_variable_raises_config_error_naming_the_field(self, monkeypatch):
        set_env(
            monkeypatch,
            COGNITO_USER_POOL_ID=POOL,
            COGNITO_CLIENT_ID=CLIENT_ID,
            COGNITO_REDIRECT_URI="http://app.example.com/cb",
        )
        with pytest.raises(ConfigError, match="redirect_uri") as excinfo:
            CognitoConfig.from_env()
        assert "COGNITO_" in str(excinfo.value)

    def test_explicit_mapping_is_read_instead_of_the_process_environment(self, monkeypatch):
        set_env(monkeypatch, COGNITO_USER_POOL_ID=POOL, COGNITO_CLIENT_ID="from-process")
        config = CognitoConfig.from_env(
            {"COGNITO_USER_POOL_ID": "eu-west-1_Other1", "COGNITO_CLIENT_ID": "from-mapping"}
        )
        assert config.user_pool_id == "eu-west-1_Other1"
        assert config.client_id == "from-mapping"


# ---------------------------------------------------------------------------------------
# configure() and get_config(): the process default
# ---------------------------------------------------------------------------------------


class TestProcessDefault:
    def test_configure_with_a_config_returns_it(self):
        config = make()
        assert cognito_helper.configure(config) is config

    def test_configured_config_is_returned_by_get_config(self):
        config = make()
        cognito_helper.configure(config)
        assert get_config() is config

    def test_configure_with_a_dict_returns_the_built_config(self):
        config = cognito_helper.configure(dict(SEED))
        assert isinstance(config, CognitoConfig)
        assert config.client_id == CLIENT_ID
        assert config.domain == PREFIX_BASE

    def test_configure_with_a_dict_makes_get_config_return_the_built_config(self):
        config = cognito_helper.configure(dict(SEED))
        assert get_config() is config

    def test_configure_with_an_invalid_dict_raises_and_keeps_the_previous_default(self):
        previous = cognito_helper.configure(make())
        with pytest.raises(ConfigError):
            cognito_helper.configure({**SEED, "redirect_url": REDIRECT})
        assert get_config() is previous

    def test_configured_config_wins_over_the_environment(self, monkeypatch):
        set_env(monkeypatch, COGNITO_USER_POOL_ID=POOL, COGNITO_CLIENT_ID="from-env")
        config = cognito_helper.configure(make())
        assert get_config() is config

    def test_get_config_reads_the_environment_when_nothing_is_configured(self, monkeypatch):
        set_env(
            monkeypatch,
            COGNITO_USER_POOL_ID=POOL,
            COGNITO_CLIENT_ID="from-env",
            COGNITO_DOMAIN="my-app",
        )
        config = get_config()
        assert config.client_id == "from-env"
        assert config.domain == PREFIX_BASE

    def test_get_config_without_config_or_environment_says_how_to_configure(self):
        with pytest.raises(ConfigError) as excinfo:
            get_config()
        message = str(excinfo.value)
        assert "configure" in message
        assert "COGNITO_USER_POOL_ID" in message

    def test_get_config_with_incomplete_environment_names_the_missing_variable(self, monkeypatch):
        monkeypatch.setenv("COGNITO_CLIENT_ID", CLIENT_ID)
        with pytest.raises(ConfigError, match="COGNITO_USER_POOL_ID"):
            get_config()

    def test_configure_none_clears_the_default(self):
        cognito_helper.configure(make())
        assert cognito_helper.configure(None) is None
        with pytest.raises(ConfigError):
            get_config()

    def test_configure_none_falls_back_to_the_environment(self, monkeypatch):
        cognito_helper.configure(make(client_id="configured"))
        set_env(monkeypatch, COGNITO_USER_POOL_ID=POOL, COGNITO_CLIENT_ID="from-env")
        cognito_helper.configure(None)
        assert get_config().client_id == "from-env"

    def test_get_config_returns_an_explicit_config_over_the_default(self):
        cognito_helper.configure(make(client_id="default"))
        explicit = make(client_id="explicit")
        assert get_config(explicit) is explicit

    def test_get_config_returns_an_explicit_config_when_nothing_is_configured(self):
        explicit = make()
        assert get_config(explicit) is explicit

    def test_get_config_rejects_an_explicit_non_config(self):
        with pytest.raises(ConfigError):
            get_config(dict(SEED))  # type: ignore[arg-type]

    def test_the_environment_is_read_once(self, monkeypatch):
        set_env(monkeypatch, COGNITO_USER_POOL_ID=POOL, COGNITO_CLIENT_ID="first")
        assert get_config().client_id == "first"
        monkeypatch.setenv("COGNITO_CLIENT_ID", "second")
        assert get_config().client_id == "first"

    def test_configure_none_makes_the_environment_be_read_again(self, monkeypatch):
        set_env(monkeypatch, COGNITO_USER_POOL_ID=POOL, COGNITO_CLIENT_ID="first")
        assert get_config().client_id == "first"
        monkeypatch.setenv("COGNITO_CLIENT_ID", "second")
        monkeypatch.setenv("COGNITO_DOMAIN", "my-app")
        cognito_helper.configure(None)
        assert (get_config().client_id, get_config().domain) == ("second", PREFIX_BASE)

    def test_removed_environment_after_configure_none_is_a_config_error(self, monkeypatch):
        set_env(monkeypatch, COGNITO_USER_POOL_ID=POOL, COGNITO_CLIENT_ID="first")
        get_config()
        monkeypatch.delenv("COGNITO_USER_POOL_ID")
        monkeypatch.delenv("COGNITO_CLIENT_ID")
        cognito_helper.configure(None)
        with pytest.raises(ConfigError, match="COGNITO_USER_POOL_ID"):
            get_config()

    def test_unchanged_environment_yields_the_same_config_object(self, monkeypatch):
        set_env(monkeypatch, COGNITO_USER_POOL_ID=POOL, COGNITO_CLIENT_ID=CLIENT_ID)
        assert get_config() is get_config()


# ---------------------------------------------------------------------------------------
# pkce_challenge
# ---------------------------------------------------------------------------------------


class TestPkceChallenge:
    def test_matches_the_rfc_7636_appendix_b_example(self):
        # RFC 7636, Appendix B: the S256 example verifier and challenge.
        verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        assert pkce_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

    @pytest.mark.parametrize("verifier", ["a" * 43, "~._-" * 32, "Z9" * 64])
    def test_is_the_unpadded_base64url_sha256_of_the_verifier(self, verifier):
        assert pkce_challenge(verifier) == s256(verifier)

    def test_is_43_characters_without_padding(self):
        challenge = pkce_challenge("x" * 128)
        assert len(challenge) == 43
        assert "=" not in challenge

    def test_is_accepted_by_login_url(self):
        challenge = pkce_challenge("y" * 64)
        assert query_of(make().login_url(code_challenge=challenge))["code_challenge"] == challenge


class TestUnsafeOrSloppyValues:
    @pytest.mark.parametrize(
        "uri", ["javascript:/alert(1)", "data:/text/html,x", "file:///etc/passwd", "vbscript:/x"]
    )
    def test_script_and_file_schemes_are_rejected_as_redirect_uri(self, uri: str) -> None:
        with pytest.raises(ConfigError, match="redirect_uri"):
            CognitoConfig(user_pool_id=POOL, client_id=CLIENT_ID, redirect_uri=uri)

    def test_reverse_domain_native_scheme_is_accepted(self) -> None:
        config = CognitoConfig(
            user_pool_id=POOL, client_id=CLIENT_ID, redirect_uri="com.example.app:/oauth2redirect"
        )
        assert config.redirect_uri == "com.example.app:/oauth2redirect"

    @pytest.mark.parametrize("domain", ["my-app.", "auth..example.com"])
    def test_domain_with_empty_label_is_rejected(self, domain: str) -> None:
        with pytest.raises(ConfigError, match="domain"):
            CognitoConfig(user_pool_id=POOL, client_id=CLIENT_ID, domain=domain)

    def test_blank_issuer_means_the_default_issuer(self) -> None:
        config = CognitoConfig(user_pool_id=POOL, client_id=CLIENT_ID, issuer="  ")
        assert config.issuer == ORIGINAL_ISSUER


class TestReviewFindings:
    def test_replace_to_another_pool_cannot_keep_the_old_issuer(self) -> None:
        config = CognitoConfig(user_pool_id=POOL, client_id=CLIENT_ID)
        with pytest.raises(ConfigError, match="names user pool 'us-east-1_AbC123'"):
            dataclasses.replace(config, user_pool_id="us-east-1_Other1")

    def test_replace_to_a_pool_in_another_region_cannot_keep_the_old_region(self) -> None:
        config = CognitoConfig(user_pool_id=POOL, client_id=CLIENT_ID)
        with pytest.raises(ConfigError, match="region 'us-east-1' contradicts") as excinfo:
            dataclasses.replace(config, user_pool_id="eu-west-1_Other1")
        assert "dataclasses.replace" in str(excinfo.value)

    def test_replace_of_the_client_keeps_working(self) -> None:
        config = CognitoConfig(user_pool_id=POOL, client_id=CLIENT_ID)
        assert dataclasses.replace(config, client_id="other").issuer == ORIGINAL_ISSUER

    def test_another_pools_jwks_url_is_refused(self) -> None:
        other = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other1/.well-known/jwks.json"
        with pytest.raises(ConfigError, match="jwks_url"):
            CognitoConfig(user_pool_id=POOL, client_id=CLIENT_ID, jwks_url=other)

    def test_subdomain_of_localhost_is_not_loopback_for_plain_http(self) -> None:
        with pytest.raises(ConfigError, match="jwks_url"):
            CognitoConfig(
                user_pool_id=POOL,
                client_id=CLIENT_ID,
                jwks_url="http://keys.evil.localhost/jwks.json",
            )

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


# ---------------------------------------------------------------------------------------
# Issue 8: URLs that two parsers read differently
# ---------------------------------------------------------------------------------------

URL_FIELDS = ("domain", "redirect_uri", "logout_uri", "issuer", "jwks_url")
# The review's proof of concept: urllib.parse reads host 127.0.0.1 (loopback, so plain http
# passed); urllib3, which requests connects with, reads host 192.0.2.2 port 8080.
BACKSLASH_TRICK = "http://192.0.2.2:8080\\@127.0.0.1"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything opens a connection: config validation alone must refuse."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a connection was attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.usefixtures("no_network")
class TestUrlsReadAlikeByEveryParser:
    @pytest.mark.parametrize("field_name", URL_FIELDS)
    def test_backslash_trick_is_refused_in_every_url_field(self, field_name):
        with pytest.raises(ConfigError) as excinfo:
            make(**{field_name: BACKSLASH_TRICK})
        assert str(excinfo.value).startswith(field_name)
        assert "found a backslash" in str(excinfo.value)

    @pytest.mark.parametrize("field_name", URL_FIELDS)
    @pytest.mark.parametrize(
        ("url", "reason"),
        [
            ("http://192.0.2.2:8080\\@127.0.0.1/cb", "found a backslash"),
            ("https://192.0.2.2\\@auth.example.com", "found a backslash"),
            ("http://127.0.0.1:8080/c\\b", "found a backslash"),
            ("https://auth.example.com/a\tb", "found whitespace"),
            ("https://auth.example.com/a\nb", "found whitespace"),
            ("https://auth.example.com/a\r\nX-Injected: 1", "found whitespace"),
            ("https://auth.example.com/a b", "found whitespace"),
            ("http://127.0.0.1:9/a\u00a0b", "found whitespace"),
            ("https://b\u00fccher.example", "found a non-ASCII character"),
            ("https://auth.example.com/\x00", "found a control character"),
            ("https://auth.example.com/\x7f", "found a control character"),
            ("https://user@auth.example.com", "user info"),
            ("https://user:pw@auth.example.com", "user info"),
            ("http://127.0.0.1@192.0.2.2", "user info"),
            ("http://127.0.0.1%0a@192.0.2.2", "user info"),
            ("https://@auth.example.com", "user info"),
            # urllib3 2.7+ decodes the escape (host a.b.example.com), 2.6 keeps it: either way
            # the host is refused.
            ("https://a%2eb.example.com", "read differently|has host 'a%2eb"),
        ],
    )
    def test_unsafe_url_is_refused_naming_the_field_and_the_reason(self, field_name, url, reason):
        with pytest.raises(ConfigError) as excinfo:
            make(**{field_name: url})
        message = str(excinfo.value)
        assert message.startswith(field_name)
        assert re.search(reason, message), message

    @pytest.mark.parametrize("field_name", URL_FIELDS)
    def test_parser_agreement_alone_refuses_the_backslash_trick(self, field_name):
        # Second line of defence, beside the character and user-info rules: the host urllib3
        # would connect to (192.0.2.2:8080) differs from the one urllib.parse reads.
        with pytest.raises(ConfigError, match=f"^{field_name} .*read differently"):
            connecting_host(field_name, BACKSLASH_TRICK, urlsplit(BACKSLASH_TRICK))

    @pytest.mark.parametrize(
        "domain",
        [
            "192.0.2.2:8080\\@127.0.0.1",
            "user@auth.example.com",
            "auth.exa mple.com",
            "auth.example.com\x00",
            "a%2eb.example.com",
        ],
    )
    def test_unsafe_domain_host_form_is_refused(self, domain):
        with pytest.raises(ConfigError, match=r"^domain"):
            make(domain=domain)

    @pytest.mark.parametrize("method", ["login_url", "start_login"])
    def test_backslash_trick_is_refused_as_a_call_time_redirect_uri(self, method):
        with pytest.raises(ConfigError, match=r"^redirect_uri"):
            getattr(make(), method)(redirect_uri=BACKSLASH_TRICK + "/cb")

    def test_backslash_trick_is_refused_as_a_call_time_logout_uri(self):
        with pytest.raises(ConfigError, match=r"^logout_uri"):
            make().logout_url(BACKSLASH_TRICK + "/bye")

    @pytest.mark.parametrize(
        "uri",
        [
            "https://app.example.com/cb?x=%0a",
            "https://app.example.com/a%20b/%5C",
            "https://app.example.com/cb?next=a@b",
            "http://[::1]:3000/cb",
        ],
    )
    def test_percent_escapes_and_at_signs_outside_the_host_are_allowed(self, uri):
        # Decided: a percent-escape is inert data that both parsers read alike.
        assert make(redirect_uri=uri).redirect_uri == uri

    @pytest.mark.parametrize("field_name", ["redirect_uri", "logout_uri", "jwks_url"])
    @pytest.mark.parametrize(
        "url",
        [
            "http://127.0.0.1:9999/x",
            "http://localhost:8000/cb",
            "http://[::1]:3000/cb",
            "https://auth.example.com:8443/a/b?c=d",
        ],
    )
    def test_accepted_url_has_the_same_host_for_urllib3_which_connects(self, field_name, url):
        kept = getattr(make(**{field_name: url}), field_name)
        assert (parse_url(kept).host or "").strip("[]") == urlsplit(kept).hostname
        assert parse_url(kept).port == urlsplit(kept).port


# ---------------------------------------------------------------------------------------
# Issue 8: PKCE verifiers never start with '-'
# ---------------------------------------------------------------------------------------


class TestPkceVerifierNeverLooksLikeAnOption:
    def test_no_verifier_in_2000_draws_starts_with_a_hyphen(self):
        config = make()
        logins = [config.start_login() for _ in range(2000)]
        verifiers = [login.code_verifier for login in logins]
        assert [v for v in verifiers if v.startswith("-")] == []
        # state and nonce are passed on command lines too (verify --nonce): never '-' first
        assert [x for login in logins for x in (login.state, login.nonce) if x[0] == "-"] == []
        assert all(43 <= len(v) <= 128 and PKCE_VERIFIER_ALPHABET.fullmatch(v) for v in verifiers)
        assert len(set(verifiers)) == len(verifiers)

    def test_a_random_string_starting_with_a_hyphen_is_fixed(self, monkeypatch):
        drawn = []

        def token_urlsafe(nbytes: int) -> str:
            token = "-" + "A" * (-(-nbytes * 4 // 3) - 1)
            drawn.append(token)
            return token

        monkeypatch.setattr(secrets, "token_urlsafe", token_urlsafe)
        login = make().start_login()
        verifier = login.code_verifier
        assert not verifier.startswith("-")
        assert not login.state.startswith("-") and not login.nonce.startswith("-")
        assert verifier[1:] == drawn[-1][1:]  # the rest of the random string is kept
        assert 43 <= len(verifier) <= 128
        assert PKCE_VERIFIER_ALPHABET.fullmatch(verifier)
        assert query_of(login.url)["code_challenge"] == s256(verifier)

    def test_verifier_keeps_at_least_256_bits_of_randomness(self, monkeypatch):
        sizes = []
        real = secrets.token_urlsafe

        def token_urlsafe(nbytes: int) -> str:
            sizes.append(nbytes)
            return real(nbytes)

        monkeypatch.setattr(secrets, "token_urlsafe", token_urlsafe)
        verifier = make().start_login().code_verifier
        # 6 bits per base64url character, one character possibly redrawn (still ~5.95 bits).
        assert (len(verifier) - 1) * 6 >= 256
        assert max(sizes) * 8 >= 256


# ---------------------------------------------------------------------------------------
# Issue 8: keyword-only CognitoConfig
# ---------------------------------------------------------------------------------------

FIELD_NAMES = [
    "user_pool_id",
    "client_id",
    "region",
    "client_secret",
    "domain",
    "redirect_uri",
    "logout_uri",
    "scopes",
    "issuer",
    "jwks_url",
    "timeout",
]


class TestKeywordOnlyConfig:
    @pytest.mark.parametrize(
        "args", [("us-east-1_AbC", "client", "my-app"), ("us-east-1_AbC", "client"), (POOL,)]
    )
    def test_positional_arguments_raise_type_error_saying_keywords_only(self, args):
        with pytest.raises(TypeError, match="keyword arguments only") as excinfo:
            CognitoConfig(*args)  # type: ignore[misc]
        assert "user_pool_id=" in str(excinfo.value)

    def test_positional_argument_beside_keywords_is_refused(self):
        with pytest.raises(TypeError, match="keyword arguments only"):
            CognitoConfig(POOL, client_id=CLIENT_ID)  # type: ignore[misc]

    def test_every_constructor_parameter_is_keyword_only_and_matches_the_fields(self):
        parameters = inspect.signature(CognitoConfig).parameters
        assert list(parameters) == FIELD_NAMES
        assert {p.kind for p in parameters.values()} == {inspect.Parameter.KEYWORD_ONLY}
        for f in dataclasses.fields(CognitoConfig):
            expected = inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default
            assert parameters[f.name].default == expected, f.name

    def test_it_is_still_a_frozen_dataclass_with_the_same_fields(self):
        assert dataclasses.is_dataclass(CognitoConfig)
        assert [f.name for f in dataclasses.fields(CognitoConfig)] == FIELD_NAMES
        with pytest.raises(dataclasses.FrozenInstanceError):
            make().region = "eu-west-1"  # type: ignore[misc]

    def test_replace_builds_a_validated_copy(self):
        config = make(client_secret=SECRET)
        other = dataclasses.replace(config, client_id="other")
        assert (other.client_id, other.client_secret, other.domain) == (
            "other",
            SECRET,
            PREFIX_BASE,
        )
        with pytest.raises(ConfigError, match="redirect_uri"):
            dataclasses.replace(config, redirect_uri="http://app.example.com/cb")

    def test_equal_configs_are_equal_and_hash_alike_and_different_ones_are_not(self):
        assert make() == make()
        assert hash(make()) == hash(make())
        assert make() != make(client_id="other")

    @pytest.mark.parametrize(
        "clone", [copy.copy, copy.deepcopy, lambda c: pickle.loads(pickle.dumps(c))]
    )
    def test_copies_and_pickles_are_equal(self, clone):
        config = make(client_secret=SECRET, issuer=[ORIGINAL_ISSUER, UPDATED_ISSUER])
        assert clone(config) == config

    def test_repr_still_hides_the_secret(self):
        assert SECRET not in repr(make(client_secret=SECRET))


# ---------------------------------------------------------------------------------------
# Issue 8: a domain with a path
# ---------------------------------------------------------------------------------------


class TestDomainIsTheBaseOnly:
    @pytest.mark.parametrize(
        "domain",
        [
            "https://x.auth.us-east-1.amazoncognito.com/oauth2/authorize",
            "https://auth.example.com/oauth2",
            "https://auth.example.com//",
            "http://127.0.0.1:9999/cognito",
            "x.auth.us-east-1.amazoncognito.com/oauth2",
            "auth.example.com/oauth2/",
            "auth.example.com//",
            "localhost:8080/x",
            "my-app/oauth2",
        ],
    )
    def test_url_or_host_with_a_path_is_refused_saying_to_give_the_base_only(self, domain):
        with pytest.raises(ConfigError) as excinfo:
            make(domain=domain)
        message = str(excinfo.value)
        assert message.startswith(f"domain {domain!r} has a path")
        assert "give only the base URL or host" in message

    @pytest.mark.parametrize(
        ("domain", "base"),
        [
            ("auth.example.com/", "https://auth.example.com"),
            ("https://auth.example.com/", "https://auth.example.com"),
            ("http://127.0.0.1:9999/", "http://127.0.0.1:9999"),
        ],
    )
    def test_a_single_trailing_slash_is_fine(self, domain, base):
        assert make(domain=domain).domain == base
        assert make(domain=domain).token_url == base + "/oauth2/token"


# ---------------------------------------------------------------------------------------
# Issue 8: region and pool id agree
# ---------------------------------------------------------------------------------------


class TestRegionAgreesWithThePool:
    def test_cognito_region_contradicting_the_pool_names_the_variable_and_both_regions(
        self, monkeypatch
    ):
        set_env(
            monkeypatch,
            COGNITO_USER_POOL_ID=POOL,
            COGNITO_CLIENT_ID=CLIENT_ID,
            COGNITO_REGION="eu-west-1",
            COGNITO_DOMAIN="my-app",
        )
        with pytest.raises(ConfigError) as excinfo:
            CognitoConfig.from_env()
        message = str(excinfo.value)
        assert message.startswith("COGNITO_REGION: region 'eu-west-1' contradicts")
        assert "'us-east-1'" in message

    def test_region_in_from_dict_contradicting_the_pool_is_refused(self):
        with pytest.raises(ConfigError, match=r"^region 'eu-west-1' contradicts"):
            CognitoConfig.from_dict({**SEED, "region": "eu-west-1"})

    def test_domain_and_issuer_are_built_in_the_same_region(self):
        config = make(region=REGION)
        assert f".auth.{REGION}." in config.base_url
        assert f"cognito-idp.{REGION}." in config.issuers[0]


# ---------------------------------------------------------------------------------------
# Issue 8: comma-separated scopes
# ---------------------------------------------------------------------------------------


class TestScopesAreSpaceSeparated:
    @pytest.mark.parametrize(
        "scopes", ["openid,email", "openid, email", ["openid,email"], ("openid", "email,profile")]
    )
    def test_comma_in_a_scope_raises_config_error_saying_scopes_are_space_separated(self, scopes):
        with pytest.raises(ConfigError, match="comma: scopes are space-separated"):
            make(scopes=scopes)

    def test_comma_separated_cognito_scopes_names_the_variable(self, monkeypatch):
        set_env(
            monkeypatch,
            COGNITO_USER_POOL_ID=POOL,
            COGNITO_CLIENT_ID=CLIENT_ID,
            COGNITO_SCOPES="openid,email",
        )
        with pytest.raises(ConfigError, match=r"^COGNITO_SCOPES: .*space-separated"):
            CognitoConfig.from_env()

    @pytest.mark.parametrize("scopes", ["openid,email", ["openid", "a,b"]])
    def test_scope_tuple_refuses_a_comma_with_value_error(self, scopes):
        with pytest.raises(ValueError, match="space-separated"):
            scope_tuple(scopes)

    def test_call_time_comma_scopes_are_refused_by_login_url(self):
        with pytest.raises(ValueError, match="space-separated"):
            make().login_url(scopes="openid,email")

    @pytest.mark.parametrize("scope", ['em"ail', "e\\mail", "\u00e9mail", "a\x00b"])
    def test_characters_no_scope_name_may_hold_are_refused(self, scope):
        with pytest.raises(ConfigError, match="scope"):
            make(scopes=["openid", scope])
        with pytest.raises(ValueError, match="scope"):
            scope_tuple(["openid", scope])

    @pytest.mark.parametrize(
        "scope",
        [
            "aws.cognito.signin.user.admin",
            "phone",
            "https://api.example.com/read",
            "my-api/orders.write",
            "rs_1/scope-name:x+y!~",
        ],
    )
    def test_cognito_and_custom_scopes_are_accepted(self, scope):
        assert make(scopes=["openid", scope]).scopes == ("openid", scope)
        assert scope_tuple(f"openid {scope}") == ("openid", scope)


# ---------------------------------------------------------------------------------------
# Issue 8: a value of the wrong type names the field, the type found and the type wanted
# ---------------------------------------------------------------------------------------

WRONG_TYPES = [
    ("user_pool_id", 123, "a string", "int"),
    ("user_pool_id", b"us-east-1_AbC123", "a string", "bytes"),
    ("client_id", 123, "a string", "int"),
    ("client_id", ["client"], "a string", "list"),
    ("region", 123, "a string", "int"),
    ("client_secret", 123, "a string", "int"),
    ("domain", 123, "a string", "int"),
    ("redirect_uri", 123, "a string", "int"),
    ("logout_uri", 123, "a string", "int"),
    ("scopes", 123, "a list of strings", "int"),
    ("scopes", {"openid": True}, "a list of strings", "dict"),
    ("scopes", b"openid", "a list of strings", "bytes"),
    ("scopes", ["openid", 3], "a list of strings", "int"),
    ("issuer", 123, "a list of strings", "int"),
    ("issuer", [ORIGINAL_ISSUER, 42], "a list of strings", "int"),
    ("jwks_url", 123, "a string", "int"),
    ("timeout", "10", "a number", "str"),
    ("timeout", None, "a number", "None"),
    ("timeout", True, "a number", "bool"),
]


class TestWrongTypes:
    @pytest.mark.parametrize(("field_name", "value", "wanted", "found"), WRONG_TYPES)
    def test_wrong_type_names_the_field_the_type_found_and_the_type_wanted(
        self, field_name, value, wanted, found
    ):
        with pytest.raises(ConfigError) as excinfo:
            make(**{field_name: value})
        message = str(excinfo.value)
        assert message.startswith(f"{field_name} must be ")
        assert wanted in message
        assert re.search(rf"\b(got|found) {found}\b", message), message

    @pytest.mark.parametrize(("field_name", "value", "wanted", "found"), WRONG_TYPES)
    def test_from_dict_gives_the_same_message(self, field_name, value, wanted, found):
        with pytest.raises(ConfigError) as excinfo:
            CognitoConfig.from_dict({**SEED, field_name: value})
        assert str(excinfo.value).startswith(f"{field_name} must be ")
        assert re.search(rf"\b(got|found) {found}\b", str(excinfo.value))

    @pytest.mark.parametrize("required", ["user_pool_id", "client_id"])
    @pytest.mark.parametrize("value", [0, False, []])
    def test_falsy_value_of_the_wrong_type_is_not_called_missing(self, required, value):
        with pytest.raises(ConfigError, match=f"^{required} must be a string, got "):
            CognitoConfig.from_dict({**SEED, required: value})


# ---------------------------------------------------------------------------------------
# Issue 8: another pool's issuer or JWKS URL says so first
# ---------------------------------------------------------------------------------------

OTHER_POOL = "us-east-1_Other1"
OTHER_ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{OTHER_POOL}"


class TestAnotherPoolsUrls:
    @pytest.mark.parametrize(
        ("field_name", "url"),
        [
            ("issuer", OTHER_ISSUER),
            ("issuer", f"https://issuer-cognito-idp.{REGION}.amazonaws.com/{OTHER_POOL}"),
            ("jwks_url", OTHER_ISSUER + "/.well-known/jwks.json"),
        ],
    )
    def test_message_first_says_the_url_names_another_pool_and_to_correct_it(self, field_name, url):
        with pytest.raises(ConfigError) as excinfo:
            make(**{field_name: url})
        message = str(excinfo.value)
        assert message.startswith(
            f"{field_name} {url!r} names user pool {OTHER_POOL!r}, but user_pool_id is {POOL!r}"
        )
        assert f"correct {field_name}" in message
        # dataclasses.replace is only a secondary possibility, after the plain fix.
        assert message.index(f"correct {field_name}") < message.index("dataclasses.replace")

    def test_wrong_cognito_issuer_names_the_variable_first(self, monkeypatch):
        set_env(
            monkeypatch,
            COGNITO_USER_POOL_ID=POOL,
            COGNITO_CLIENT_ID=CLIENT_ID,
            COGNITO_ISSUER=OTHER_ISSUER,
        )
        with pytest.raises(ConfigError) as excinfo:
            CognitoConfig.from_env()
        assert str(excinfo.value).startswith(f"COGNITO_ISSUER: issuer {OTHER_ISSUER!r} names")
