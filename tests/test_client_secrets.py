"""Two client secrets per app client, as Cognito allows for rotation without downtime.

The config takes up to two (``client_secret=[first, second]``, or ``COGNITO_CLIENT_SECRET``
with a comma between them); the first is used. On ``invalid_client`` a grant or a revocation
is sent once more with the other secret, and the one that worked is used from then on, by
every config of that app client with those secrets, with one warning that the first is stale.
LocalCognito mirrors ``AddUserPoolClientSecret`` and ``DeleteUserPoolClientSecret``. Every
request goes over real loopback HTTP to LocalCognito.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import List

import pytest

from cognito_helper import (
    ANY_APP_CLIENT,
    ClientCredentials,
    CognitoConfig,
    ConfigError,
    InvalidGrantError,
    TokenExchangeError,
    get_client_credentials_token,
    get_cognito_tokens,
    revoke_token,
)
from cognito_helper.testing import LocalCognito, reset

from .config_values import make
from .helpers import MakeLocalCognito, run_in_threads, sign_in
from .snippets import snippets_for

FIRST = "firstsecret0123456789abcdefghijklmnop"
SECOND = "secondsecret0123456789abcdefghijklmno"
STALE = "stalesecret0123456789abcdefghijklmnopq"
READ = "localapi/read"


# -- the setting --------------------------------------------------------------------------------


class TestTheSetting:
    def test_two_secrets_are_kept_in_order_as_a_tuple(self) -> None:
        config = make(client_secret=[FIRST, SECOND])
        assert config.client_secret == (FIRST, SECOND)
        assert config.client_secrets == (FIRST, SECOND)

    def test_one_secret_in_a_list_is_that_secret(self) -> None:
        assert make(client_secret=[FIRST]).client_secret == FIRST
        assert make(client_secret=(f"  {FIRST} ",)).client_secret == FIRST

    def test_one_secret_is_a_string_as_before(self) -> None:
        config = make(client_secret=FIRST)
        assert (config.client_secret, config.client_secrets) == (FIRST, (FIRST,))

    def test_no_secret_is_none(self) -> None:
        for none in (None, "", [], ()):
            config = make(client_secret=none)
            assert (config.client_secret, config.client_secrets) == (None, ())

    def test_the_repr_hides_both(self) -> None:
        config = make(client_secret=[FIRST, SECOND])
        for text in (repr(config), str(config)):
            assert FIRST not in text and SECOND not in text
            assert "client_secret='***'" in text

    def test_more_than_two_are_refused_as_cognito_refuses_them(self) -> None:
        with pytest.raises(ConfigError, match="at most two") as caught:
            make(client_secret=[FIRST, SECOND, STALE])
        assert not {FIRST, SECOND, STALE} & set(str(caught.value).split())

    @pytest.mark.parametrize(
        ("value", "said"),
        [
            ([FIRST, FIRST], "twice"),
            ([FIRST, ""], "empty"),
            ([FIRST, "   "], "empty"),
            ([FIRST, 42], "int"),
            ({FIRST: SECOND}, "dict"),
            (42, "a string"),
            (f"{FIRST},{SECOND}", "list"),
        ],
    )
    def test_what_cannot_be_secrets_is_refused_without_showing_them(
        self, value: object, said: str
    ) -> None:
        with pytest.raises(ConfigError, match=said) as caught:
            make(client_secret=value)
        message = str(caught.value)
        assert message.startswith("client_secret")
        assert FIRST not in message and SECOND not in message

    def test_any_app_client_has_no_secrets(self) -> None:
        with pytest.raises(ConfigError, match="ANY_APP_CLIENT"):
            make(client_id=ANY_APP_CLIENT, client_secret=[FIRST, SECOND])

    def test_from_dict_takes_a_list(self) -> None:
        config = CognitoConfig.from_dict(
            {"user_pool_id": "us-east-1_AbC123", "client_id": "c", "client_secret": [FIRST]}
        )
        assert config.client_secret == FIRST

    @pytest.mark.parametrize(
        "variable",
        [f"{FIRST},{SECOND}", f" {FIRST} , {SECOND} "],
    )
    def test_the_variable_holds_two_separated_by_a_comma(self, variable: str) -> None:
        config = CognitoConfig.from_env(
            {
                "COGNITO_USER_POOL_ID": "us-east-1_AbC123",
                "COGNITO_CLIENT_ID": "c",
                "COGNITO_CLIENT_SECRET": variable,
            }
        )
        assert config.client_secret == (FIRST, SECOND)

    @pytest.mark.parametrize("variable", [f"{FIRST},", f"{FIRST},,{SECOND}", f"{FIRST},{FIRST}"])
    def test_a_bad_variable_names_it_and_shows_no_secret(self, variable: str) -> None:
        with pytest.raises(ConfigError, match=r"^COGNITO_CLIENT_SECRET: client_secret") as caught:
            CognitoConfig.from_env(
                {
                    "COGNITO_USER_POOL_ID": "us-east-1_AbC123",
                    "COGNITO_CLIENT_ID": "c",
                    "COGNITO_CLIENT_SECRET": variable,
                }
            )
        assert FIRST not in str(caught.value)


# -- LocalCognito: AddUserPoolClientSecret and DeleteUserPoolClientSecret -----------------------


@pytest.fixture
def lc(make_lc: MakeLocalCognito) -> LocalCognito:
    """A confidential client with the secret FIRST, allowed client credentials."""
    return make_lc(client_secret=FIRST)


def with_secrets(lc: LocalCognito, *secrets: str) -> CognitoConfig:
    return dataclasses.replace(lc.config, client_secret=list(secrets))


def m2m_works(lc: LocalCognito, secret: str) -> bool:
    try:
        get_client_credentials_token(READ, config=with_secrets(lc, secret))
    except TokenExchangeError as exc:
        assert exc.error == "invalid_client"
        return False
    return True


class TestLocalCognitoSecrets:
    def test_an_added_secret_works_next_to_the_first(self, lc: LocalCognito) -> None:
        second = lc.add_client_secret(lc.client_id)
        assert second not in (FIRST, "") and len(second) >= 24
        assert m2m_works(lc, FIRST) and m2m_works(lc, second)
        assert not m2m_works(lc, STALE)

    def test_a_chosen_value_is_used(self, lc: LocalCognito) -> None:
        assert lc.add_client_secret(lc.client_id, client_secret=SECOND) == SECOND
        assert m2m_works(lc, SECOND)

    def test_a_code_exchange_works_with_either(self, lc: LocalCognito) -> None:
        second = lc.add_client_secret(lc.client_id)
        for secret in (FIRST, second):
            got = sign_in(lc)
            config = with_secrets(lc, secret)
            tokens = get_cognito_tokens(got.code, config=config, code_verifier=got.code_verifier)
            assert tokens.refresh_token
            revoke_token(tokens.refresh_token, config=config)

    def test_a_deleted_secret_gets_invalid_client(self, lc: LocalCognito) -> None:
        second = lc.add_client_secret(lc.client_id)
        lc.delete_client_secret(lc.client_id, FIRST)
        assert not m2m_works(lc, FIRST)
        assert m2m_works(lc, second)
        got = sign_in(lc)
        with pytest.raises(TokenExchangeError, match="invalid_client"):
            get_cognito_tokens(
                got.code, config=with_secrets(lc, FIRST), code_verifier=got.code_verifier
            )

    def test_at_most_two_secrets(self, lc: LocalCognito) -> None:
        lc.add_client_secret(lc.client_id)
        with pytest.raises(ValueError, match="two"):
            lc.add_client_secret(lc.client_id)

    def test_the_last_secret_cannot_be_deleted(self, lc: LocalCognito) -> None:
        with pytest.raises(ValueError, match="last"):
            lc.delete_client_secret(lc.client_id, FIRST)
        assert m2m_works(lc, FIRST)

    def test_a_public_client_gets_no_secret(self, make_lc: MakeLocalCognito) -> None:
        public = make_lc()
        with pytest.raises(ValueError, match="confidential"):
            public.add_client_secret(public.client_id)

    @pytest.mark.parametrize("value", ["short", "x" * 65, "has space" + "x" * 20, "a-b" * 10])
    def test_a_chosen_value_cognito_would_refuse_is_refused(
        self, lc: LocalCognito, value: str
    ) -> None:
        with pytest.raises(ValueError, match="24 to 64"):
            lc.add_client_secret(lc.client_id, client_secret=value)

    def test_unknown_clients_and_secrets_are_refused(self, lc: LocalCognito) -> None:
        with pytest.raises(ValueError, match="no app client"):
            lc.add_client_secret("nosuchclient")
        with pytest.raises(ValueError, match="no app client"):
            lc.delete_client_secret("nosuchclient", FIRST)
        lc.add_client_secret(lc.client_id)
        with pytest.raises(ValueError, match="not a secret of"):
            lc.delete_client_secret(lc.client_id, STALE)


# -- the library: the first secret, then the other on invalid_client ----------------------------


def stale_warnings(caplog: pytest.LogCaptureFixture) -> List[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "cognito_helper" and r.levelno == logging.WARNING and "stale" in r.getMessage()
    ]


@pytest.fixture
def rotated(lc: LocalCognito) -> LocalCognito:
    """The rotation's end: SECOND added, FIRST deleted; configs still list FIRST first."""
    lc.add_client_secret(lc.client_id, client_secret=SECOND)
    lc.delete_client_secret(lc.client_id, FIRST)
    return lc


