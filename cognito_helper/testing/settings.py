"""What the parts of LocalCognito read from it at the moment they need it.

A test may change these while the server runs (``lc.token_lifetime = 5``, ``lc.advance_clock(60)``),
so the parts hold the :class:`~cognito_helper.testing.LocalCognito` itself, seen through this
protocol, rather than copies.
"""

from __future__ import annotations

from typing import Callable, Optional, Protocol, Tuple

from .customisation import PreTokenGeneration


class PoolSettings(Protocol):
    token_lifetime: int
    refresh_token_lifetime: int
    refresh_token_rotation: bool
    rotation_grace_period: int
    clock: Callable[[], float]
    pre_token_generation: Optional[PreTokenGeneration]
    user_pool_id: str

    @property
    def url(self) -> str: ...

    @property
    def issuer(self) -> str: ...

    @property
    def issuers(self) -> Tuple[str, ...]: ...

    @property
    def jwks_url(self) -> str: ...


def now(settings: PoolSettings) -> int:
    """The pool's time in whole seconds: every time decision reads it."""
    return int(settings.clock())
