"""Unknown ``COGNITO_*`` variables: a warning names the closest variable the library reads.

A misspelled variable (``COGNITO_DOMAN``, ``COGNITO_SECRET``) used to be ignored without a
word. Each test uses names no other test uses: the warning is given once per name per process.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Dict, List

import pytest

import cognito_helper
from cognito_helper import CognitoConfig, ConfigError
from cognito_helper.config import UnknownVariableWarning
from cognito_helper.settings.env import ENV_NAMES, values

POOL = "us-east-1_AbC123"
CLIENT_ID = "1example23456789abcdefghij"
BASE = {"COGNITO_USER_POOL_ID": POOL, "COGNITO_CLIENT_ID": CLIENT_ID}


def warned(environ: Dict[str, str]) -> List[str]:
    """The messages of the UnknownVariableWarnings that reading ``environ`` gives."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        CognitoConfig.from_env(environ)
    return [str(w.message) for w in caught if issubclass(w.category, UnknownVariableWarning)]


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("COGNITO_DOMAN", "COGNITO_DOMAIN"),
        ("COGNITO_SECRET", "COGNITO_CLIENT_SECRET"),
        ("COGNITO_USERPOOL_ID", "COGNITO_USER_POOL_ID"),
        ("COGNITO_APP_CLIENT_ID", "COGNITO_CLIENT_ID"),
        ("COGNITO_REDIRECT_URL", "COGNITO_REDIRECT_URI"),
        ("COGNITO_SCOPE", "COGNITO_SCOPES"),
        ("COGNITO_JWK", "COGNITO_JWKS"),
    ],
)
def test_a_misspelled_variable_is_warned_about_naming_the_closest_one(
    typo: str, meant: str
) -> None:
    environ = {**BASE, typo: "value-that-must-not-show-0123"}
    if typo in ("COGNITO_USERPOOL_ID", "COGNITO_APP_CLIENT_ID"):
        environ.pop(meant)  # a typo of a required one: reading then fails, after the warning
        with pytest.warns(UnknownVariableWarning) as caught, pytest.raises(ConfigError):
            CognitoConfig.from_env(environ)
        messages = [str(w.message) for w in caught]
    else:
        messages = warned(environ)
    assert len(messages) == 1
    assert messages[0].startswith(f"{typo} is set, but cognito_helper reads no such variable")
    assert messages[0].endswith(f"did you mean {meant}?")
    assert "value-that-must-not-show" not in messages[0]


def test_the_warning_is_given_once_per_name_per_process() -> None:
    environ = {**BASE, "COGNITO_LOGOUT_URL": "https://app.example.com/"}
    assert len(warned(environ)) == 1
    assert warned(environ) == []
    assert warned({**environ, "COGNITO_ISUER": "https://issuer.example.com"}) == [
        "COGNITO_ISUER is set, but cognito_helper reads no such variable (it is ignored): "
        "did you mean COGNITO_ISSUER?"
    ]


def test_get_config_warns_when_it_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(ENV_NAMES.values()):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COGNITO_USER_POOL_ID", POOL)
    monkeypatch.setenv("COGNITO_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("COGNITO_CLIENTSECRET", "s3cr3t-not-shown")
    cognito_helper.configure(None)
    try:
        with pytest.warns(UnknownVariableWarning, match="did you mean COGNITO_CLIENT_SECRET"):
            cognito_helper.get_config()
    finally:
        cognito_helper.configure(None)


def test_a_name_close_to_a_variable_that_is_set_is_someone_elses() -> None:
    # COGNITO_DOMAIN is set, so COGNITO_DOMAIN_NAME is not a failed attempt to set it.
    environ = {**BASE, "COGNITO_DOMAIN": "my-app", "COGNITO_DOMAIN_NAME": "x"}
    assert warned(environ) == []


@pytest.mark.parametrize(
    "name",
    [
        "COGNITO_IDENTITY_POOL_ID",  # close only to the pool id and client id, which are set
        "COGNITO_IDENTITY_POOL",
        "COGNITO_TENANT",
        "COGNITO_AUDIENCE",
        "COGNITO_HOSTED_UI_DOMAIN",
        "COGNITO_LOG_LEVEL",
        "COGNITO_TEST_USER",
        "COGNITO_HELPER_FUZZ_EXAMPLES",  # the project's own test knobs
        "COGNITO_HELPER_STRESS_SECONDS",
        "COGNITO_HELPER_ANYTHING_ELSE",
    ],
)
def test_names_unlike_any_variable_of_the_library_are_other_tools_and_not_warned_about(
    name: str,
) -> None:
    assert warned({**BASE, name: "1"}) == []


def test_no_cognito_name_the_package_mentions_is_warned_about() -> None:
    # Every COGNITO_* name in the package's source: the variables it reads (ENV_NAMES,
    # COGNITO_JWKS in jwks.py), and COGNITO_AUTHENTICATION, the Django setting.
    package = Path(cognito_helper.__file__).parent
    names = set()
    for source in package.rglob("*.py"):
        names.update(re.findall(r"\bCOGNITO_[A-Z0-9_]*[A-Z0-9]\b", source.read_text("utf-8")))
    assert {"COGNITO_JWKS", "COGNITO_AUTHENTICATION", *ENV_NAMES.values()} <= names
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        values({name: "1" for name in names})
        values({**BASE, "COGNITO_JWKS": "{}", "COGNITO_AUTHENTICATION": "{}"})
    assert [str(w.message) for w in caught] == []


def test_an_unknown_config_key_names_the_closest_known_key_by_the_same_rule() -> None:
    with pytest.raises(ConfigError) as excinfo:
        cognito_helper.configure({"user_pool_id": POOL, "client_id": CLIENT_ID, "domian": "x"})
    message = str(excinfo.value)
    assert message.startswith("unknown config key(s) domian (did you mean 'domain'?); known keys:")
    with pytest.raises(ConfigError) as excinfo:
        CognitoConfig.from_dict(
            {"user_pool_id": POOL, "client_id": CLIENT_ID, "secret": "s", "zzz": 1}
        )
    assert str(excinfo.value).startswith(
        "unknown config key(s) secret (did you mean 'client_secret'?), zzz; known keys:"
    )