def attempts(lc: LocalCognito) -> int:
    return len(lc.client_authentications)


class TestTheOtherSecret:
    def test_the_first_secret_is_used_while_it_works(self, lc: LocalCognito) -> None:
        lc.add_client_secret(lc.client_id, client_secret=SECOND)
        get_client_credentials_token(READ, config=with_secrets(lc, FIRST, SECOND))
        lc.delete_client_secret(lc.client_id, SECOND)  # the second is not needed
        get_client_credentials_token(READ, config=with_secrets(lc, FIRST, SECOND))
        assert attempts(lc) == 2

    def test_a_code_exchange_is_retried_with_the_second_then_uses_it(
        self, rotated: LocalCognito, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.WARNING, logger="cognito_helper")
        config = with_secrets(rotated, FIRST, SECOND)
        got = sign_in(rotated)
        tokens = get_cognito_tokens(got.code, config=config, code_verifier=got.code_verifier)
        assert attempts(rotated) == 2  # refused with FIRST, then accepted with SECOND
        assert tokens.refresh_token
        get_cognito_tokens(refresh_token=tokens.refresh_token, config=config)
        revoke_token(tokens.refresh_token, config=config)
        assert attempts(rotated) == 4  # from then on SECOND at once
        warned = stale_warnings(caplog)
        assert len(warned) == 1
        assert "first" in warned[0] and rotated.client_id in warned[0]
        assert FIRST not in caplog.text and SECOND not in caplog.text

    @pytest.mark.parametrize("grant", ["refresh", "client_credentials", "revoke"])
    def test_every_grant_and_the_revocation_try_the_other_secret(
        self, lc: LocalCognito, grant: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.WARNING, logger="cognito_helper")
        got = sign_in(lc)
        tokens = get_cognito_tokens(got.code, config=lc.config, code_verifier=got.code_verifier)
        assert tokens.refresh_token
        lc.add_client_secret(lc.client_id, client_secret=SECOND)
        lc.delete_client_secret(lc.client_id, FIRST)
        config = with_secrets(lc, FIRST, SECOND)
        before = attempts(lc)
        if grant == "refresh":
            get_cognito_tokens(refresh_token=tokens.refresh_token, config=config)
        elif grant == "client_credentials":
            get_client_credentials_token(READ, config=config)
        else:
            revoke_token(tokens.refresh_token, config=config)
        assert attempts(lc) == before + 2
        assert len(stale_warnings(caplog)) == 1

    def test_a_revocation_is_sent_with_the_second_and_revokes(self, rotated: LocalCognito) -> None:
        config = with_secrets(rotated, FIRST, SECOND)
        got = sign_in(rotated)
        tokens = get_cognito_tokens(
            got.code, config=with_secrets(rotated, SECOND), code_verifier=got.code_verifier
        )
        assert tokens.refresh_token
        revoke_token(tokens.refresh_token, config=config)
        with pytest.raises(InvalidGrantError):
            get_cognito_tokens(refresh_token=tokens.refresh_token, config=config)

    def test_the_knowledge_is_shared_by_equal_configs_not_by_other_secrets(
        self, rotated: LocalCognito
    ) -> None:
        get_client_credentials_token(READ, config=with_secrets(rotated, FIRST, SECOND))
        assert attempts(rotated) == 2
        get_client_credentials_token(READ, config=with_secrets(rotated, FIRST, SECOND))
        assert attempts(rotated) == 3
        get_client_credentials_token(READ, config=with_secrets(rotated, STALE, SECOND))
        assert attempts(rotated) == 5  # another pair of secrets: its own first try

    def test_both_refused_is_invalid_client_after_two_attempts_and_no_switch(
        self, lc: LocalCognito, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.WARNING, logger="cognito_helper")
        config = with_secrets(lc, STALE, SECOND)
        for expected in (2, 4):
            with pytest.raises(TokenExchangeError) as caught:
                get_client_credentials_token(READ, config=config)
            assert caught.value.error == "invalid_client"
            assert attempts(lc) == expected
            for secret in (STALE, SECOND):
                assert secret not in str(caught.value) and secret not in repr(caught.value)
        assert stale_warnings(caplog) == []

    def test_one_secret_is_never_retried(self, lc: LocalCognito) -> None:
        with pytest.raises(TokenExchangeError, match="invalid_client"):
            get_client_credentials_token(READ, config=with_secrets(lc, STALE))
        assert attempts(lc) == 1

    def test_another_refusal_is_not_retried(self, lc: LocalCognito) -> None:
        with pytest.raises(InvalidGrantError):
            get_cognito_tokens(
                "b5e1d8a0-0000-4000-8000-000000000000", config=with_secrets(lc, FIRST, SECOND)
            )
        assert attempts(lc) == 1

    def test_invalid_grant_after_the_switch_still_proves_the_second_secret(
        self, rotated: LocalCognito
    ) -> None:
        config = with_secrets(rotated, FIRST, SECOND)
        with pytest.raises(InvalidGrantError):
            get_cognito_tokens("b5e1d8a0-0000-4000-8000-000000000000", config=config)
        assert attempts(rotated) == 2
        get_client_credentials_token(READ, config=config)
        assert attempts(rotated) == 3

    def test_back_to_the_first_when_the_second_goes(
        self, lc: LocalCognito, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.WARNING, logger="cognito_helper")
        lc.add_client_secret(lc.client_id, client_secret=SECOND)
        lc.delete_client_secret(lc.client_id, FIRST)
        config = with_secrets(lc, FIRST, SECOND)
        get_client_credentials_token(READ, config=config)  # switches to SECOND
        lc.add_client_secret(lc.client_id, client_secret=FIRST)
        lc.delete_client_secret(lc.client_id, SECOND)
        get_client_credentials_token(READ, config=config)  # refused with SECOND: FIRST again
        get_client_credentials_token(READ, config=config)
        assert attempts(lc) == 5
        warned = stale_warnings(caplog)
        assert len(warned) == 2 and "second" in warned[1]

    def test_reset_forgets_which_secret_works(self, rotated: LocalCognito) -> None:
        config = with_secrets(rotated, FIRST, SECOND)
        get_client_credentials_token(READ, config=config)
        reset()
        get_client_credentials_token(READ, config=config)
        assert attempts(rotated) == 4

    def test_a_public_client_is_unchanged(self, make_lc: MakeLocalCognito) -> None:
        public = make_lc()
        got = sign_in(public)
        get_cognito_tokens(got.code, config=public.config, code_verifier=got.code_verifier)
        assert [a.method for a in public.client_authentications] == ["none"]

    def test_many_threads_switch_once_and_warn_once(
        self, rotated: LocalCognito, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.WARNING, logger="cognito_helper")
        config = with_secrets(rotated, FIRST, SECOND)
        work = lambda: get_client_credentials_token(READ, config=config)  # noqa: E731
        assert run_in_threads(8, work) == []
        assert len(stale_warnings(caplog)) == 1
        before = attempts(rotated)
        get_client_credentials_token(READ, config=config)
        assert attempts(rotated) == before + 1


