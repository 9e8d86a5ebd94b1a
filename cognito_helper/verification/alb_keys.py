"""The key side of ALB verification: where an Application Load Balancer's signing keys are
published, and the per-key-URL cache that fetches them (:class:`AlbKeyCache`).

An ALB signs ``x-amzn-oidc-data`` with ES256 and publishes each key's PEM at
``https://public-keys.auth.elb.{region}.amazonaws.com/{kid}`` (in S3 in the GovCloud regions).
This module turns the configured ARNs, region and ``key_url`` into one key-URL template
(:func:`alb_key_url`), fetches a kid's key through the package's one HTTP path
(:func:`fetch_alb_key`) and keeps it (:class:`AlbKeyCache`). The verification itself is in
:mod:`cognito_helper.verification.alb`, which re-exports the public names here.
"""

from __future__ import annotations

import math
import re
import threading
import time
from typing import Any, Callable, Dict, FrozenSet, Iterable, List, Optional, Tuple

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from jose.backends.cryptography_backend import CryptographyECKey

from ..core import http as _http
from ..core.errors import CognitoConnectionError, ConfigError, UnknownKeyError
from ..settings.config import DEFAULT_TIMEOUT  # a key fetch's, like every request's
from ..settings.fields import AWS_REGION
from ..settings.urls import check_url
from .keys import DEFAULT_COOLDOWN, PenaltyBox, VerifyingKey

__all__ = [
    "ALB_KID",
    "DEFAULT_FETCH_BURST",
    "DEFAULT_FETCH_RATE",
    "DEFAULT_KEY_URL",
    "DEFAULT_TIMEOUT",
    "GOVCLOUD_KEY_URL",
    "MAX_FAILED_KIDS",
    "AlbKey",
    "AlbKeyCache",
    "AlbKeyFetcher",
    "alb_key_cache",
    "alb_key_url",
    "fetch_alb_key",
    "forget_alb_key_caches",
    "parse_arns",
]

#: Where AWS publishes an ALB's signing keys, by region; ``{kid}`` is the token's key id.
DEFAULT_KEY_URL = "https://public-keys.auth.elb.{region}.amazonaws.com/{kid}"
#: The GovCloud (US) regions publish them in S3 instead.
GOVCLOUD_KEY_URL = "https://s3-{region}.amazonaws.com/aws-elb-public-keys-prod-{region}/{kid}"

#: A P-256 public key is about 180 bytes of PEM; anything much larger is not one.
MAX_KEY_BYTES = 8 * 1024
#: Keys kept per key URL: an ALB signs with a handful over a process's life.
MAX_KEYS = 256
#: Fetches of kids not held that may be made at once: a cold start behind a few load
#: balancers, or a rotation, needs one or two; ten leave room to spare ...
DEFAULT_FETCH_BURST = 10
#: ... and how many a second the budget refills: a sustained flood of made-up kids costs the
#: key endpoint at most one request a second per key URL and process.
DEFAULT_FETCH_RATE = 1.0
#: Kids whose failure is remembered per key URL (each for the cool-down). The budget already
#: bounds the failures of one cool-down (``burst + rate * cooldown``, 20 by default); this
#: bounds the memory whatever the options.
MAX_FAILED_KIDS = 1024

#: An ALB's key ids are UUIDs (in any case, as aws-jwt-verify reads them). Only such a kid
#: reaches a key URL: no ``/``, ``.``, ``%``, white space or other text goes into its path,
#: and a kid of any other form, which no ALB signs with, causes no request.
ALB_KID = re.compile(r"[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}")

_ARN = re.compile(
    r"arn:(aws|aws-us-gov|aws-cn):elasticloadbalancing:([a-z0-9-]+):(\d{12}):"
    r"loadbalancer/app/[A-Za-z0-9-]{1,32}/[A-Za-z0-9]{1,64}"
)
_GOVCLOUD = frozenset({"us-gov-west-1", "us-gov-east-1"})
_PEM = re.compile(
    rb"\s*-----BEGIN ([A-Z0-9 ]{1,40})-----\r?\n([A-Za-z0-9+/=\r\n]{1,8000})-----END \1-----\s*"
)


# -- where the keys are -----------------------------------------------------------------------


