"""get_cognito_tokens, revoke_token, get_user_info against scripted loopback endpoints."""

from __future__ import annotations

import base64
import dataclasses
import time
from typing import Any, Dict, Iterator
from urllib.parse import parse_qs

import pytest

from cognito_helper import (
    CognitoConfig,
    CognitoConnectionError,
    ConfigError,
    InvalidGrantError,
    TokenExchangeError,
    Tokens,
    configure,
    get_client_credentials_token,
    get_cognito_tokens,
    get_user_info,
    revoke_token,
)

from .servers import ScriptedServer, config_for, drip, reset_mid_body, respond, silent
from .tokens import CLIENT, POOL

SECRET = "s3cr3t-client-secret-value"
CODE = "0b8c6f4e-code-value-1234"
REFRESH = "eyJjdHkiOiJKV1QifQ.refresh-a.refresh-b.refresh-c.refresh-d"
VERIFIER = "v" * 50
GOOD = {
    "id_token": "id.tok.en",
    "access_token": "acc.tok.en",
    "refresh_token": "new-refresh",
    "expires_in": 3600,
    "token_type": "Bearer",
}


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as srv:
        yield srv


def form_of(server: ScriptedServer) -> Dict[str, str]:
    body = server.requests[-1][3].decode()
    return {k: v[0] for k, v in parse_qs(body).items()}


# -- requests sent ------------------------------------------------------------------------


def test_code_exchange_posts_the_form_cognito_expects(server: ScriptedServer) -> None:
    server.routes["/oauth2/token"] = respond(200, GOOD)
    get_cognito_tokens(CODE, config=config_for(server), code_verifier=VERIFIER)
    method, path, headers, _ = server.requests[-1]
    assert (method, path) == ("POST", "/oauth2/token")
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form_of(server) == {
        "grant_type": "authorization_code",
        "code": CODE,
        "redirect_uri": "https://app.example.com/cb",
        "code_verifier": VERIFIER,
        "client_id": CLIENT,
    }
    assert "Authorization" not in headers


def test_confidential_client_uses_basic_auth_only(server: ScriptedServer) -> None:
    server.routes["/oauth2/token"] = respond(200, GOOD)
    get_cognito_tokens(CODE, config=config_for(server, SECRET))
    headers = server.requests[-1][2]
    expected = base64.b64encode(f"{CLIENT}:{SECRET}".encode()).decode()
    assert headers["Authorization"] == f"Basic {expected}"
    form = form_of(server)
    assert "client_secret" not in form and "client_id" not in form


def test_redirect_uri_override_is_sent(server: ScriptedServer) -> None:
    server.routes["/oauth2/token"] = respond(200, GOOD)
    get_cognito_tokens(CODE, config=config_for(server), redirect_uri="http://localhost:3000/cb")
    assert form_of(server)["redirect_uri"] == "http://localhost:3000/cb"


def test_refresh_posts_only_the_refresh_token(server: ScriptedServer) -> None:
    server.routes["/oauth2/token"] = respond(
        200, {k: v for k, v in GOOD.items() if k != "refresh_token"}
    )
    get_cognito_tokens(refresh_token=REFRESH, config=config_for(server))
    assert form_of(server) == {
        "grant_type": "refresh_token",
        "refresh_token": REFRESH,
        "client_id": CLIENT,
    }


def test_sequential_grants_reuse_one_connection(server: ScriptedServer) -> None:
    server.routes["/oauth2/token"] = respond(200, GOOD)
    config = config_for(server)
    for _ in range(5):
        get_cognito_tokens(refresh_token=REFRESH, config=config)
    assert server.count("/oauth2/token") == 5
    assert server.connections == 1


# -- responses mapped -----------------------------------------------------------------------


def test_tokens_unpack_to_id_access_refresh(server: ScriptedServer) -> None:
    server.routes["/oauth2/token"] = respond(200, GOOD)
    tokens = get_cognito_tokens(CODE, config=config_for(server))
    id_token, access_token, refresh_token = tokens
    assert (id_token, access_token, refresh_token) == ("id.tok.en", "acc.tok.en", "new-refresh")
    assert (tokens.expires_in, tokens.token_type) == (3600, "Bearer")