# -- ClientCredentials: the cache key -----------------------------------------------------------


class TestTheCacheKey:
    def test_secrets_that_differ_are_different_keys(self, lc: LocalCognito) -> None:
        keys = {
            ClientCredentials(READ, config=with_secrets(lc, *secrets)).cache_key
            for secrets in ((FIRST,), (FIRST, SECOND), (SECOND, FIRST), (SECOND,), (FIRST, STALE))
        }
        assert len(keys) == 5

    def test_the_key_holds_neither_secret(self, lc: LocalCognito) -> None:
        key = ClientCredentials(READ, config=with_secrets(lc, FIRST, SECOND)).cache_key
        assert FIRST not in key and SECOND not in key

    def test_the_key_and_the_token_stay_when_the_second_secret_takes_over(
        self, lc: LocalCognito
    ) -> None:
        lc.add_client_secret(lc.client_id, client_secret=SECOND)
        config = with_secrets(lc, FIRST, SECOND)
        first = ClientCredentials(READ, config=config)
        token = first.access_token()
        lc.delete_client_secret(lc.client_id, FIRST)
        get_client_credentials_token(READ, config=config)  # the switch, on another call
        again = ClientCredentials(READ, config=config)
        assert again.cache_key == first.cache_key
        assert again.access_token() == token  # still held: no request for it
        assert lc.token_requests("client_credentials") == 3

    def test_a_token_is_obtained_with_the_second_secret(self, rotated: LocalCognito) -> None:
        credentials = ClientCredentials(READ, config=with_secrets(rotated, FIRST, SECOND))
        assert credentials.access_token()
        assert rotated.token_requests("client_credentials") == 2


# -- the README -----------------------------------------------------------------------------------


def test_the_readme_rotation_snippet(
    make_lc: MakeLocalCognito, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="cognito_helper")
    lc = make_lc(client_secret=FIRST, custom_scopes=("orders/read",))
    lc.add_client_secret(lc.client_id, client_secret=SECOND)
    lc.delete_client_secret(lc.client_id, FIRST)  # the rotation's last step, in Cognito
    variables = {
        "COGNITO_USER_POOL_ID": lc.user_pool_id,
        "COGNITO_CLIENT_ID": lc.client_id,
        "COGNITO_CLIENT_SECRET": f"{FIRST},{SECOND}",
        "COGNITO_DOMAIN": lc.url,
        "COGNITO_ISSUER": lc.issuer,
        "COGNITO_JWKS_URL": lc.jwks_url,
    }
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    (snippet,) = snippets_for(test_the_readme_rotation_snippet)
    namespace = snippet.run()
    assert namespace["token"] and attempts(lc) == 2
    assert len(stale_warnings(caplog)) == 1
