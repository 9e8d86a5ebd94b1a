"""CognitoConfig as a value: a frozen, keyword-only dataclass whose repr never shows the client
secret, equal and hashable by value, copied and pickled whole, and checked again by
``dataclasses.replace`` (``cognito_helper.settings.config``).
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle

import pytest

from cognito_helper import CognitoConfig, ConfigError

from .config_values import (
    CLIENT_ID,
    ORIGINAL_ISSUER,
    POOL,
    PREFIX_BASE,
    SECRET,
    UPDATED_ISSUER,
    make,
)

# -- the client secret is never shown; the config cannot be changed ----------------------------


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


# -- keyword arguments only, the fields written once -------------------------------------------


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
    "replica_regions",
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


# -- dataclasses.replace checks the copy -------------------------------------------------------


class TestReplace:
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


# -- a dataclass: each field written once, the values checked in __post_init__ ---------------


def bare(**overrides: object) -> CognitoConfig:
    """A config of the pool, the client and a domain only, with overrides."""
    settings: dict[str, object] = {"user_pool_id": POOL, "client_id": CLIENT_ID, "domain": "my-app"}
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
    text = repr(bare(client_secret=SECRET, timeout=2.5))
    for f in dataclasses.fields(CognitoConfig):
        assert f"{f.name}=" in text, f.name
    assert "timeout=2.5" in text
    assert "client_secret='***'" in text and SECRET not in text
    assert str(bare(client_secret=SECRET)) == repr(bare(client_secret=SECRET))


def test_normalised_values_are_stored_by_post_init() -> None:
    config = bare(domain="  my-app  ", client_secret="", scopes="openid  email")
    assert config.domain == "https://my-app.auth.us-east-1.amazoncognito.com"
    assert config.client_secret is None
    assert config.scopes == ("openid", "email")