def parse_arns(alb_arn: object) -> Tuple[FrozenSet[str], FrozenSet[str], FrozenSet[str]]:
    """The ARNs (one string or a non-empty list), their regions and their partitions.

    Raises :class:`ConfigError` for anything that is not an Application Load Balancer ARN.
    """
    arns = [alb_arn] if isinstance(alb_arn, str) else alb_arn
    if not isinstance(arns, (list, tuple)) or not arns:
        raise ConfigError(
            "alb_arn must be the load balancer's ARN (a string) or a non-empty list of them"
        )
    regions, partitions = set(), set()
    for arn in arns:
        match = _ARN.fullmatch(arn) if isinstance(arn, str) else None
        if match is None or not AWS_REGION.fullmatch(match.group(2)):
            raise ConfigError(
                f"alb_arn {arn!r} is not an Application Load Balancer ARN such as "
                "'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/"
                "my-alb/50dc6c495c0c9188'"
            )
        partitions.add(match.group(1))
        regions.add(match.group(2))
    return frozenset(arns), frozenset(regions), frozenset(partitions)


def alb_key_url(
    key_url: Optional[str],
    region: Optional[str] = None,
    arn_regions: Iterable[str] = (),
    partitions: Iterable[str] = ("aws",),
) -> str:
    """The key-URL template to fetch from: ``{kid}`` in its path, the region filled in.

    ``key_url`` is a template with ``{kid}`` once, in the path, and optionally ``{region}``
    (default: AWS's endpoint for the region, the S3 one in GovCloud). ``region`` defaults to
    the ARNs' one. An https URL, or http to a loopback host (for tests). Raises
    :class:`ConfigError` for a template, region or partition it cannot serve.
    """
    regions = sorted(set(arn_regions))
    if region is not None:
        if type(region) is not str or not AWS_REGION.fullmatch(region):
            raise ConfigError(f"region {region!r} is not an AWS region such as 'us-east-1'")
    elif len(regions) == 1:
        region = regions[0]
    template = _default_template(region, regions, partitions) if key_url is None else key_url
    if type(template) is not str:
        raise ConfigError("key_url must be a URL template string with {kid}, or None")
    if template.count("{kid}") != 1:
        raise ConfigError(f"key_url {template!r} must contain {{kid}} exactly once")
    rest = template.replace("{kid}", "").replace("{region}", "")
    if "{" in rest or "}" in rest:
        raise ConfigError(f"key_url {template!r} may hold only the fields {{kid}} and {{region}}")
    scheme_end = template.find("://")
    path_start = template.find("/", scheme_end + 3) if scheme_end >= 0 else -1
    if path_start < 0 or template.index("{kid}") < path_start:
        raise ConfigError(f"key_url {template!r} must put {{kid}} in the path, after the host")
    if "{region}" in template:
        if region is None:
            raise ConfigError(
                f"key_url {template!r} holds {{region}}, but the ARNs name several regions "
                f"{regions}: give region="
            )
        template = template.replace("{region}", region)
    check_url("key_url", template.replace("{kid}", "kid"), custom_scheme=False)
    return template


def _default_template(region: Optional[str], regions: List[str], partitions: Iterable[str]) -> str:
    """AWS's key-URL template for ``region``; ConfigError where none is known or chosen."""
    if region is None:
        raise ConfigError(
            f"the ALB ARNs name several regions {regions}: their keys are published per "
            "region, so give region= (or key_url=)"
        )
    if "aws-cn" in set(partitions) or region.startswith("cn-"):
        raise ConfigError(
            "no default ALB key URL is known for the China regions: give key_url= (a "
            "template with {kid}, from the AWS documentation for your region)"
        )
    return GOVCLOUD_KEY_URL if region in _GOVCLOUD else DEFAULT_KEY_URL


# -- one key ------------------------------------------------------------------------------------


class AlbKey(VerifyingKey):
    """One ALB signing key: a P-256 public key for ES256, constructed once and reused.

    :meth:`verify` takes the signature in the JOSE ``r || s`` form (64 bytes): python-jose's
    ES256 key converts it to DER itself.
    """

    __slots__ = ()


class _UnusableKeyError(Exception):
    """A PEM key that is not an EC P-256 public key."""


