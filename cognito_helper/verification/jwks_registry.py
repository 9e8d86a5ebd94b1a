"""The process's JWKS caches: one :class:`~cognito_helper.verification.jwks.JwksCache` per
``jwks_url``, shared by every thread and every config naming that URL.

:data:`caches` is the registry every verification uses; :func:`jwks_cache` and
:func:`forget_jwks_caches` are its public face. A new cache for the ``COGNITO_*`` pool's URL is
preloaded from ``COGNITO_JWKS`` (:mod:`cognito_helper.verification.jwks_preload`).
``cognito_helper.testing.reset()`` empties it.
"""

from __future__ import annotations

import threading
from typing import Dict, Optional

from ..core.errors import ConfigError
from ..settings.config import DEFAULT_TIMEOUT
from .jwks import JwksCache
from .jwks_preload import env_jwks

__all__ = ["JwksCaches", "caches", "forget_jwks_caches", "jwks_cache"]


class JwksCaches:
    """A registry of JWKS caches by URL: each made on first use, then shared."""

    def __init__(self) -> None:
        self._by_url: Dict[str, JwksCache] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many caches the registry holds."""
        return len(self._by_url)

    def __contains__(self, url: object) -> bool:
        return url in self._by_url

    def __repr__(self) -> str:
        return f"JwksCaches(urls={sorted(self._by_url)!r})"

    def get(self, url: str, *, timeout: float = DEFAULT_TIMEOUT) -> JwksCache:
        """The cache for ``url``, made on first use (see :func:`jwks_cache`)."""
        cache = self._by_url.get(url)
        if cache is not None:
            return cache
        with self._lock:
            cache = self._by_url.get(url)
            if cache is None:
                preload = env_jwks(url)
                cache = JwksCache(url, timeout=timeout)
                if preload is not None:
                    try:
                        cache.preload(preload)
                    except ConfigError as exc:
                        raise ConfigError(f"COGNITO_JWKS: {exc}") from None
                self._by_url[url] = cache
            return cache

    def forget(self, url: Optional[str] = None) -> None:
        """Drop the cache for ``url`` (or every cache); the next verification fetches anew."""
        with self._lock:
            if url is None:
                self._by_url.clear()
            else:
                self._by_url.pop(url, None)

    def clear(self) -> None:
        """Drop every cache."""
        self.forget()


#: The registry of the process: every verification's JWKS cache comes from it.
caches = JwksCaches()


def jwks_cache(url: str, *, timeout: float = DEFAULT_TIMEOUT) -> JwksCache:
    """Return the process-wide cache for ``url``, creating it on first use.

    ``timeout`` is the default for calls that give none; each verification passes its own
    config's timeout. A new cache for the ``COGNITO_*`` pool's URL is preloaded from
    ``COGNITO_JWKS`` when that is set.
    """
    cache = caches._by_url.get(url)  # every verification asks: one lookup, no method call
    return cache if cache is not None else caches.get(url, timeout=timeout)


def forget_jwks_caches(url: Optional[str] = None) -> None:
    """Drop the cache for ``url`` (or every cache); the next verification fetches anew."""
    caches.forget(url)
