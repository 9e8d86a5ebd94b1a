"""What a process holds per :class:`~cognito_helper.ClientCredentials` cache key: the slots.

Every instance with one cache key shares one :class:`Slot` (its token, its single-flight lock,
its cool-down). This module keeps the registry of slots; :mod:`cognito_helper.m2m` owns the
rules that read and write them.
"""

from __future__ import annotations

import math
import threading
import weakref
from typing import Optional

from ._token_store import HeldToken
from .errors import CognitoError

__all__ = ["Fresh", "NOTHING", "Slot", "slot_for", "holds", "slot_of"]


class Fresh:
    """A held token and the wall-clock time from which it is due for a refresh.

    Never changed once made, only replaced whole: a reader without the lock sees a matching
    pair. ``refresh_at`` is never later than the token's ``expires_at``.
    """

    __slots__ = ("held", "access_token", "refresh_at")

    def __init__(self, held: Optional[HeldToken], refresh_at: float) -> None:
        self.held = held
        self.access_token = held.access_token if held is not None else ""
        self.refresh_at = refresh_at


NOTHING = Fresh(None, -math.inf)  # no token held: due for a refresh at any time


class Slot:
    """What a process holds for one cache key; shared by every instance with that key."""

    __slots__ = (
        "fresh",
        "lock",
        "attempts",
        "failure",
        "failed_until",
        "rejected",
        "refusals",
        "replaced_until",
        "__weakref__",
    )

    def __init__(self) -> None:
        self.fresh = NOTHING  # read without the lock (the hit path); replaced whole
        self.lock = threading.Lock()  # held while a request is made: the single flight
        # The rest is read and written with the lock held.
        self.attempts = 0  # requests finished so far: a waiter sees whether one ended meanwhile
        self.failure: Optional[CognitoError] = None  # the last attempt's error, if it failed
        self.failed_until = -math.inf  # end of the cool-down after that failure
        self.rejected: Optional[str] = None  # the token invalidate() dropped: never again
        # Held while a 401 decides whether it may replace the held token; with it held:
        self.refusals = threading.Lock()
        self.replaced_until = -math.inf  # end of the cool-down after a 401 replaced a token


_slots: weakref.WeakValueDictionary[str, Slot] = weakref.WeakValueDictionary()
_slots_lock = threading.Lock()


def slot_for(key: str) -> Slot:
    """The slot of cache key ``key``, made if there is none."""
    with _slots_lock:
        slot = _slots.get(key)
        if slot is None:
            slot = _slots[key] = Slot()
        return slot


def slot_of(key: str) -> Optional[Slot]:
    """The slot of ``key`` if the process holds one (for tests and diagnostics)."""
    with _slots_lock:
        return _slots.get(key)


def holds(key: str) -> bool:
    """Whether the process holds a slot for cache key ``key``."""
    return slot_of(key) is not None
