"""``CognitoConfig.from_dict``: a config from a dict (the seed project's config shape)."""

from __future__ import annotations

import pytest

from cognito_helper import CognitoConfig, ConfigError

from .config_values import (
    CLIENT_ID,
    DEFAULT_JWKS,
    LOGOUT,
    ORIGINAL_ISSUER,
    POOL,
    PREFIX_BASE,
    REDIRECT,
    REGION,
    SECRET,
    SEED,
    UPDATED_ISSUER,
)


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
