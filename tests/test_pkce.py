"""PKCE (``cognito_helper.settings.pkce``): the S256 challenge of a verifier, and the verifiers
``start_login`` draws (random enough, never starting with '-').
"""

from __future__ import annotations

import secrets

import pytest

from cognito_helper import pkce_challenge

from .config_values import PKCE_VERIFIER_ALPHABET, make, query_of, s256


class TestPkceChallenge:
    def test_matches_the_rfc_7636_appendix_b_example(self):
        # RFC 7636, Appendix B: the S256 example verifier and challenge.
        verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        assert pkce_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

    @pytest.mark.parametrize("verifier", ["a" * 43, "~._-" * 32, "Z9" * 64])
    def test_is_the_unpadded_base64url_sha256_of_the_verifier(self, verifier):
        assert pkce_challenge(verifier) == s256(verifier)

    def test_is_43_characters_without_padding(self):
        challenge = pkce_challenge("x" * 128)
        assert len(challenge) == 43
        assert "=" not in challenge

    def test_is_accepted_by_login_url(self):
        challenge = pkce_challenge("y" * 64)
        assert query_of(make().login_url(code_challenge=challenge))["code_challenge"] == challenge


class TestPkceVerifierNeverLooksLikeAnOption:
    def test_no_verifier_in_2000_draws_starts_with_a_hyphen(self):
        config = make()
        logins = [config.start_login() for _ in range(2000)]
        verifiers = [login.code_verifier for login in logins]
        assert [v for v in verifiers if v.startswith("-")] == []
        # state and nonce are passed on command lines too (verify --nonce): never '-' first
        assert [x for login in logins for x in (login.state, login.nonce) if x[0] == "-"] == []
        assert all(43 <= len(v) <= 128 and PKCE_VERIFIER_ALPHABET.fullmatch(v) for v in verifiers)
        assert len(set(verifiers)) == len(verifiers)

    def test_a_random_string_starting_with_a_hyphen_is_fixed(self, monkeypatch):
        drawn = []

        def token_urlsafe(nbytes: int) -> str:
            token = "-" + "A" * (-(-nbytes * 4 // 3) - 1)
            drawn.append(token)
            return token

        monkeypatch.setattr(secrets, "token_urlsafe", token_urlsafe)
        login = make().start_login()
        verifier = login.code_verifier
        assert not verifier.startswith("-")
        assert not login.state.startswith("-") and not login.nonce.startswith("-")
        assert verifier[1:] == drawn[-1][1:]  # the rest of the random string is kept
        assert 43 <= len(verifier) <= 128
        assert PKCE_VERIFIER_ALPHABET.fullmatch(verifier)
        assert query_of(login.url)["code_challenge"] == s256(verifier)

    def test_verifier_keeps_at_least_256_bits_of_randomness(self, monkeypatch):
        sizes = []
        real = secrets.token_urlsafe

        def token_urlsafe(nbytes: int) -> str:
            sizes.append(nbytes)
            return real(nbytes)

        monkeypatch.setattr(secrets, "token_urlsafe", token_urlsafe)
        verifier = make().start_login().code_verifier
        # 6 bits per base64url character, one character possibly redrawn (still ~5.95 bits).
        assert (len(verifier) - 1) * 6 >= 256
        assert max(sizes) * 8 >= 256