def _parse_key(body: bytes) -> CryptographyECKey:
    """The ES256 key in ``body``, one PEM public key of curve P-256.

    Raises ``_UnusableKeyError`` for a readable PEM that is some other kind of key (the kid
    names no usable key) and ``ValueError`` for an answer that is no PEM key at all.
    """
    match = _PEM.fullmatch(body)
    if match is None:
        raise ValueError("it is not one PEM block")
    label = match.group(1).decode("ascii")
    if label != "PUBLIC KEY":
        raise _UnusableKeyError(f"it is a PEM {label!r}, not a 'PUBLIC KEY'")
    try:
        public_key = load_pem_public_key(body)
    except Exception:  # cryptography raises ValueError and others for bad key material
        raise ValueError("its PEM public key cannot be read") from None
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        kind = type(public_key).__name__.lstrip("_")
        raise _UnusableKeyError(f"it is a {kind}, not an EC P-256 key")
    if not isinstance(public_key.curve, ec.SECP256R1):
        raise _UnusableKeyError(f"its curve is {public_key.curve.name}, not P-256 (secp256r1)")
    # The algorithm is fixed here, once: the key object only ever verifies ES256.
    return CryptographyECKey(public_key, "ES256")


#: ``fetch(url, timeout)``: the body of a 200 answer, ``None`` when the endpoint has no such
#: key (403 or 404), or :class:`CognitoConnectionError`.
AlbKeyFetcher = Callable[[str, float], Optional[bytes]]


def fetch_alb_key(url: str, timeout: float) -> Optional[bytes]:
    """GET ``url`` within ``timeout`` seconds through the package's one HTTP path.

    Returns the body of a 200 answer (at most ``MAX_KEY_BYTES``), ``None`` for 403 or 404
    (no key of that kid: S3 answers 403 for a missing object), and raises
    :class:`CognitoConnectionError` for anything else (no redirect is followed).
    """
    resp = _http.request(
        "GET",
        url,
        what="ALB public-key endpoint",
        timeout=timeout,
        max_bytes=MAX_KEY_BYTES,
        headers={"Accept": "*/*"},
    )
    if resp.status == 200:
        return resp.body
    if resp.status in (403, 404):
        return None
    raise CognitoConnectionError(f"the ALB public-key endpoint answered HTTP {resp.status}")


# -- the cache ----------------------------------------------------------------------------------


