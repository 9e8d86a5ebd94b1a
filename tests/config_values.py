"""A valid CognitoConfig and the values it is built from, for the configuration tests
(test_config_*.py, test_hosted_ui_urls.py, test_pkce.py, test_default_config.py).

URLs are checked by parsing them (:func:`query_of`, :func:`endpoint_of`), never by comparing
raw strings, except where the exact encoding is the behaviour under test.
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from cognito_helper import CognitoConfig

POOL = "us-east-1_AbC123"
REGION = "us-east-1"
CLIENT_ID = "1example23456789abcdefghij"
SECRET = "sEcReT-value-0123456789-must-not-leak"
REDIRECT = "https://app.example.com/cognito_redirect"
LOGOUT = "https://app.example.com/signed-out"
PREFIX_BASE = f"https://my-app.auth.{REGION}.amazoncognito.com"
ORIGINAL_ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{POOL}"
UPDATED_ISSUER = f"https://issuer-cognito-idp.{REGION}.amazonaws.com/{POOL}"
DEFAULT_JWKS = f"https://cognito-idp.{REGION}.amazonaws.com/{POOL}/.well-known/jwks.json"
# A valid S256 challenge shape: 43 base64url characters.
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
PKCE_VERIFIER_ALPHABET = re.compile(r"[A-Za-z0-9\-._~]+")

# The dict shape of the seed project's config (CognitoConfig.from_dict, configure(dict)).
SEED = {
    "region": "us-east-1",
    "domain": "my-app",
    "client_id": CLIENT_ID,
    "client_secret": SECRET,
    "user_pool_id": POOL,
    "redirect_uri": REDIRECT,
}


def make(**overrides) -> CognitoConfig:
    """A complete, valid config (prefix domain, redirect and logout URIs), with overrides."""
    settings = {
        "user_pool_id": POOL,
        "client_id": CLIENT_ID,
        "domain": "my-app",
        "redirect_uri": REDIRECT,
        "logout_uri": LOGOUT,
    }
    settings.update(overrides)
    return CognitoConfig(**settings)


def query_of(url: str) -> dict[str, str]:
    """The query of ``url`` as a dict, insisting that every parameter occurs exactly once."""
    parsed = parse_qs(urlsplit(url).query, keep_blank_values=True, strict_parsing=True)
    for name, values in parsed.items():
        assert len(values) == 1, f"{name} occurs {len(values)} times in {url}"
    return {name: values[0] for name, values in parsed.items()}


def endpoint_of(url: str) -> str:
    """``scheme://host/path`` of ``url``, without the query."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def s256(verifier: str) -> str:
    """BASE64URL(SHA256(ASCII(verifier))) without padding, computed independently of the library."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def set_env(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