def test_refresh_without_rotation_keeps_the_refresh_token(server: ScriptedServer) -> None:
    server.routes["/oauth2/token"] = respond(
        200, {k: v for k, v in GOOD.items() if k != "refresh_token"}
    )
    tokens = get_cognito_tokens(refresh_token=REFRESH, config=config_for(server))
    assert tokens.refresh_token == REFRESH


def test_refresh_with_rotation_carries_the_new_refresh_token(server: ScriptedServer) -> None:
    server.routes["/oauth2/token"] = respond(200, GOOD)
    tokens = get_cognito_tokens(refresh_token=REFRESH, config=config_for(server))
    assert tokens.refresh_token == "new-refresh"


def test_tokens_repr_shows_no_token(server: ScriptedServer) -> None:
    tokens = Tokens("id.tok.en", "acc.tok.en", REFRESH, 3600)
    assert "tok.en" not in repr(tokens) and REFRESH not in repr(tokens)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        ("invalid_grant", InvalidGrantError),
        ("invalid_request", TokenExchangeError),
        ("invalid_client", TokenExchangeError),
        ("unauthorized_client", TokenExchangeError),
        ("unsupported_grant_type", TokenExchangeError),
        ("invalid_scope", TokenExchangeError),
    ],
)
def test_cognito_error_codes_map_to_exceptions(
    server: ScriptedServer, error: str, kind: type
) -> None:
    server.routes["/oauth2/token"] = respond(400, {"error": error, "error_description": "why"})
    with pytest.raises(kind) as info:
        get_cognito_tokens(CODE, config=config_for(server))
    assert type(info.value) is kind
    assert (info.value.error, info.value.description, info.value.status_code) == (error, "why", 400)
    assert error in str(info.value)


def test_invalid_grant_is_a_token_exchange_error(server: ScriptedServer) -> None:
    server.routes["/oauth2/token"] = respond(400, {"error": "invalid_grant"})
    with pytest.raises(TokenExchangeError):
        get_cognito_tokens(refresh_token=REFRESH, config=config_for(server))


def test_400_without_json_is_a_token_exchange_error(server: ScriptedServer) -> None:
    server.routes["/oauth2/token"] = respond(400, b"<html>bad</html>", "text/html")
    with pytest.raises(TokenExchangeError) as info:
        get_cognito_tokens(CODE, config=config_for(server))
    assert info.value.error is None and info.value.status_code == 400


def test_error_description_echoing_a_secret_is_scrubbed(server: ScriptedServer) -> None:
    server.routes["/oauth2/token"] = respond(
        400, {"error": "invalid_grant", "error_description": f"code {CODE} secret {SECRET}"}
    )
    with pytest.raises(InvalidGrantError) as info:
        get_cognito_tokens(CODE, config=config_for(server, SECRET))
    assert CODE not in str(info.value) and SECRET not in str(info.value)
    assert CODE not in (info.value.description or "")


@pytest.mark.parametrize(
    "body",
    [
        b"<html>ok</html>",
        b"[]",
        b'{"access_token": 5, "expires_in": 3600, "token_type": "B"}',
        b'{"id_token": "x", "token_type": "Bearer"}',
        b'{"access_token": "a", "expires_in": "3600", "token_type": "Bearer"}',
        b"",
    ],
)
def test_200_that_is_not_a_token_response_is_a_token_exchange_error(
    server: ScriptedServer, body: bytes
) -> None:
    server.routes["/oauth2/token"] = respond(200, body)
    with pytest.raises(TokenExchangeError):
        get_cognito_tokens(CODE, config=config_for(server))


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_a_connection_error(server: ScriptedServer, status: int) -> None:
    server.routes["/oauth2/token"] = respond(status, {"message": "down"})
    with pytest.raises(CognitoConnectionError, match=str(status)):
        get_cognito_tokens(CODE, config=config_for(server))