class AlbKeyCache:
    """The ALB keys published under one key-URL template, per kid, for the process's life.

    Guarantees:

    * a kid's key is fetched on first need and kept (an ALB kid's key never changes); only
      usable keys are kept, at most ``max_keys`` (the oldest is dropped first);
    * threads that need the same key at the same moment share one fetch; each call waits at
      most the timeout it is given;
    * a kid the endpoint does not have (403, 404), or whose key is not EC P-256, is an
      :class:`UnknownKeyError`, remembered for that kid alone for ``cooldown`` seconds: it is
      refused without a request meanwhile, and a failure of one kid never refuses another
      (the failures of at most ``max_failed_kids`` kids are kept, the oldest dropped first);
    * fetches of kids not held spend a budget (a token bucket): ``fetch_burst`` at once, then
      ``fetch_rate`` a second (defaults :data:`DEFAULT_FETCH_BURST` and
      :data:`DEFAULT_FETCH_RATE`). With the budget spent, a kid not held is a
      :class:`CognitoConnectionError` (answer 503, try later), never an unknown kid: made-up
      kids cost at most that many requests, and the genuine one waits, it is not refused;
    * an endpoint that cannot be reached or answers unusably (a 5xx, HTML...) is a
      :class:`CognitoConnectionError` and closes the :class:`PenaltyBox` for ``cooldown``
      seconds: every kid not held is then refused with that error, without a request (the
      endpoint is down for every kid; no kid an attacker names makes it fail);
    * ``on_withdraw`` callbacks receive each key the cache stops holding (dropped for
      ``max_keys``, or by :meth:`forget_keys`), as a
      :class:`~cognito_helper.verification.jwks.JwksCache`'s
      do: the verification memo forgets the tokens that key verified.

    ``fetch`` (default :func:`fetch_alb_key`), ``penalty_box`` and ``clock`` (the monotonic
    seconds the per-kid cool-downs and the budget run on, default ``time.monotonic``) may be
    given; ``fetches`` counts the fetch attempts made. ``ValueError`` for a bad option.
    """

    def __init__(
        self,
        key_url: str,
        *,
        cooldown: float = DEFAULT_COOLDOWN,
        max_keys: int = MAX_KEYS,
        fetch_burst: int = DEFAULT_FETCH_BURST,
        fetch_rate: float = DEFAULT_FETCH_RATE,
        max_failed_kids: int = MAX_FAILED_KIDS,
        fetch: Optional[AlbKeyFetcher] = None,
        penalty_box: Optional[PenaltyBox] = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        _check_options(cooldown, fetch_burst, fetch_rate, max_failed_kids)
        self.key_url = key_url
        self.cooldown = cooldown
        self.max_keys = max_keys
        self.fetch_burst = fetch_burst
        self.fetch_rate = fetch_rate
        self.max_failed_kids = max_failed_kids
        self.fetch: AlbKeyFetcher = fetch_alb_key if fetch is None else fetch
        self.penalty_box = PenaltyBox(cooldown) if penalty_box is None else penalty_box
        self.clock = clock
        self.fetches = 0
        self.on_withdraw: List[Callable[[AlbKey], None]] = []
        self._keys: Dict[str, AlbKey] = {}
        self._failed: Dict[str, float] = {}  # kid -> end of its cool-down, oldest first
        self._budget = float(fetch_burst)
        self._budget_at: Optional[float] = None  # when the budget was last counted
        self._failure: Optional[str] = None  # why the endpoint failed last, if it did
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"AlbKeyCache(key_url={self.key_url!r}, kids={sorted(self._keys)!r})"

    @property
    def kids(self) -> Tuple[str, ...]:
        """The kids of the keys held now."""
        return tuple(self._keys)

    @property
    def failed_kids(self) -> Tuple[str, ...]:
        """The kids refused without a request now (their cool-down running), oldest first."""
        now = self.clock()
        return tuple(kid for kid, until in list(self._failed.items()) if now < until)

    def url_for(self, kid: str) -> str:
        """The URL of ``kid``'s key (``kid`` already checked to be URL-safe)."""
        return self.key_url.replace("{kid}", kid)

    def get_key_if_current(self, kid: str) -> Optional[AlbKey]:
        """The key for ``kid`` if it is held (a held ALB key never goes stale); never fetches."""
        return self._keys.get(kid)

    def get_key(self, kid: str, timeout: float = DEFAULT_TIMEOUT) -> AlbKey:
        """The key for ``kid``, fetched as the cache rules allow within ``timeout`` seconds.

        Raises :class:`UnknownKeyError` or :class:`CognitoConnectionError` (see the class);
        :class:`UnknownKeyError` without a request for a kid that is not a UUID (:data:`ALB_KID`).
        """
        key = self._keys.get(kid)
        if key is not None:
            return key
        if type(kid) is not str or not ALB_KID.fullmatch(kid):
            raise UnknownKeyError(f"an ALB's kids are UUIDs: {kid!r} names no ALB key")
        deadline = time.monotonic() + timeout
        self._check_may_fetch(kid)
        if not self._lock.acquire(timeout=max(0.0, timeout)):
            raise CognitoConnectionError(
                f"the ALB key did not arrive within {timeout:g} s (another fetch of it is slow)"
            )
        try:
            key = self._keys.get(kid)  # the fetch this thread waited for may have brought it
            if key is not None:
                return key
            self._check_may_fetch(kid)
            remaining = deadline - time.monotonic()
            if remaining <= 0:  # no request made: nothing to hold other kids' fetches back for
                raise CognitoConnectionError("the ALB key was not fetched: the call's time ran out")
            self._spend_budget(kid)
            return self._fetch(kid, remaining)
        finally:
            self._lock.release()

    def forget_keys(self) -> None:
        """Stop holding every key (each goes to the ``on_withdraw`` callbacks)."""
        withdrawn, self._keys = self._keys, {}
        for key in withdrawn.values():
            self._withdrawn(key)

    def _withdrawn(self, key: AlbKey) -> None:
        for callback in list(self.on_withdraw):
            callback(key)

    def _check_may_fetch(self, kid: str) -> None:
        """Refuse ``kid`` without a request: its own failure, or the endpoint's, is recent."""
        until = self._failed.get(kid)
        if until is not None and self.clock() < until:
            raise UnknownKeyError(
                f"no usable ALB key with kid {kid!r}: the key endpoint had none moments ago "
                "(it is asked again after the cool-down)"
            )
        if self.penalty_box.waiting():
            raise CognitoConnectionError(
                f"the ALB key for kid {kid!r} was not fetched: the key endpoint failed "
                f"moments ago ({self._failure or 'no reason recorded'})"
            )

    def _spend_budget(self, kid: str) -> None:
        """Take one fetch from the budget, or raise CognitoConnectionError; under ``_lock``."""
        now = self.clock()
        if self._budget_at is not None:
            elapsed = max(0.0, now - self._budget_at)
            self._budget = min(float(self.fetch_burst), self._budget + elapsed * self.fetch_rate)
        self._budget_at = now
        if self._budget >= 1:
            self._budget -= 1
            return
        wait = (1 - self._budget) / self.fetch_rate
        raise CognitoConnectionError(
            f"the ALB key for kid {kid!r} was not fetched: too many new kids were asked for "
            f"(at most {self.fetch_burst} at once, then {self.fetch_rate:g} a second); "
            f"try again in {wait:.1f} s"
        )

    def _remember_failure(self, kid: str) -> None:
        """Refuse ``kid`` for the cool-down; the ended and, for room, the oldest are dropped."""
        now = self.clock()
        failed = self._failed
        failed.pop(kid, None)
        while failed and (
            len(failed) >= self.max_failed_kids or next(iter(failed.values())) <= now
        ):
            del failed[next(iter(failed))]
        failed[kid] = now + self.cooldown

    def _fetch(self, kid: str, timeout: float) -> AlbKey:
        """Fetch, check and keep ``kid``'s key; the caller holds ``_lock``."""
        self.fetches += 1
        try:
            jose_key = self._fetched_key(kid, timeout)
        except CognitoConnectionError as exc:
            self._failure = str(exc)
            self.penalty_box.penalize()
            raise
        except UnknownKeyError:
            self._remember_failure(kid)
            raise
        self._failed.pop(kid, None)
        key = AlbKey(kid, jose_key)
        if len(self._keys) >= self.max_keys:
            self._withdrawn(self._keys.pop(next(iter(self._keys))))
        self._keys[kid] = key
        return key

    def _fetched_key(self, kid: str, timeout: float) -> CryptographyECKey:
        """``kid``'s key from the endpoint; UnknownKeyError or CognitoConnectionError."""
        body = self.fetch(self.url_for(kid), timeout)
        if body is None:
            raise UnknownKeyError(f"the ALB public-key endpoint has no key with kid {kid!r}")
        try:
            return _parse_key(body)
        except _UnusableKeyError as exc:
            raise UnknownKeyError(
                f"the ALB key with kid {kid!r} cannot verify ES256: {exc}"
            ) from None
        except ValueError as exc:
            raise CognitoConnectionError(
                f"the ALB public-key endpoint's answer for kid {kid!r} is unusable: {exc}"
            ) from None


def _check_options(cooldown: Any, burst: Any, rate: Any, max_failed_kids: Any) -> None:
    """The key cache's numeric options; ``ValueError`` naming the first bad one."""
    if isinstance(cooldown, bool) or not isinstance(cooldown, (int, float)) or not cooldown >= 0:
        raise ValueError("cooldown must be a number of seconds, 0 or more")
    if type(burst) is not int or burst < 1:
        raise ValueError("fetch_burst must be a whole number of fetches, 1 or more")
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate < math.inf:
        raise ValueError("fetch_rate must be a number of fetches a second, above 0")
    if type(max_failed_kids) is not int or max_failed_kids < 1:
        raise ValueError("max_failed_kids must be a whole number, 1 or more")


_caches: Dict[str, AlbKeyCache] = {}
_caches_lock = threading.Lock()


def alb_key_cache(key_url: str) -> AlbKeyCache:
    """The process-wide :class:`AlbKeyCache` for a key-URL template, made on first use."""
    cache = _caches.get(key_url)
    if cache is not None:
        return cache
    with _caches_lock:
        return _caches.setdefault(key_url, AlbKeyCache(key_url))


def forget_alb_key_caches() -> None:
    """Drop every ALB key cache and remembered verification; the next calls fetch anew.

    Each dropped cache's keys are withdrawn, so the ALB verification memo forgets the tokens
    they verified.
    """
    with _caches_lock:
        dropped = list(_caches.values())
        _caches.clear()
    for cache in dropped:
        cache.forget_keys()
