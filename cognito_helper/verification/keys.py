"""What every key cache shares: the key it hands a verifier, and the penalty box that spaces
its fetches.

The JWKS cache (:mod:`cognito_helper.verification.jwks`) and the ALB key cache
(:mod:`cognito_helper.verification.alb_keys`) both hand out :class:`VerifyingKey` objects, by
which the verification memo remembers a token, and both hold back fetches that did not help
with a :class:`PenaltyBox`.
"""

from __future__ import annotations

import math
import time
from typing import Any

__all__ = ["DEFAULT_COOLDOWN", "PenaltyBox", "VerifyingKey"]

#: Seconds a :class:`PenaltyBox` holds fetches back unless told otherwise.
DEFAULT_COOLDOWN = 10.0


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


class PenaltyBox:
    """When a key cache may fetch again after a fetch that did not help.

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