def test_redirect_is_not_followed(server: ScriptedServer) -> None:
    server.routes["/oauth2/token"] = respond(307, b"", headers={"Location": "/elsewhere"})
    server.routes["/elsewhere"] = respond(200, GOOD)
    with pytest.raises(CognitoConnectionError, match="redirect"):
        get_cognito_tokens(CODE, config=config_for(server, SECRET))
    assert server.count("/elsewhere") == 0


@pytest.mark.slow  # waits out a timeout
@pytest.mark.parametrize(
    "behaviour", [silent(5), drip(2000, 0.05), reset_mid_body()], ids=["silent", "drip", "reset"]
)
def test_network_faults_are_connection_errors_within_the_timeout(
    server: ScriptedServer, behaviour: Any
) -> None:
    server.routes["/oauth2/token"] = behaviour
    started = time.monotonic()
    with pytest.raises(CognitoConnectionError):
        get_cognito_tokens(CODE, config=config_for(server))
    assert time.monotonic() - started < 1.5 + 1.5


def test_failed_post_is_not_retried(server: ScriptedServer) -> None:
    server.routes["/oauth2/token"] = reset_mid_body()
    with pytest.raises(CognitoConnectionError):
        get_cognito_tokens(CODE, config=config_for(server))
    assert server.count("/oauth2/token") == 1


def test_refused_connection_is_a_connection_error() -> None:
    config = CognitoConfig(
        user_pool_id=POOL,
        client_id=CLIENT,
        domain="http://127.0.0.1:9",
        redirect_uri="https://app.example.com/cb",
    )
    with pytest.raises(CognitoConnectionError, match="could not reach"):
        get_cognito_tokens(CODE, config=config)


# -- arguments ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"code": CODE, "refresh_token": REFRESH},
        {"code": ""},
        {"code": 5},
        {"code": CODE, "code_verifier": "short"},
        {"refresh_token": REFRESH, "code_verifier": VERIFIER},
    ],
)
def test_invalid_arguments_raise_value_error(
    server: ScriptedServer, kwargs: Dict[str, Any]
) -> None:
    with pytest.raises(ValueError):
        get_cognito_tokens(config=config_for(server), **kwargs)
    assert server.requests == []


def test_code_exchange_without_redirect_uri_is_a_config_error(server: ScriptedServer) -> None:
    config = CognitoConfig(user_pool_id=POOL, client_id=CLIENT, domain=server.url)
    with pytest.raises(ConfigError, match="redirect_uri"):
        get_cognito_tokens(CODE, config=config)


def test_no_domain_is_a_config_error() -> None:
    configure(CognitoConfig(user_pool_id=POOL, client_id=CLIENT))
    with pytest.raises(ConfigError, match="domain"):
        get_cognito_tokens(refresh_token=REFRESH)


# -- revoke, userInfo, client credentials -------------------------------------------------------


def test_revoke_posts_the_token_and_returns_none(server: ScriptedServer) -> None:
    server.routes["/oauth2/revoke"] = respond(200, b"")
    assert revoke_token(REFRESH, config=config_for(server, SECRET)) is None
    assert form_of(server) == {"token": REFRESH}
    assert server.requests[-1][2]["Authorization"].startswith("Basic ")


def test_revoke_rejected_client_is_a_token_exchange_error(server: ScriptedServer) -> None:
    server.routes["/oauth2/revoke"] = respond(401, {"error": "invalid_client"})
    with pytest.raises(TokenExchangeError) as info:
        revoke_token(REFRESH, config=config_for(server, SECRET))
    assert (info.value.error, info.value.status_code) == ("invalid_client", 401)


def test_user_info_sends_bearer_and_returns_attributes(server: ScriptedServer) -> None:
    server.routes["/oauth2/userInfo"] = respond(200, {"sub": "u-1", "email": "a@b.c"})
    assert get_user_info("acc.tok.en", config=config_for(server)) == {
        "sub": "u-1",
        "email": "a@b.c",
    }
    assert server.requests[-1][2]["Authorization"] == "Bearer acc.tok.en"


