"""The JWKS cache: one per ``jwks_url``, shared by every thread of the process.

A cache is built from parts it is given: a *fetcher* (``fetch(url, timeout) -> bytes``, by
default :func:`fetch_jwks`, an HTTP GET through the package's one HTTP session) and a
:class:`PenaltyBox` (when an unknown ``kid`` may cause the next fetch), so tests and users can
replace either.

Guarantees:

* keys are fetched on first need; each call waits at most the timeout it is given (the
  verifying config's), also when it waits for a fetch another thread started; a response
  that is not 200, not a JSON object with a ``keys`` list, holds no usable RS256 key, or
  is over 1 MiB is refused with :class:`CognitoConnectionError` and never replaces the keys
  already held;
* threads that need keys at the same moment share one fetch;
* the keys are refreshed ``ttl`` seconds after a fetch (default one hour); while the endpoint
  is down, the keys already held keep working;
* an unknown ``kid`` causes one refetch; if that refetch still lacks it, further unknown kids
  are answered from the cache for ``cooldown`` seconds (default 10), so a flood of random kids
  costs at most one fetch per cool-down; a key rotated in just after a fetch is still found,
  also by a thread that saw it missing while an earlier fetch was under way;
* while the JWKS cannot be fetched, a kid not held is a :class:`CognitoConnectionError`
  (retry later), not an :class:`UnknownKeyError`: it may be a key just rotated in;
* a key that a refetch no longer lists stops verifying at once;
* each key object is constructed once (python-jose's cryptography backend) and reused;
* :meth:`JwksCache.preload` installs a JWKS as if fetched at start-up: no fetch is made for
  the kids it lists until the TTL has passed; then a refetch is tried; if it fails they keep
  working, if it succeeds a key it no longer lists stops.

This module is the cache alone. The process's caches, one per URL, are kept by
:mod:`cognito_helper.verification.jwks_registry` (:func:`~cognito_helper.jwks_cache`), which
preloads the ``COGNITO_*`` pool's cache from ``COGNITO_JWKS``
(:mod:`cognito_helper.verification.jwks_preload`); the key types and the penalty box that the
ALB key cache shares are in :mod:`cognito_helper.verification.keys`.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from jose.backends.cryptography_backend import CryptographyRSAKey

from ..core import http as _http
from ..core.encoding import b64url_decode, json_object
from ..core.errors import CognitoConnectionError, ConfigError, UnknownKeyError
from ..settings.config import DEFAULT_TIMEOUT
from .keys import DEFAULT_COOLDOWN, PenaltyBox, VerifyingKey

__all__ = [
    "DEFAULT_TTL",
    "MAX_JWKS_BYTES",
    "JwksCache",
    "JwksFetcher",
    "SigningKey",
    "fetch_jwks",
]

log = logging.getLogger("cognito_helper")

#: Seconds after a fetch that the keys are refreshed unless told otherwise.
DEFAULT_TTL = 3600.0
#: The largest JWKS document accepted, in bytes.
MAX_JWKS_BYTES = 1 << 20
_B64URL = re.compile(r"[A-Za-z0-9_-]+")


class SigningKey(VerifyingKey):
    """One usable RS256 public key from a JWKS, constructed once and reused."""

    __slots__ = ("_fingerprint",)

    def __init__(self, kid: str, jose_key: CryptographyRSAKey, fingerprint: Tuple[str, str]):
        super().__init__(kid, jose_key)
        self._fingerprint = fingerprint


#: ``fetch(url, timeout)``: the JWKS document's bytes, or :class:`CognitoConnectionError`.
JwksFetcher = Callable[[str, float], bytes]


def fetch_jwks(url: str, timeout: float) -> bytes:
    """GET ``url`` within ``timeout`` seconds; the body of a 200 answer of at most 1 MiB.

    Raises :class:`CognitoConnectionError` for anything else.
    """
    resp = _http.request("GET", url, what="JWKS", timeout=timeout, max_bytes=MAX_JWKS_BYTES)
    if resp.status != 200:
        raise CognitoConnectionError(f"the JWKS URL answered HTTP {resp.status}")
    return resp.body


def _parse_jwks(
    doc: Any, previous: Mapping[str, SigningKey]
) -> Tuple[Dict[str, SigningKey], Dict[str, str]]:
    """Turn a JWKS document into usable keys and reasons for the unusable ones.

    Raises ``ValueError`` when the document as a whole is unusable.
    """
    if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
        raise ValueError("the JWKS is not a JSON object with a 'keys' list")
    keys: Dict[str, SigningKey] = {}
    unusable: Dict[str, str] = {}
    for jwk in doc["keys"]:
        if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str) or not jwk["kid"]:
            continue
        kid = jwk["kid"]
        reason = _unusable_reason(jwk)
        if reason:
            unusable[kid] = reason
            continue
        fingerprint = (jwk["n"], jwk["e"])
        old = previous.get(kid)
        if old is not None and old._fingerprint == fingerprint:
            keys[kid] = old  # same key material: keep the object (and what is cached on it)
            continue
        try:
            for part in (jwk["n"], jwk["e"]):
                if not _B64URL.fullmatch(part):  # b64url_decode expects its alphabet checked
                    raise ValueError("not base64url")
                b64url_decode(part)
            jose_key = CryptographyRSAKey({"kty": "RSA", "n": jwk["n"], "e": jwk["e"]}, "RS256")
            bits = jose_key.prepared_key.key_size
        except Exception:  # python-jose raises assorted types for bad key material
            unusable[kid] = "its RSA key material ('n' and 'e') is invalid"
            continue
        if bits < 2048:
            unusable[kid] = f"its RSA key has {bits} bits (at least 2048 required)"
            continue
        keys[kid] = SigningKey(kid, jose_key, fingerprint)
    if not keys:
        raise ValueError("the JWKS holds no usable RS256 signing key")
    return keys, unusable


def _unusable_reason(jwk: Dict[str, Any]) -> Optional[str]:
    if jwk.get("kty") != "RSA":
        return f"its kty is {jwk.get('kty')!r}, not 'RSA'"
    if jwk.get("use", "sig") != "sig":
        return f"its use is {jwk.get('use')!r}, not 'sig'"
    if jwk.get("alg", "RS256") != "RS256":
        return f"its alg is {jwk.get('alg')!r}, not 'RS256'"
    if not isinstance(jwk.get("n"), str) or not isinstance(jwk.get("e"), str):
        return "it has no RSA modulus and exponent"
    return None


class JwksCache:
    """The keys published at one JWKS URL (see the module docstring for the guarantees).

    ``ttl`` and ``cooldown`` (seconds) may be changed on a live cache; ``cooldown`` is the
    penalty box's and also spaces the retries of a failed TTL refresh. ``fetch`` is the
    fetcher (default :func:`fetch_jwks`) and ``penalty_box`` the :class:`PenaltyBox`.
    ``fetches`` counts the fetch attempts made. ``on_withdraw`` callbacks receive each key
    that a refetch withdrew.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        ttl: float = DEFAULT_TTL,
        cooldown: float = DEFAULT_COOLDOWN,
        preload: Optional[Mapping[str, Any]] = None,
        fetch: Optional[JwksFetcher] = None,
        penalty_box: Optional[PenaltyBox] = None,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.ttl = ttl
        self.fetch: JwksFetcher = fetch_jwks if fetch is None else fetch
        self.penalty_box = PenaltyBox(cooldown) if penalty_box is None else penalty_box
        self.fetches = 0
        self.on_withdraw: List[Callable[[SigningKey], None]] = []
        self._keys: Dict[str, SigningKey] = {}
        self._unusable: Dict[str, str] = {}
        self._fetched_at = -math.inf  # monotonic time of the last good fetch
        self._retry_at = -math.inf  # after a failed refresh: keep stale keys until then
        self._generation = 0  # bumped as every fetch attempt starts
        self._last_error = "the JWKS has not been fetched yet"
        self._fetch_failed = False  # whether the last fetch attempt failed
        self._lock = threading.Lock()
        if preload is not None:
            self.preload(preload)

    def preload(self, jwks: Mapping[str, Any]) -> None:
        """Install ``jwks`` (a JWKS document: ``{"keys": [...]}``) as if fetched just now.

        Raises :class:`ConfigError` when it holds no usable RS256 key. No fetch is made for
        its kids until ``ttl`` has passed; then a refetch is tried as after any fetch.
        """
        try:
            keys, unusable = _parse_jwks(jwks, self._keys)
        except ValueError as exc:
            raise ConfigError(f"the preloaded JWKS for {self.url} is unusable: {exc}") from None
        with self._lock:
            self._install(keys, unusable)

    def __repr__(self) -> str:
        return f"JwksCache(url={self.url!r}, kids={sorted(self._keys)!r})"

    @property
    def cooldown(self) -> float:
        """Seconds the penalty box holds fetches back (default 10)."""
        return self.penalty_box.seconds

    @cooldown.setter
    def cooldown(self, seconds: float) -> None:
        self.penalty_box.seconds = seconds

    @property
    def kids(self) -> Tuple[str, ...]:
        """The kids of the usable keys held now."""
        return tuple(self._keys)

    def get_key(self, kid: str, timeout: Optional[float] = None) -> SigningKey:
        """Return the usable key for ``kid``, fetching as the cache rules allow.

        ``timeout`` (default: the cache's) bounds the whole call in seconds, including the
        wait for a fetch that another thread is making. Raises :class:`UnknownKeyError` when
        no usable key has that kid and :class:`CognitoConnectionError` when keys are needed
        and cannot be fetched in time.
        """
        if timeout is None:
            timeout = self.timeout
        key = self._keys.get(kid)
        generation = None
        if key is not None:
            if self._is_fresh():
                return key
            generation = self._generation
            self._refresh_stale(timeout)
            key = self._keys.get(kid)  # a withdrawn key must stop at once
            if key is not None:
                return key
        return self._get_unknown(kid, timeout, generation)

    def get_key_if_current(self, kid: str) -> Optional[SigningKey]:
        """The key for ``kid`` if it is held and fresh; never fetches."""
        return self._keys.get(kid) if self._is_fresh() else None

    def _is_fresh(self) -> bool:
        now = time.monotonic()
        return now - self._fetched_at < self.ttl or now < self._retry_at

    def _refresh_stale(self, timeout: float) -> None:
        # One thread refreshes; the others keep using the stale keys rather than waiting.
        if not self._lock.acquire(blocking=False):
            return
        try:
            if self._is_fresh():
                return
            try:
                self._fetch(timeout)
            except CognitoConnectionError as exc:
                # Keep serving what we hold; try again after a cool-down, not on every call.
                self._last_error = str(exc)
                self._retry_at = time.monotonic() + self.cooldown
                log.warning("JWKS refresh failed; keeping the keys already held: %s", exc)
        finally:
            self._lock.release()

    def _get_unknown(self, kid: str, timeout: float, generation: Optional[int]) -> SigningKey:
        """The key for a kid not held; ``generation``: as when the caller first looked."""
        deadline = time.monotonic() + timeout
        key = self._keys.get(kid)  # a fetch may have brought it in since the caller looked
        if key is not None:
            return key
        if self.penalty_box.waiting():
            raise self._missing(kid, fetched=False)
        if generation is None:
            generation = self._generation
        # Wait for another thread's fetch no longer than this call's own timeout allows.
        if not self._lock.acquire(timeout=timeout):
            raise CognitoConnectionError(
                f"the JWKS did not arrive within {timeout:g} s (another fetch of it is slow)"
            )
        try:
            key = self._keys.get(kid)
            if key is not None:
                return key
            if self.penalty_box.waiting():  # a fetch while we waited found no kid
                raise self._missing(kid, fetched=False)
            # Fetch unless one started after we looked: a fetch already under way when the
            # key was published (a TTL refresh, say) cannot have it.
            if self._generation == generation:
                left = deadline - time.monotonic()
                if left <= 0:  # no request made: nothing to cool down from
                    raise CognitoConnectionError(
                        "the JWKS was not fetched: the call's time ran out"
                    )
                try:
                    self._fetch(left)
                except CognitoConnectionError as exc:
                    # Bound the fetches a flood can cause while the endpoint is failing.
                    self.penalty_box.penalize()
                    self._last_error = str(exc)
                    raise
            key = self._keys.get(kid)
            if key is not None:
                return key
            if not self._keys or self._fetch_failed:
                raise self._missing(kid, fetched=True)
            self.penalty_box.penalize()
        finally:
            self._lock.release()
        raise UnknownKeyError(self._unknown_message(kid, fetched=True))

    def _missing(self, kid: str, *, fetched: bool) -> Exception:
        """What a kid not held means: a rejection, or (keys unknowable) a connection error."""
        if not self._keys:
            return CognitoConnectionError(f"no usable JWKS: {self._last_error}")
        if self._fetch_failed:
            # The JWKS could not be fetched: the kid may well be a key just rotated in, and
            # refusing its tokens (401) would be wrong when the truth is "unreachable" (503).
            return CognitoConnectionError(
                f"the JWKS could not be fetched to look up kid {kid!r}: {self._last_error}"
            )
        return UnknownKeyError(self._unknown_message(kid, fetched=fetched))

    def _unknown_message(self, kid: str, *, fetched: bool) -> str:
        reason = self._unusable.get(kid)
        if reason:
            return f"the JWKS key with kid {kid!r} cannot verify RS256 tokens: {reason}"
        when = "even after refetching it" if fetched else "(refetch cooling down)"
        return f"no key with kid {kid!r} in the pool's JWKS {when}"

    def _fetch(self, timeout: float) -> None:
        """Fetch and install the JWKS; caller holds ``_lock``. Raises CognitoConnectionError."""
        self.fetches += 1
        self._generation += 1
        try:
            if timeout <= 0:
                raise CognitoConnectionError("the JWKS was not fetched: the call's time ran out")
            body = self.fetch(self.url, timeout)
            try:
                try:
                    doc = json_object(body)
                except ValueError as exc:
                    raise ValueError(f"not a JSON object with a 'keys' list ({exc})") from None
                keys, unusable = _parse_jwks(doc, self._keys)
            except ValueError as exc:
                raise CognitoConnectionError(f"the JWKS response is unusable: {exc}") from None
        except CognitoConnectionError as exc:
            self._last_error = str(exc)
            self._fetch_failed = True
            raise
        self._install(keys, unusable)

    def _install(self, keys: Dict[str, SigningKey], unusable: Dict[str, str]) -> None:
        """Make ``keys`` the keys held, as of now; caller holds ``_lock``."""
        self._fetch_failed = False
        withdrawn = [key for kid, key in self._keys.items() if keys.get(kid) is not key]
        self._keys = keys
        self._unusable = unusable
        self._fetched_at = time.monotonic()
        self._retry_at = -math.inf
        self.penalty_box.release()
        log.debug("JWKS installed: %d usable keys, %d withdrawn", len(keys), len(withdrawn))
        for key in withdrawn:
            for callback in list(self.on_withdraw):
                callback(key)
