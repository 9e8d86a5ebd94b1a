"""``COGNITO_JWKS``: a JWKS in the environment that preloads one pool's JWKS cache.

``COGNITO_JWKS`` (a JWKS JSON string) belongs to the pool that the ``COGNITO_*`` variables
configure: the cache of that config's ``jwks_url``, no other. A process that has it makes no
fetch for the kids it lists until the TTL has passed (see
:meth:`~cognito_helper.verification.jwks.JwksCache.preload`). A process with several pools
preloads each with ``jwks_cache(config.jwks_url).preload(jwks)``.

The registry (:mod:`cognito_helper.verification.jwks_registry`) asks :func:`env_jwks` when it
makes a cache.
"""

from __future__ import annotations

import os
from typing import Any, Mapping, Optional

from ..core.encoding import json_object
from ..core.errors import ConfigError

__all__ = ["env_jwks"]


def env_jwks(url: str) -> Optional[Mapping[str, Any]]:
    """The ``COGNITO_JWKS`` document if it belongs to ``url``, else ``None``.

    It belongs to the JWKS URL of the pool the ``COGNITO_*`` variables configure (their
    ``COGNITO_JWKS_URL``, or the one derived from ``COGNITO_USER_POOL_ID``), and to no other.
    Raises :class:`ConfigError` when it is set but not a JSON object, or when the variables
    name no pool.
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
