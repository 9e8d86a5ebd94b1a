"""What a machine-to-machine token cache holds, and what a shared store must do.

:class:`HeldToken` is one client-credentials access token with its times. A
:class:`TokenStore` (such as :class:`cognito_helper.RedisTokenStore`) lets the processes of a
fleet share one token per lifetime; :class:`cognito_helper.ClientCredentials` keeps its own
in-process cache in front of it and owns the rules (early refresh, cool-down, fallback).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from typing import Callable, Optional, Protocol

__all__ = ["HeldToken", "TokenStore", "MAX_LIFETIME", "refresh_due_at"]

#: Cognito's longest access-token lifetime, one day: no token is believed to live longer,
#: whatever ``expires_in`` or a shared store says (:meth:`HeldToken.capped`).
MAX_LIFETIME = 86400


def refresh_due_at(
    issued_at: float, expires_at: float, *, margin: float, fraction: float = 0.0
) -> float:
    """When a token issued at ``issued_at`` and expiring at ``expires_at`` is due for a refresh.

    ``margin`` seconds, or ``fraction`` of its lifetime, whichever is longer, before
    ``expires_at``; but never before half its lifetime has passed, so that a short-lived token
    is still used for a while. The one rule for "refresh early" of the package: the
    client-credentials cache and the signed-in sessions apply it alike.
    """
    lifetime = max(0.0, expires_at - issued_at)
    return expires_at - min(max(lifetime * fraction, margin), lifetime / 2)


@dataclass(frozen=True)
class HeldToken:
    """One access token from the client-credentials grant and when it stops being usable.

    ``issued_at`` and ``expires_at`` are wall-clock seconds (``time.time()``), so that
    processes sharing a store agree on them; ``expires_at`` is ``issued_at + expires_in``.
    ``repr()`` shows no token.
    """

    access_token: str
    token_type: str
    issued_at: float
    expires_at: float
    scope: Optional[str] = None

    def __repr__(self) -> str:
        return (
            f"HeldToken(token_type={self.token_type!r}, issued_at={self.issued_at!r}, "
            f"expires_at={self.expires_at!r}, scope={self.scope!r})"
        )

    def capped(self) -> HeldToken:
        """This token with ``expires_at`` no later than ``issued_at + MAX_LIFETIME``."""
        limit = self.issued_at + MAX_LIFETIME
        return self if self.expires_at <= limit else dataclasses.replace(self, expires_at=limit)

    def to_json(self) -> str:
        """The stored form: the token and its times, never a secret."""
        return json.dumps(
            {
                "access_token": self.access_token,
                "token_type": self.token_type,
                "issued_at": self.issued_at,
                "expires_at": self.expires_at,
                "scope": self.scope,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> Optional[HeldToken]:
        """Read :meth:`to_json`'s form back; ``None`` for anything else (a store is untrusted)."""
        try:
            data = json.loads(text)
        except (ValueError, TypeError, RecursionError):
            return None
        if not isinstance(data, dict):
            return None
        token, kind = data.get("access_token"), data.get("token_type")
        issued, expires, scope = data.get("issued_at"), data.get("expires_at"), data.get("scope")
        if not (isinstance(token, str) and token and isinstance(kind, str)):
            return None
        times = (issued, expires)
        if not all(
            isinstance(t, (int, float)) and not isinstance(t, bool) and math.isfinite(t)
            for t in times
        ):
            return None
        if scope is not None and not isinstance(scope, str):
            return None
        return cls(token, kind, float(issued), float(expires), scope)  # type: ignore[arg-type]


class TokenStore(Protocol):
    """Where processes share client-credentials tokens (see :class:`RedisTokenStore`).

    ``key`` is already a digest (no secret in it). ``usable(token)`` is the caller's rule for
    "good enough to hand out" (not expired, not due for early refresh). ``fetch()`` asks
    Cognito; it raises the library's typed errors.
    """

    def obtain(
        self,
        key: str,
        fetch: Callable[[], HeldToken],
        usable: Callable[[HeldToken], bool],
    ) -> HeldToken:
        """A usable token for ``key``: a stored one, or one that exactly one of the sharing
        processes fetched with ``fetch`` (this one or another) and stored.

        A store that cannot reach its backend calls ``fetch()`` itself and returns the result
        (the service keeps working); an error from ``fetch`` propagates unchanged.
        """
        ...
