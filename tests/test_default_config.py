"""The process default (``cognito_helper.settings.default``): ``configure()`` sets it,
``get_config()`` returns it or one read once from the ``COGNITO_*`` variables.
"""

from __future__ import annotations

import pytest

import cognito_helper
from cognito_helper import CognitoConfig, ConfigError, get_config

from .config_values import CLIENT_ID, POOL, PREFIX_BASE, REDIRECT, SEED, make, set_env


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