def test_user_info_invalid_token_reads_www_authenticate(server: ScriptedServer) -> None:
    server.routes["/oauth2/userInfo"] = respond(
        401,
        b"",
        headers={
            "WWW-Authenticate": 'Bearer error="invalid_token", '
            'error_description="Access token has expired"'
        },
    )
    with pytest.raises(TokenExchangeError) as info:
        get_user_info("acc.tok.en", config=config_for(server))
    assert (info.value.error, info.value.status_code) == ("invalid_token", 401)


def test_client_credentials_needs_a_secret(server: ScriptedServer) -> None:
    with pytest.raises(ConfigError, match="client_secret"):
        get_client_credentials_token(config=config_for(server))


def test_client_credentials_returns_only_an_access_token(server: ScriptedServer) -> None:
    server.routes["/oauth2/token"] = respond(
        200, {"access_token": "acc.tok.en", "expires_in": 3600, "token_type": "Bearer"}
    )
    tokens = get_client_credentials_token(["orders/read"], config=config_for(server, SECRET))
    assert tuple(tokens) == (None, "acc.tok.en", None)
    assert form_of(server) == {"grant_type": "client_credentials", "scope": "orders/read"}


def test_throttling_is_a_connection_error_not_a_refusal(server: ScriptedServer) -> None:
    server.routes["/oauth2/token"] = respond(429, {"message": "Rate exceeded"})
    with pytest.raises(CognitoConnectionError, match="429"):
        get_cognito_tokens(CODE, config=config_for(server))


@pytest.mark.slow  # waits out a timeout
def test_chunk_size_line_dripped_byte_by_byte_is_cut_at_the_deadline(
    server: ScriptedServer,
) -> None:
    def chunk_line_drip(h: Any) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        try:
            for _ in range(200):  # a chunk-size line of leading zeros, one byte at a time
                h.wfile.write(b"0")
                h.wfile.flush()
                time.sleep(0.05)
        except OSError:
            pass
        h.close_connection = True

    server.routes["/oauth2/token"] = chunk_line_drip
    started = time.monotonic()
    with pytest.raises(CognitoConnectionError, match="within"):
        get_cognito_tokens(CODE, config=config_for(server))
    assert time.monotonic() - started < 1.5 + 1.0


def test_netrc_credentials_are_never_sent(
    server: ScriptedServer, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login netrc-user password netrc-pass\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("HOME", str(tmp_path))
    server.routes["/oauth2/token"] = respond(200, GOOD)
    get_cognito_tokens(CODE, config=config_for(server))
    get_cognito_tokens(CODE, config=config_for(server, SECRET))
    public, confidential = server.requests[-2][2], server.requests[-1][2]
    assert "Authorization" not in public
    expected = base64.b64encode(f"{CLIENT}:{SECRET}".encode()).decode()
    assert confidential["Authorization"] == f"Basic {expected}"


@pytest.mark.parametrize("scopes", [5, [1], ["two words"]])
def test_invalid_client_credentials_scopes_raise_value_error(
    server: ScriptedServer, scopes: Any
) -> None:
    with pytest.raises(ValueError, match="scope"):
        get_client_credentials_token(scopes, config=config_for(server, SECRET))
    assert server.requests == []


# -- text that cannot be a credential is refused before any request -----------------------

ACCESS = "eyJraWQiOiJrIiwiYWxnIjoiUlMyNTYifQ.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    "token", ["abc\r\nX-Injected: 1", "abc def", "tok\u00e9n", "\ud800", "tab\there", "nul\x00"]
)
def test_user_info_refuses_an_access_token_that_is_not_printable_ascii(
    server: ScriptedServer, token: str
) -> None:
    # A ValueError, as for an empty token (issue 20: one error for every kind of bad token;
    # it was a MalformedTokenError, which is about a token being verified).
    server.routes["/oauth2/userInfo"] = respond(200, {"sub": "x"})
    with pytest.raises(ValueError, match="printable ASCII") as info:
        get_user_info(token, config=config_for(server))
    assert server.requests == []
    assert token not in str(info.value)


