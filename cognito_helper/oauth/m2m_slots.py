"""What a process holds per :class:`~cognito_helper.ClientCredentials` cache key: the slots.

Every instance with one cache key shares one :class:`Slot` (its token, its single-flight lock,
its cool-downs). This module keeps the registry of slots (:data:`slots`, a :class:`SlotRegistry`);
:mod:`cognito_helper.oauth.m2m` owns the rules that read and write them.

A slot outlives its instances, so that ``ClientCredentials(...).access_token()`` made anew in
every request handler still makes one token request per token lifetime. The registry holds:

- every slot some instance still uses (weakly: one slot per key while any instance lives, so
  single flight and the cool-downs stay per cache key);
- strongly, the slots of the :data:`MAX_KEPT` cache keys most recently given to a new instance
  or a new token (least recently used dropped first), and of those only while they are worth
  keeping: a token not yet expired, a cool-down still running, or no request made yet. When a
  new cache key comes, slots past all that are dropped, on the clock of the instance that
  brought it.

A slot holds tokens, times, a lock and a copy of the last error (whose message holds no
secret); never the client secret, a config or an instance. Its key is a digest.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections import OrderedDict
from typing import Optional

from ..core.errors import CognitoError
from .token_store import HeldToken

__all__ = [
    "MAX_KEPT",
    "Fresh",
    "NOTHING",
    "Slot",
    "SlotRegistry",
    "slots",
    "slot_for",
    "keep",
    "holds",
    "slot_of",
]

#: How many cache keys' slots are kept without an instance (see the module's docstring).
MAX_KEPT = 128


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

    def worth_keeping(self, now: float) -> bool:
        """Whether the slot holds anything at ``now``: a token not yet expired, a running
        cool-down, or no finished request yet (an instance is about to make one)."""
        held = self.fresh.held
        return (
            self.attempts == 0
            or (held is not None and now < held.expires_at)
            or now < self.failed_until
            or now < self.replaced_until
        )


class SlotRegistry:
    """The slots of a process's cache keys: what the module's docstring says is kept.

    ``len()`` counts the slots held (live or kept). :meth:`clear` forgets every slot.
    """

    def __init__(self) -> None:
        self._live: weakref.WeakValueDictionary[str, Slot] = weakref.WeakValueDictionary()
        self._kept: OrderedDict[str, Slot] = OrderedDict()  # least recently used first
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(set(self._live.keys()) | set(self._kept))

    def _keep(self, key: str, slot: Slot) -> None:
        kept = self._kept
        kept[key] = slot
        kept.move_to_end(key)
        if len(kept) > MAX_KEPT:
            kept.popitem(last=False)

    def slot_for(self, key: str, now: float) -> Slot:
        """The slot of cache key ``key``, made if there is none, and kept; a new key first
        drops the kept slots no longer worth keeping at ``now`` (wall-clock seconds)."""
        with self._lock:
            slot = self._live.get(key)
            if slot is None:
                for stale in [k for k, kept in self._kept.items() if not kept.worth_keeping(now)]:
                    del self._kept[stale]
                slot = self._live[key] = Slot()
            self._keep(key, slot)
            return slot

    def keep(self, key: str, slot: Slot) -> None:
        """Count ``slot`` (of cache key ``key``) as just used: it has a new token."""
        with self._lock:
            if self._live.get(key) is slot:
                self._keep(key, slot)

    def slot_of(self, key: str) -> Optional[Slot]:
        """The slot of ``key`` if the registry holds one (for tests and diagnostics)."""
        with self._lock:
            return self._live.get(key)

    def clear(self) -> None:
        """Forget every slot. An instance made before keeps the slot it has, shared with no
        instance made after; a new instance starts with no token."""
        with self._lock:
            self._live.clear()
            self._kept.clear()


#: The registry of the process (``cognito_helper.testing.reset()`` clears it).
slots = SlotRegistry()


def slot_for(key: str, now: float) -> Slot:
    """The slot of cache key ``key`` in :data:`slots` (see :meth:`SlotRegistry.slot_for`)."""
    return slots.slot_for(key, now)


def keep(key: str, slot: Slot) -> None:
    """Count ``slot`` (of cache key ``key``) as just used: it has a new token."""
    slots.keep(key, slot)


def slot_of(key: str) -> Optional[Slot]:
    """The slot of ``key`` if the process holds one (for tests and diagnostics)."""
    return slots.slot_of(key)


def holds(key: str) -> bool:
    """Whether the process holds a slot for cache key ``key``."""
    return slot_of(key) is not None
