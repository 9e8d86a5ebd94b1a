"""The settings package: one job a module, the same public names.

``settings.config`` is the value object, ``settings.hosted_ui`` the URLs built from it and
``settings.default`` the process default. ``login_url``'s ``state``, ``nonce`` and
``code_challenge`` are keyword-only. The two ``ClientAuthentication`` classes have two names.
"""

from __future__ import annotations

import importlib
import inspect

import pytest

import cognito_helper
import cognito_helper.config as public_config
from cognito_helper import CognitoConfig, pkce_challenge

from .tokens import CLIENT, POOL

PUBLIC_CONFIG_NAMES = [
    "ENV_LISTS",
    "ENV_NAMES",
    "CognitoConfig",
    "LoginRequest",
    "UnknownVariableWarning",
    "configure",
    "get_config",
    "pkce_challenge",
]


def make() -> CognitoConfig:
    return CognitoConfig(
        user_pool_id=POOL,
        client_id=CLIENT,
        domain="my-app",
        redirect_uri="https://app.example.com/cb",
    )


# -- one job a module ---------------------------------------------------------------------


def test_the_hosted_ui_module_builds_the_urls() -> None:
    hosted_ui = importlib.import_module("cognito_helper.settings.hosted_ui")
    assert public_config.LoginRequest is hosted_ui.LoginRequest
    assert CognitoConfig.login_url is hosted_ui.login_url
    assert CognitoConfig.start_login is hosted_ui.start_login
    assert CognitoConfig.logout_url is hosted_ui.logout_url


def test_the_default_module_holds_the_process_default() -> None:
    default = importlib.import_module("cognito_helper.settings.default")
    assert public_config.configure is default.configure is cognito_helper.configure
    assert public_config.get_config is default.get_config is cognito_helper.get_config


@pytest.mark.parametrize(
    "name", ["configure", "get_config", "LoginRequest", "LoginOptions", "ENV_NAMES"]
)
def test_the_config_module_holds_only_the_value_object(name: str) -> None:
    settings_config = importlib.import_module("cognito_helper.settings.config")
    assert not hasattr(settings_config, name)


def test_the_public_config_module_names_what_it_did() -> None:
    assert public_config.__all__ == PUBLIC_CONFIG_NAMES
    for name in PUBLIC_CONFIG_NAMES:
        assert getattr(public_config, name) is not None
    for name in ["CognitoConfig", "LoginRequest", "configure", "get_config", "pkce_challenge"]:
        assert getattr(cognito_helper, name) is getattr(public_config, name), name


# -- login_url's interchangeable strings are keyword-only ---------------------------------


def test_state_nonce_and_code_challenge_are_keyword_only() -> None:
    parameters = inspect.signature(make().login_url).parameters
    for name in ("state", "nonce", "code_challenge"):
        assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY, name
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters.values())


@pytest.mark.parametrize("args", [("st",), ("st", "nc"), ("st", "nc", pkce_challenge("v" * 43))])
def test_login_url_refuses_them_positionally(args: tuple[str, ...]) -> None:
    with pytest.raises(TypeError):
        make().login_url(*args)  # type: ignore[misc]


def test_login_url_takes_them_by_name() -> None:
    url = make().login_url(state="st", nonce="nc", code_challenge=pkce_challenge("v" * 43))
    assert "state=st" in url and "nonce=nc" in url and "code_challenge_method=S256" in url


# -- two classes, two names ---------------------------------------------------------------


def test_what_the_library_sends_and_what_local_cognito_saw_have_two_names() -> None:
    endpoints = importlib.import_module("cognito_helper.oauth.endpoints")
    testing = importlib.import_module("cognito_helper.testing")
    client_auth = importlib.import_module("cognito_helper.testing.client_auth")
    assert endpoints.ClientAuthToSend.__name__ == "ClientAuthToSend"
    assert testing.PresentedClientAuth is client_auth.PresentedClientAuth
    assert "PresentedClientAuth" in testing.__all__
    for module in (endpoints, testing, client_auth):
        assert not hasattr(module, "ClientAuthentication"), module.__name__


def test_client_authentication_returns_what_to_send() -> None:
    endpoints = importlib.import_module("cognito_helper.oauth.endpoints")
    sent = endpoints.client_authentication(make())
    assert isinstance(sent, endpoints.ClientAuthToSend)
    assert (sent.headers, sent.form) == ({}, {"client_id": CLIENT})
