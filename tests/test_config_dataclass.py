"""CognitoConfig and Tokens are plain dataclasses: each field is written once (issue 20).

``CognitoConfig`` is ``dataclass(frozen=True, kw_only=True)``: no hand-written ``__init__``,
``__new__`` or ``__signature__``; its checks run in ``__post_init__``. ``Tokens`` is a
dataclass too. Both still keep every secret out of ``repr()``.
"""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from cognito_helper import CognitoConfig, Tokens

from .tokens import CLIENT, POOL

SECRET = "s3cr3t-client-secret-value"


def make(**overrides: object) -> CognitoConfig:
    settings: dict[str, object] = {"user_pool_id": POOL, "client_id": CLIENT, "domain": "my-app"}
    return CognitoConfig(**{**settings, **overrides})  # type: ignore[arg-type]


def test_every_config_field_is_declared_keyword_only() -> None:
    kinds = {f.name: f.kw_only for f in dataclasses.fields(CognitoConfig)}
    assert kinds and all(kinds.values()), kinds


def test_the_config_has_no_hand_written_new_or_signature() -> None:
    assert "__new__" not in vars(CognitoConfig)
    assert "__signature__" not in vars(CognitoConfig)
    assert CognitoConfig.__new__ is object.__new__


def test_the_signature_is_the_fields_in_order() -> None:
    parameters = inspect.signature(CognitoConfig).parameters
    assert list(parameters) == [f.name for f in dataclasses.fields(CognitoConfig)]


def test_the_config_repr_shows_every_field_and_hides_only_the_secret() -> None:
    text = repr(make(client_secret=SECRET, timeout=2.5))
    for f in dataclasses.fields(CognitoConfig):
        assert f"{f.name}=" in text, f.name
    assert "timeout=2.5" in text
    assert "client_secret='***'" in text and SECRET not in text
    assert str(make(client_secret=SECRET)) == repr(make(client_secret=SECRET))


def test_normalised_values_are_stored_by_post_init() -> None:
    config = make(domain="  my-app  ", client_secret="", scopes="openid  email")
    assert config.domain == "https://my-app.auth.us-east-1.amazoncognito.com"
    assert config.client_secret is None
    assert config.scopes == ("openid", "email")


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
