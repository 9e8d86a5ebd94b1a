"""``CognitoConfig.from_env``: a config from the ``COGNITO_*`` variables
(``cognito_helper.settings.env``). Unknown variables: test_env_warnings.py.
"""

from __future__ import annotations

import pytest

from cognito_helper import CognitoConfig, ConfigError

from .config_values import (
    CLIENT_ID,
    DEFAULT_JWKS,
    LOGOUT,
    ORIGINAL_ISSUER,
    POOL,
    REDIRECT,
    REGION,
    SECRET,
    UPDATED_ISSUER,
    set_env,
)


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