@pytest.mark.parametrize("token", ["", None, 5])
def test_user_info_refuses_a_missing_access_token_as_a_value_error(
    server: ScriptedServer, token: Any
) -> None:
    with pytest.raises(ValueError, match="access_token"):
        get_user_info(token, config=config_for(server))
    assert server.requests == []


@pytest.mark.parametrize("token", ["abc\r\nX-Injected: 1", "abc def", "tok\u00e9n", "\ud800", ""])
def test_revoke_refuses_a_token_that_is_not_printable_ascii(
    server: ScriptedServer, token: str
) -> None:
    server.routes["/oauth2/revoke"] = respond(200, b"")
    with pytest.raises(ValueError, match="refresh_token") as info:
        revoke_token(token, config=config_for(server))
    assert server.requests == []
    assert not token or token not in str(info.value)


@pytest.mark.parametrize(
    ("call", "says"),
    [
        (lambda cfg: get_cognito_tokens(code=ACCESS, config=cfg), "not a code"),
        (lambda cfg: get_cognito_tokens(refresh_token=ACCESS, config=cfg), "not a refresh token"),
        (lambda cfg: revoke_token(ACCESS, config=cfg), "not a refresh token"),
    ],
    ids=["code", "refresh", "revoke"],
)
def test_a_jwt_where_a_code_or_refresh_token_belongs_is_named_as_such(
    server: ScriptedServer, call: Any, says: str
) -> None:
    with pytest.raises(ValueError, match="looks like a JWT") as info:
        call(config_for(server))
    assert says in str(info.value)
    assert ACCESS not in str(info.value)
    assert server.requests == []


def test_a_five_segment_refresh_token_is_sent(server: ScriptedServer) -> None:
    server.routes["/oauth2/token"] = respond(200, GOOD)
    get_cognito_tokens(refresh_token=REFRESH, config=config_for(server))
    assert form_of(server)["refresh_token"] == REFRESH


# -- client authentication is a pure function ---------------------------------------------


def test_client_authentication_of_a_confidential_client_is_basic_only(
    server: ScriptedServer,
) -> None:
    from cognito_helper.oauth.endpoints import client_authentication

    config = config_for(server, SECRET)
    auth = client_authentication(config)
    expected = "Basic " + base64.b64encode(f"{CLIENT}:{SECRET}".encode()).decode()
    assert auth.headers == {"Authorization": expected}
    assert auth.form == {}
    assert client_authentication(config) == auth  # the same answer every time


def test_client_authentication_of_a_public_client_is_its_id_in_the_form(
    server: ScriptedServer,
) -> None:
    from cognito_helper.oauth.endpoints import client_authentication

    auth = client_authentication(config_for(server))
    assert auth.headers == {}
    assert auth.form == {"client_id": CLIENT}


# -- Tokens, what a grant returns, is a dataclass -----------------------------------------------


def test_tokens_is_a_dataclass_of_its_five_fields() -> None:
    assert dataclasses.is_dataclass(Tokens)
    assert [f.name for f in dataclasses.fields(Tokens)] == [
        "id_token",
        "access_token",
        "refresh_token",
        "expires_in",
        "token_type",
    ]


def test_tokens_still_unpack_to_the_three_tokens_and_keep_no_dict() -> None:
    tokens = Tokens("id.tok.en", "acc.tok.en", "re.fresh", 3600)
    id_token, access_token, refresh_token = tokens
    assert (id_token, access_token, refresh_token) == ("id.tok.en", "acc.tok.en", "re.fresh")
    assert tokens.token_type == "Bearer"
    assert not hasattr(tokens, "__dict__")
    with pytest.raises(TypeError):
        hash(tokens)
