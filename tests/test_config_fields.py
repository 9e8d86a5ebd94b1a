"""What CognitoConfig accepts, field by field (``cognito_helper.settings.fields`` and the URL
rules of ``settings.urls``), and the ConfigError that names the field it refuses.

Everything here is offline: the config only validates values.
"""

from __future__ import annotations

import re

import pytest

from cognito_helper import CognitoConfig, ConfigError
from cognito_helper.settings.fields import scope_tuple

from .config_values import (
    CLIENT_ID,
    DEFAULT_JWKS,
    ORIGINAL_ISSUER,
    POOL,
    PREFIX_BASE,
    REGION,
    SEED,
    UPDATED_ISSUER,
    make,
    set_env,
)

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


# -- user pool id, client id, region -----------------------------------------------------------


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


# -- redirect_uri and logout_uri ---------------------------------------------------------------


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


# -- the hosted-UI domain ----------------------------------------------------------------------


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


# -- issuer and JWKS URL -----------------------------------------------------------------------


class TestIssuerAndJwks:
    def test_default_issuer_is_the_original_form_and_both_forms_are_trusted(self):
        # Issue 23: a config given no issuer= trusts the UPDATED form too.
        config = make()
        assert config.issuer == ORIGINAL_ISSUER
        assert config.issuers == (ORIGINAL_ISSUER, UPDATED_ISSUER)

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


# -- scopes ------------------------------------------------------------------------------------


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


# -- timeout -----------------------------------------------------------------------------------


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


# -- values no field accepts: script schemes, empty labels, blank values -----------------------


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


# -- a value of the wrong type names the field, the type found and the type wanted -------------


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
