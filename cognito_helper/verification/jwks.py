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
* ``COGNITO_JWKS`` (a JWKS JSON string in the environment) preloads the keys of the pool that
  the ``COGNITO_*`` variables configure (the cache of that config's ``jwks_url``, no other):
  a process that has it makes no fetch for the kids it lists until the TTL has passed.
  :meth:`JwksCache.preload` does the same for any pool, so a process with several pools
  preloads each with ``jwks_cache(config.jwks_url).preload(jwks)``. Preloaded keys behave
  like keys fetched at start-up: after ``ttl`` a refetch is tried; if it fails they keep
  working, if it succeeds a key it no longer lists stops.
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from jose.backends.cryptography_backend import CryptographyRSAKey

from ..core import http as _http
from ..core.encoding import b64url_decode, json_object
from ..core.errors import CognitoConnectionError, ConfigError, UnknownKeyError

__all__ = [
    "JwksCache",
    "JwksFetcher",
    "PenaltyBox",
    "SigningKey",
    "VerifyingKey",
    "fetch_jwks",
    "forget_jwks_caches",
    "jwks_cache",
]

log = logging.getLogger("cognito_helper")

DEFAULT_TTL = 3600.0
DEFAULT_COOLDOWN = 10.0
MAX_JWKS_BYTES = 1 << 20
_B64URL = re.compile(r"[A-Za-z0-9_-]+")


class VerifyingKey:
    """A public key with its ``kid``, whose python-jose key object (its algorithm fixed when
    it was built) is constructed once and reused: what a key cache hands a verifier, and what
    the verification memo remembers a token by."""

    __slots__ = ("kid", "jose_key", "__weakref__")

    def __init__(self, kid: str, jose_key: Any) -> None:
        self.kid = kid
        self.jose_key = jose_key

    def verify(self, signing_input: bytes, signature: bytes) -> bool:
        """True when ``signature`` is a valid signature of ``signing_input`` by this key."""
        return bool(self.jose_key.verify(signing_input, signature))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kid={self.kid!r})"


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


class PenaltyBox:
    """When a JWKS may be fetched again after a fetch that did not help.

    After :meth:`penalize`, :meth:`waiting` is true for ``seconds``: unknown kids are then
    answered from the cache instead of causing fetches, so a flood of random kids costs at
    most one fetch per ``seconds``. A fetch that installs keys releases it (:meth:`release`).
    """

    def __init__(self, seconds: float = DEFAULT_COOLDOWN) -> None:
        self.seconds = seconds
        self._until = -math.inf

    def waiting(self) -> bool:
        """Whether the box still holds the next fetch back."""
        return time.monotonic() < self._until

    def penalize(self) -> None:
        """Hold fetches back for ``seconds`` from now."""
        self._until = time.monotonic() + self.seconds

    def release(self) -> None:
        """Let the next fetch through."""
        self._until = -math.inf


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
        timeout: float = 10.0,
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


_caches: Dict[str, JwksCache] = {}
_caches_lock = threading.Lock()


def _env_preload(url: str) -> Optional[Mapping[str, Any]]:
    """The ``COGNITO_JWKS`` document if it belongs to ``url``, else ``None``.

    It belongs to the JWKS URL of the pool the ``COGNITO_*`` variables configure (their
    ``COGNITO_JWKS_URL``, or the one derived from ``COGNITO_USER_POOL_ID``), and to no other.
    """
    text = os.environ.get("COGNITO_JWKS", "").strip()
    if not text:
        return None
    from ..settings.config import CognitoConfig  # imported here: config is not needed otherwise

    # The JWKS URL as the config read from the same variables has it (the client id plays no
    # part in it, so a process that configures its client in code needs none in the env).
    env = dict(os.environ)
    env["COGNITO_CLIENT_ID"] = env.get("COGNITO_CLIENT_ID", "").strip() or "unused"
    try:
        owner = CognitoConfig.from_env(env).jwks_url
    except ConfigError as exc:
        raise ConfigError(
            f"COGNITO_JWKS is set, but the COGNITO_* variables name no pool it belongs to: {exc}"
        ) from None
    if url != owner:
        return None
    try:
        return json_object(text.encode("utf-8", "surrogatepass"))
    except ValueError as exc:
        raise ConfigError(f"COGNITO_JWKS must be a JWKS, a JSON object: {exc}") from None


def jwks_cache(url: str, *, timeout: float = 10.0) -> JwksCache:
    """Return the process-wide cache for ``url``, creating it on first use.

    ``timeout`` is the default for calls that give none; each verification passes its own
    config's timeout. A new cache for the ``COGNITO_*`` pool's URL is preloaded from
    ``COGNITO_JWKS`` when that is set.
    """
    cache = _caches.get(url)
    if cache is not None:
        return cache
    with _caches_lock:
        cache = _caches.get(url)
        if cache is None:
            preload = _env_preload(url)
            cache = JwksCache(url, timeout=timeout)
            if preload is not None:
                try:
                    cache.preload(preload)
                except ConfigError as exc:
                    raise ConfigError(f"COGNITO_JWKS: {exc}") from None
            _caches[url] = cache
        return cache


def forget_jwks_caches(url: Optional[str] = None) -> None:
    """Drop the cache for ``url`` (or every cache); the next verification fetches anew."""
    with _caches_lock:
        if url is None:
            _caches.clear()
        else:
            _caches.pop(url, None)
