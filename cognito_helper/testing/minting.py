"""Tokens shaped like Cognito's: the claim sets of ID and access tokens, RS256 signing, and the
look-alike refresh tokens."""

from __future__ import annotations

import json
import secrets
import uuid
from typing import Any, Dict, Mapping, Optional, Sequence

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ..core.encoding import at_hash, b64url_encode
from .customisation import machine_event, run_hook, user_event
from .keys import KeyArg, KeyRing
from .settings import PoolSettings, now
from .store import Grant, User

_BOOLEAN_ATTRIBUTES = frozenset({"email_verified", "phone_number_verified"})
# Cognito refresh tokens are JWEs encrypted to Cognito itself; ours only look like one.
_REFRESH_HEADER = b64url_encode(b'{"cty":"JWT","enc":"A256GCM","alg":"RSA-OAEP"}')


def _segment(obj: Mapping[str, Any]) -> str:
    return b64url_encode(json.dumps(obj, separators=(",", ":")).encode("utf-8"))


def encode_jws(header: Mapping[str, Any], claims: Mapping[str, Any], key: rsa.RSAPrivateKey) -> str:
    """Serialise and RS256-sign; the header is used exactly as given (no ``typ`` added)."""
    signing_input = f"{_segment(header)}.{_segment(claims)}"
    signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url_encode(signature)}"


def new_refresh_token() -> str:
    """Five base64url parts of JWE sizes, random: opaque, as Cognito's are to everyone else."""
    # header . encrypted key (RSA-2048) . IV (96 bits) . ciphertext . tag (128 bits)
    parts = (b64url_encode(secrets.token_bytes(n)) for n in (256, 12, 400, 16))
    return ".".join((_REFRESH_HEADER, *parts))


def merge_changes(target: Dict[str, Any], changes: Mapping[str, Any]) -> None:
    """Apply ``changes`` to ``target``; a ``None`` value removes the entry."""
    for name, value in changes.items():
        if value is None:
            target.pop(name, None)
        else:
            target[name] = value


def _token_attributes(attributes: Mapping[str, str]) -> Dict[str, Any]:
    """User attributes as an ID token carries them: ``*_verified`` booleans, else strings."""
    claims: Dict[str, Any] = {}
    for name, value in attributes.items():
        if name == "sub":
            continue
        if name in _BOOLEAN_ATTRIBUTES:
            claims[name] = value == "true"
        elif name == "updated_at" and value.isdigit():
            claims[name] = int(value)
        else:
            claims[name] = value
    return claims


class Minter:
    """Makes and signs the pool's ID and access tokens with the current keys of ``keys``."""

    def __init__(self, keys: KeyRing, settings: PoolSettings) -> None:
        self._keys = keys
        self._settings = settings

    def claims(
        self, token_use: str, user: User, grant: Grant, issued_at: int, event_id: str
    ) -> Dict[str, Any]:
        """Cognito's claim set for an ID (``aud``) or access (``client_id``) token."""
        claims: Dict[str, Any] = {"sub": user.attributes["sub"]}
        if user.groups:
            claims["cognito:groups"] = list(user.groups)
        issuer = self._settings.issuer
        if token_use == "id":
            claims.update(_token_attributes(user.attributes))
            claims.update(
                {
                    "iss": issuer,
                    "cognito:username": user.username,
                    "origin_jti": grant.origin_jti,
                    "aud": grant.client_id,
                    "event_id": event_id,
                    "token_use": "id",
                }
            )
        else:
            claims.update(
                {
                    "iss": issuer,
                    "version": 2,
                    "client_id": grant.client_id,
                    "origin_jti": grant.origin_jti,
                    "event_id": event_id,
                    "token_use": "access",
                    "scope": " ".join(grant.scopes),
                }
            )
            if grant.resource is not None:
                claims["aud"] = grant.resource  # bound to one API; else no aud at all
        claims.update(
            {
                "auth_time": grant.auth_time,
                "exp": issued_at + self._settings.token_lifetime,
                "iat": issued_at,
                "jti": str(uuid.uuid4()),
            }
        )
        if token_use == "access":
            claims["username"] = user.username
        return claims

    def sign(self, token_use: str, claims: Mapping[str, Any]) -> str:
        """``claims`` signed with the current key of ``token_use``."""
        kid, private_key = self._keys.signing_key(token_use)
        return encode_jws({"kid": kid, "alg": "RS256"}, claims, private_key)

    def tokens(
        self, user: User, grant: Grant, issued_at: int, *, nonce: Optional[str], trigger: str
    ) -> Dict[str, Any]:
        """The signed tokens of one grant: an access token, and an ID token with ``openid``,
        as the pre-token-generation hook (``trigger``: the event's ``triggerSource``) changed
        them."""
        event = user_event(
            user_pool_id=self._settings.user_pool_id,
            client_id=grant.client_id,
            trigger=trigger,
            username=user.username,
            attributes=user.attributes,
            groups=user.groups,
            scopes=grant.scopes,
        )
        overrides = run_hook(self._settings.pre_token_generation, event)
        event_id = str(uuid.uuid4())
        access_claims = self.claims("access", user, grant, issued_at, event_id)
        overrides.apply_access(access_claims)
        access_token = self.sign("access", access_claims)
        tokens: Dict[str, Any] = {}
        if "openid" in grant.scopes:
            id_claims = self.claims("id", user, grant, issued_at, event_id)
            overrides.apply_id(id_claims)
            id_claims["at_hash"] = at_hash(access_token)
            if nonce is not None:
                id_claims["nonce"] = nonce
            tokens["id_token"] = self.sign("id", id_claims)
        tokens["access_token"] = access_token
        return tokens

    def machine_token(
        self, client_id: str, scopes: Sequence[str], resource: Optional[str] = None
    ) -> str:
        """A client_credentials access token: ``sub`` is the client, and there is no user.

        With ``resource`` the token is bound to that API: its ``aud``. The
        pre-token-generation hook gets a V3 ``TokenGeneration_ClientCredentials`` event.
        """
        event = machine_event(
            user_pool_id=self._settings.user_pool_id, client_id=client_id, scopes=scopes
        )
        overrides = run_hook(self._settings.pre_token_generation, event)
        issued_at = now(self._settings)
        claims: Dict[str, Any] = {
            "sub": client_id,
            "token_use": "access",
            "scope": " ".join(scopes),
            "auth_time": issued_at,
            "iss": self._settings.issuer,
            "exp": issued_at + self._settings.token_lifetime,
            "iat": issued_at,
            "version": 2,
            "jti": str(uuid.uuid4()),
            "client_id": client_id,
        }
        if resource is not None:
            claims["aud"] = resource
        overrides.apply_access(claims)
        return self.sign("access", claims)

    def mint(
        self,
        token_use: str,
        user: User,
        grant: Grant,
        *,
        header: Mapping[str, Any],
        key: KeyArg,
        changes: Mapping[str, Any],
    ) -> str:
        """A token of ``grant`` with ``changes`` merged into the claims and ``header`` into the
        JOSE header (``None`` removes); see :meth:`LocalCognito.mint`."""
        kid, private_key = self._keys.signing_key(token_use, key)
        payload = self.claims(token_use, user, grant, grant.auth_time, str(uuid.uuid4()))
        merge_changes(payload, changes)
        jws_header: Dict[str, Any] = {"kid": kid, "alg": "RS256"}
        merge_changes(jws_header, header)
        return encode_jws(jws_header, payload, private_key)
