"""One policy for bad arguments (the README's "Errors" section).

``ConfigError`` for the configuration, when it is built (or when a call needs a setting the
config lacks); ``ValueError`` for an invalid value given to a call; ``TypeError`` for a value
of the wrong type. Every refusal here comes before any request. For the code written before
the policy, a call's TypeError is also a ValueError, and a URL given to a call in place of a
setting that breaks the setting's rule is also a ConfigError.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

from cognito_helper import (
    CognitoConfig,
    ConfigError,
    TokenVerificationError,
    get_client_credentials_token,
    get_cognito_tokens,
    get_config,
    get_user_info,
    pkce_challenge,
    revoke_token,
)

from .servers import ScriptedServer, config_for, respond
from .tokens import CLIENT, POOL

SECRET = "s3cr3t-client-secret-value"
CODE = "0b8c6f4e-code-value-1234"
REFRESH = "a-refresh-token"
NOT_REGISTRABLE = "http://app.example.com/cb"  # plain http, not on loopback


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as srv:
        srv.routes["/oauth2/userInfo"] = respond(200, {"sub": "s"})
        yield srv


def refused(server: ScriptedServer, call: Callable[[], object], kind: type) -> BaseException:
    """The error ``call`` raises, which must be a ``kind``; nothing reached the server."""
    with pytest.raises(kind) as info:
        call()
    assert server.requests == []
    return info.value


# -- get_user_info: one error for every kind of bad token ---------------------------------


@pytest.mark.parametrize("token", ["", "abc def", "tok\u00e9n", "abc\r\nX-Injected: 1"])
def test_user_info_refuses_an_invalid_access_token_with_value_error_alone(
    server: ScriptedServer, token: str
) -> None:
    error = refused(server, lambda: get_user_info(token, config=config_for(server)), ValueError)
    assert "access_token" in str(error)
    assert not isinstance(error, (TokenVerificationError, TypeError))
    assert token not in str(error) or token == ""


@pytest.mark.parametrize("token", [None, 5, b"acc.tok.en"])
def test_user_info_refuses_a_token_that_is_no_string_with_type_error(
    server: ScriptedServer, token: Any
) -> None:
    error = refused(server, lambda: get_user_info(token, config=config_for(server)), TypeError)
    assert "access_token" in str(error)


# -- the token endpoint calls -------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"code": 5},
        {"code": b"0b8c6f4e"},
        {"refresh_token": 5},
        {"code": CODE, "code_verifier": 5},
        {"code": CODE, "redirect_uri": 5},
    ],
)
def test_token_exchange_refuses_a_wrong_type_with_type_error(
    server: ScriptedServer, kwargs: dict[str, Any]
) -> None:
    refused(server, lambda: get_cognito_tokens(config=config_for(server), **kwargs), TypeError)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"code": ""},
        {"code": CODE, "refresh_token": REFRESH},
        {"code": CODE, "code_verifier": "short"},
        {"code": CODE, "redirect_uri": NOT_REGISTRABLE},
        {"refresh_token": "a b"},
    ],
)
def test_token_exchange_refuses_an_invalid_value_with_value_error(
    server: ScriptedServer, kwargs: dict[str, Any]
) -> None:
    error = refused(
        server, lambda: get_cognito_tokens(config=config_for(server), **kwargs), ValueError
    )
    assert not isinstance(error, TypeError)


@pytest.mark.parametrize("token", [None, 5])
def test_revoke_refuses_a_wrong_type_with_type_error(server: ScriptedServer, token: Any) -> None:
    refused(server, lambda: revoke_token(token, config=config_for(server)), TypeError)


@pytest.mark.parametrize(
    "kwargs", [{"scopes": 5}, {"scopes": 0}, {"scopes": [1]}, {"resource": 42}]
)
def test_client_credentials_refuse_a_wrong_type_with_type_error(
    server: ScriptedServer, kwargs: dict[str, Any]
) -> None:
    config = config_for(server, SECRET)
    refused(server, lambda: get_client_credentials_token(config=config, **kwargs), TypeError)


@pytest.mark.parametrize("kwargs", [{"scopes": "openid,email"}, {"resource": "orders"}])
def test_client_credentials_refuse_an_invalid_value_with_value_error(
    server: ScriptedServer, kwargs: dict[str, Any]
) -> None:
    config = config_for(server, SECRET)
    error = refused(
        server, lambda: get_client_credentials_token(config=config, **kwargs), ValueError
    )
    assert not isinstance(error, TypeError)


# -- the hosted-UI URLs -------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"state": 5},
        {"nonce": b"n"},
        {"login_hint": 5},
        {"code_challenge": 5},
        {"scopes": 5},
        {"resource": 42},
        {"redirect_uri": 5},
    ],
)
def test_login_url_refuses_a_wrong_type_with_type_error(
    server: ScriptedServer, kwargs: dict[str, Any]
) -> None:
    refused(server, lambda: config_for(server).login_url(**kwargs), TypeError)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"state": ""},
        {"code_challenge": "short"},
        {"scopes": "openid,email"},
        {"resource": "orders"},
        {"redirect_uri": NOT_REGISTRABLE},
    ],
)
def test_login_url_refuses_an_invalid_value_with_value_error(
    server: ScriptedServer, kwargs: dict[str, Any]
) -> None:
    error = refused(server, lambda: config_for(server).login_url(**kwargs), ValueError)
    assert not isinstance(error, TypeError)


@pytest.mark.parametrize(
    ("args", "kwargs", "kind"),
    [
        (("http://app.example.com/bye",), {}, ValueError),
        ((), {"login_redirect_uri": NOT_REGISTRABLE}, ValueError),
        ((), {"state": ""}, ValueError),
        ((5,), {}, TypeError),
        ((), {"login_redirect_uri": 5}, TypeError),
        ((), {"state": 5}, TypeError),
    ],
)
def test_logout_url_follows_the_policy(
    server: ScriptedServer, args: tuple[Any, ...], kwargs: dict[str, Any], kind: type
) -> None:
    refused(server, lambda: config_for(server).logout_url(*args, **kwargs), kind)


def test_pkce_challenge_refuses_a_wrong_type_with_type_error() -> None:
    with pytest.raises(TypeError, match="code_verifier"):
        pkce_challenge(5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="code_verifier"):
        pkce_challenge("v\u00e9rifier" * 6)


# -- configuration stays ConfigError -------------------------------------------------------


def test_a_config_argument_that_is_no_config_is_a_config_error(server: ScriptedServer) -> None:
    settings = {"user_pool_id": POOL, "client_id": CLIENT}
    with pytest.raises(ConfigError, match="CognitoConfig"):
        get_config(settings)  # type: ignore[arg-type]
    refused(server, lambda: get_user_info("acc.tok.en", config=settings), ConfigError)  # type: ignore[arg-type]


@pytest.mark.parametrize("settings", [{"timeout": "10"}, {"redirect_uri": NOT_REGISTRABLE}])
def test_a_config_is_refused_with_config_error_when_it_is_built(settings: dict[str, Any]) -> None:
    with pytest.raises(ConfigError) as info:
        CognitoConfig(user_pool_id=POOL, client_id=CLIENT, **settings)
    assert not isinstance(info.value, (TypeError, ValueError))


def test_a_setting_the_call_needs_but_the_config_lacks_is_a_config_error() -> None:
    config = CognitoConfig(user_pool_id=POOL, client_id=CLIENT, domain="my-app")
    with pytest.raises(ConfigError, match="redirect_uri"):
        config.login_url()
    with pytest.raises(ConfigError, match="client_secret"):
        get_client_credentials_token(config=config)


# -- what code written before the policy caught still catches ------------------------------


def test_a_type_error_of_a_call_is_also_a_value_error(server: ScriptedServer) -> None:
    error = refused(server, lambda: get_user_info(5, config=config_for(server)), TypeError)  # type: ignore[arg-type]
    assert isinstance(error, ValueError)


def test_a_url_given_in_place_of_a_setting_is_also_a_config_error(server: ScriptedServer) -> None:
    error = refused(
        server, lambda: config_for(server).login_url(redirect_uri=NOT_REGISTRABLE), ValueError
    )
    assert isinstance(error, ConfigError)
    assert str(error).startswith("redirect_uri")
