"""The verification memo: what a valid signature established, kept for tokens seen again.

A backend sees the same token on many requests (an access token lives up to an hour). Once a
token has passed every check, the verification pipeline
(:class:`~cognito_helper.verification.pipeline.Verifier`) keeps, under the exact token string,
what the signed token itself fixed: that its signature verified with that key, its decoded
claims, and their typed core. While that key is still its cache's current key for its ``kid``,
the same string is not decoded or verified again, but every comparison with the clock, the
configuration and the call's options still runs on every call (SECURITY.md says which).

Guarantees:

* keyed by the exact token string: any other string, however close, is verified in full;
  only verifications that passed every check are remembered, never failures;
* an entry is used only while its key is the current key of a fresh JWKS cache (an identity
  check that never fetches): a refetch that withdraws or replaces the key drops its entries
  at once, and once the cache is due for its refresh the token goes through the full path,
  which refreshes; any key cache with the same two members (:class:`KeySource`) serves
  alike, as the ALB's :class:`~cognito_helper.verification.alb.AlbKeyCache` does for its own memo;
* bounded: at most ``maxsize`` entries (default :data:`DEFAULT_MAXSIZE`), least recently used
  evicted first (second-chance LRU); :func:`set_verification_memo_size` changes the bound,
  and 0 turns the memo off;
* every caller gets claims of its own: changing them, nested lists and objects included,
  changes nothing the memo holds;
* safe to use from any number of threads; a lookup takes no lock.

A token is remembered on its first verification. That is what a token seen only once pays
for (one copy of its claims and one entry, evicting the oldest), and every later sighting is
a hit. The alternatives measured in ``benchmarks/bench_verify.py``'s setting cost a token
that comes back more than they save a token that does not: admitting on the second sighting
pays a second full verification, RSA included; keeping only the signature's verdict at first
pays a second JSON decode at the first hit. The claims are kept as decoded (lists stay
lists), as the claim rules read them on every hit; lists kept as tuples measured no faster.

What it does not do: a token revoked at Cognito (``revoke_token``, global sign-out) is not
visible offline, memo or not; a verifier that must see revocation has to ask Cognito
(``get_user_info``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Protocol, Tuple

from .keys import VerifyingKey

__all__ = [
    "DEFAULT_MAXSIZE",
    "MemoInfo",
    "clear_verification_memo",
    "set_verification_memo_size",
    "verification_memo_info",
]

#: Entries kept unless :func:`set_verification_memo_size` says otherwise.
DEFAULT_MAXSIZE = 4096

#: The memo is indexed by a token's last ``TAIL`` characters (the end of its signature) and an
#: entry is used only when the whole token string is equal. A server gets every token as a
#: new ``str`` whose hash is not computed yet: hashing 32 characters instead of the whole
#: token saves most of a lookup.
TAIL = 32

Claims = Dict[str, Any]


class KeySource(Protocol):
    """What the memo asks of a key cache (a :class:`~cognito_helper.verification.jwks.JwksCache`, an
    :class:`~cognito_helper.verification.alb.AlbKeyCache`): the key it would verify ``kid`` with
    now,
    without fetching, and the callbacks it calls with each key it withdraws."""

    on_withdraw: List[Callable[[Any], None]]

    def get_key_if_current(self, kid: str) -> Optional[VerifyingKey]:
        """The key for ``kid`` if the cache would verify with it now; never fetches."""


class MemoInfo(NamedTuple):
    """Counters of the verification memo, like ``functools.lru_cache``'s ``cache_info()``.

    ``hits``: verifications answered from the memo; ``misses``: verifications of a token
    string that had to check the signature; ``maxsize``: the bound (0: off); ``currsize``:
    entries held now. The counters are exact in single-threaded use and may undercount
    under heavy concurrency.
    """

    hits: int
    misses: int
    maxsize: int
    currsize: int


_MUTABLE = frozenset({dict, list})  # the only mutable types decoded JSON holds


def json_copy(value: Any) -> Any:
    """A deep copy of decoded JSON; iterative, so no nesting depth can exhaust the stack."""
    if type(value) is not dict and type(value) is not list:
        return value
    root = value.copy()
    pending = [root]
    while pending:
        node = pending.pop()
        for name, item in node.items() if type(node) is dict else enumerate(node):
            if type(item) is dict or type(item) is list:
                item = item.copy()
                node[name] = item  # replaces a value: the iteration is not disturbed
                pending.append(item)
    return root


Copier = Callable[[Any], Any]


def _caller_copy(claims: Claims) -> Tuple[Claims, Tuple[Tuple[str, Copier], ...]]:
    """A copy of ``claims`` sharing nothing mutable with them, and ``(name, copier)`` for each
    top-level claim that is a list or an object (what every later copy must copy again).

    One plain loop: a token with a list claim (``cognito:groups``) pays it on its first
    verification, which is the memo's whole cost for a token never seen again.
    """
    copy = claims.copy()
    mutable = []
    for name, value in claims.items():
        kind = type(value)
        if kind is list or kind is dict:
            # The common case, a list of strings (cognito:groups, amr), is copied flat.
            copier = (
                list.copy if kind is list and _MUTABLE.isdisjoint(map(type, value)) else json_copy
            )
            copy[name] = copier(value)
            mutable.append((name, copier))
    return copy, tuple(mutable)


class MemoEntry:
    """One token string whose signature ``key`` verified, with its claims (private to the memo)."""

    __slots__ = ("token", "key", "claims", "core", "mutable", "used")

    def __init__(
        self,
        token: str,
        key: VerifyingKey,
        claims: Claims,
        core: Tuple[Any, ...],
        mutable: Tuple[Tuple[str, Copier], ...] = (),
    ) -> None:
        #: The exact token string this entry answers for.
        self.token = token
        self.key = key
        #: Decoded JSON, owned by the entry: never handed out and never changed.
        self.claims = claims
        #: What the verifier compares on every call (its profile's typed core).
        self.core = core
        #: ``(name, copier)`` for each top-level claim a caller's copy must not share.
        self.mutable = mutable
        #: Set by every hit, cleared by eviction's second chance.
        self.used = False

    def copy_claims(self) -> Claims:
        """A copy of the claims that shares nothing mutable with the entry."""
        claims = self.claims.copy()
        for name, copier in self.mutable:
            claims[name] = copier(claims[name])
        return claims


class VerificationMemo:
    """A bounded map from token string to :class:`MemoEntry` (see the module docstring).

    :meth:`find` takes no lock: it reads the map (``OrderedDict.get`` is ``dict.get``), marks
    the entry used and counts the hit, so a verifier never waits for another. Changes (add,
    evict, forget, resize) hold a lock. Eviction is second-chance LRU: the oldest entry goes
    first unless it was used since it was last considered, in which case it moves to the
    young end and its mark is cleared, so an entry in use is never evicted ahead of one that
    is not.
    """

    def __init__(self, maxsize: int = DEFAULT_MAXSIZE) -> None:
        self.maxsize = maxsize
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[str, MemoEntry] = OrderedDict()  # by tail, oldest first
        self._lock = threading.Lock()
        self._get = self._entries.get
        # The callback this memo registers with each cache it holds keys of: one object, so
        # that a cache's list holds it once.
        self._forget = self.forget_key

    def find(self, token: str, tail: str, cache: KeySource) -> Optional[MemoEntry]:
        """The entry for exactly ``token`` while its key is ``cache``'s current key, or None.

        ``tail`` is ``token[-TAIL:]``. A hit is counted and marks the entry used (for
        eviction); anything else counts a miss. Never fetches and takes no lock.
        """
        entry = self._get(tail)
        if entry is not None and entry.token == token:
            key = entry.key
            if cache.get_key_if_current(key.kid) is key:
                entry.used = True
                self.hits += 1
                return entry
        self.misses += 1
        return None

    def peek(self, token: str, tail: str) -> Optional[MemoEntry]:
        """The entry for exactly ``token``, whatever its key; counts nothing.

        For a verifier that must read the entry (to choose among configs) before it knows
        the JWKS cache to ask; it then calls :meth:`find` with that cache, or counts a miss.
        """
        entry = self._get(tail)
        return entry if entry is not None and entry.token == token else None

    def add(
        self,
        token: str,
        key: VerifyingKey,
        cache: KeySource,
        claims: Claims,
        core: Tuple[Any, ...],
        flat: bool = False,
        tail: Optional[str] = None,
    ) -> Claims:
        """Remember that ``key``, a key of ``cache``, verified ``token`` with these ``claims``.

        ``core`` is what the verifier needs to check again on every call; ``flat`` that no
        claim is a list or a dict; ``tail`` is ``token[-TAIL:]`` if the caller has it. The
        memo takes ``claims`` over; the caller gets a copy of its own in return.
        """
        copy, mutable = (claims.copy(), ()) if flat else _caller_copy(claims)
        entry = MemoEntry(token, key, claims, core, mutable)
        entries = self._entries
        with self._lock:
            if self.maxsize <= 0:
                return copy
            if self._forget not in cache.on_withdraw:
                cache.on_withdraw.append(self._forget)
            # A tail already there (the same token verified again after its key changed, or
            # two threads verifying it at once) keeps its place: it is just evicted sooner.
            entries[token[-TAIL:] if tail is None else tail] = entry
            if len(entries) > self.maxsize:
                # The usual case, one entry over: the oldest goes unless used since it was
                # last considered (then the general second-chance loop decides).
                oldest_tail, oldest = entries.popitem(last=False)
                if oldest.used:
                    oldest.used = False
                    entries[oldest_tail] = oldest
                    self._evict(self.maxsize)
        return copy

    def _evict(self, maxsize: int) -> None:
        """Evict down to ``maxsize`` entries, second-chance LRU; caller holds ``_lock``."""
        entries = self._entries
        chances = len(entries)  # each entry gets at most one second chance per call
        while len(entries) > maxsize:
            tail, entry = entries.popitem(last=False)
            if entry.used and chances > 0:
                chances -= 1
                entry.used = False
                entries[tail] = entry  # used since last considered: back to the young end

    def forget_key(self, key: VerifyingKey) -> None:
        """Drop every entry whose signature ``key`` verified."""
        with self._lock:
            stale = [tail for tail, entry in self._entries.items() if entry.key is key]
            for tail in stale:
                del self._entries[tail]

    def resize(self, maxsize: int) -> None:
        """Change the bound, evicting entries beyond it at once."""
        with self._lock:
            self.maxsize = maxsize
            self._evict(maxsize)

    def clear(self) -> None:
        """Drop every entry and zero the counters."""
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0

    def info(self) -> MemoInfo:
        """The counters and sizes now."""
        with self._lock:
            return MemoInfo(self.hits, self.misses, self.maxsize, len(self._entries))


#: The process-wide memo of Cognito tokens, :class:`~cognito_helper.CognitoVerifier`'s and
#: :func:`~cognito_helper.decode_verify_jwt`'s (the ALB's data tokens have one of their own:
#: see :mod:`cognito_helper.verification.alb`).
memo = VerificationMemo()


def set_verification_memo_size(maxsize: int) -> None:
    """Keep at most ``maxsize`` verified tokens (default 4096); 0 turns the memo off.

    Shrinking evicts at once, least recently used first. Raises ``ValueError`` for
    anything but a non-negative ``int``.
    """
    if isinstance(maxsize, bool) or not isinstance(maxsize, int) or maxsize < 0:
        raise ValueError("the verification memo size must be a non-negative int (0: off)")
    memo.resize(maxsize)


def verification_memo_info() -> MemoInfo:
    """Return the memo's ``hits``, ``misses``, ``maxsize`` and ``currsize``."""
    return memo.info()


def clear_verification_memo() -> None:
    """Forget every verified token and zero the counters (the size setting is kept)."""
    memo.clear()
