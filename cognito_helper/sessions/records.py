"""What a session store holds: a pending sign-in and a signed-in session, and their stored form.

Stores are keyed by :func:`storage_key`, a SHA-256 digest of the id the browser holds: a
store (or a read of it) never holds an id that could be replayed as a cookie. Both records
keep their secrets out of ``repr()``. :meth:`SessionRecord.to_json` and
:meth:`SessionRecord.from_json` (and the pending sign-in's) are the stored form of a store that
serialises (Redis); ``from_json`` checks every field's type and bound and returns ``None`` for
anything else, so a record that fails is treated as absent.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import secrets
from dataclasses import dataclass, field, replace
from typing import Any, Dict, Mapping, Optional

__all__ = [
    "FORMAT",
    "finite_number",
    "PendingSignIn",
    "SessionRecord",
    "is_session_id",
    "new_session_id",
    "storage_key",
]

#: The version of the stored form; another version reads as absent.
FORMAT = 1
#: The longest stored form read back (characters of JSON): far above three Cognito tokens.
MAX_RECORD_CHARS = 48 * 1024
_ID = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32): 256 random bits
_TOKEN = re.compile(r"[!-~]{1,16384}")  # printable ASCII, no space: what a token can hold
_OPAQUE = re.compile(r"[!-~]{1,512}")  # state, nonce, verifier, origin_jti
_PATH = re.compile(r"/[!-~]{0,2047}")


def new_session_id() -> str:
    """A fresh id for the browser's cookie: 256 random bits from :mod:`secrets`, base64url."""
    return secrets.token_urlsafe(32)


def is_session_id(value: object) -> bool:
    """Whether ``value`` has the form of :func:`new_session_id`'s ids (anything else is not
    looked up)."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def storage_key(session_id: str) -> str:
    """The key a store files ``session_id`` (or a pending sign-in's id) under: its SHA-256,
    hex. The id is 256 random bits, so the key cannot be turned back into it."""
    return hashlib.sha256(session_id.encode("ascii")).hexdigest()


def finite_number(value: object) -> Optional[float]:
    """``value`` as a float when it is a finite number (not a bool), else ``None``: how a
    stored time or a token's time claim is read."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _loaded(text: object, key: str) -> Optional[Dict[str, Any]]:
    """The JSON object of a stored form of version :data:`FORMAT` filed under ``key``."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if not isinstance(text, str) or len(text) > MAX_RECORD_CHARS:
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("v") != FORMAT or data.get("k") != key:
        return None
    return data


def _matches(pattern: re.Pattern[str], value: object) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


@dataclass(frozen=True)
class PendingSignIn:
    """A sign-in that was started and not completed yet: what the callback checks.

    ``state``, ``nonce`` and ``code_verifier`` (PKCE S256) are this sign-in's secrets and
    never shown by ``repr()``; ``next_path`` is already safe (a path on this app);
    ``created_at`` is wall-clock seconds.
    """

    state: str = field(repr=False)
    nonce: str = field(repr=False)
    code_verifier: str = field(repr=False)
    next_path: str
    created_at: float

    def to_json(self, key: str) -> str:
        """The stored form, bound to the storage ``key`` it is filed under."""
        return json.dumps(
            {
                "v": FORMAT,
                "k": key,
                "state": self.state,
                "nonce": self.nonce,
                "verifier": self.code_verifier,
                "next": self.next_path,
                "created": self.created_at,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: object, key: str) -> Optional[PendingSignIn]:
        """:meth:`to_json`'s form filed under ``key``, or ``None`` for anything else."""
        data = _loaded(text, key)
        if data is None:
            return None
        state, nonce, verifier = data.get("state"), data.get("nonce"), data.get("verifier")
        created = finite_number(data.get("created"))
        if not all(_matches(_OPAQUE, value) for value in (state, nonce, verifier)):
            return None
        if created is None or not _matches(_PATH, data.get("next")):
            return None
        return cls(str(state), str(nonce), str(verifier), data["next"], created)


@dataclass(frozen=True)
class SessionRecord:
    """One signed-in session: the user's tokens, their times, and the session's own.

    ``user`` holds the ID token's claims (updated by each refresh). ``access_issued_at`` and
    ``access_expires_at`` are the access token's ``iat`` and ``exp``. ``created_at`` is when
    the user signed in, ``last_seen`` when the session was last used (to the touch interval),
    ``ends_at`` its absolute end; all wall-clock seconds. ``origin_jti`` is the sign-in's
    (what a revocation list keys on), ``access_jti`` the access token's own ``jti``. The
    tokens never show in ``repr()``.
    """

    id_token: str = field(repr=False)
    access_token: str = field(repr=False)
    refresh_token: Optional[str] = field(repr=False)
    user: Mapping[str, Any] = field(repr=False)
    access_issued_at: float
    access_expires_at: float
    created_at: float
    last_seen: float
    ends_at: float
    origin_jti: Optional[str]
    access_jti: Optional[str] = None

    def seen(self, now: float) -> SessionRecord:
        """This record, used at ``now``."""
        return replace(self, last_seen=now)

    def to_json(self, key: str) -> str:
        """The stored form, bound to the storage ``key`` it is filed under."""
        return json.dumps(
            {
                "v": FORMAT,
                "k": key,
                "id_token": self.id_token,
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "user": dict(self.user),
                "times": [
                    self.access_issued_at,
                    self.access_expires_at,
                    self.created_at,
                    self.last_seen,
                    self.ends_at,
                ],
                "origin_jti": self.origin_jti,
                "access_jti": self.access_jti,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: object, key: str) -> Optional[SessionRecord]:
        """:meth:`to_json`'s form filed under ``key``, or ``None`` for anything else."""
        data = _loaded(text, key)
        if data is None:
            return None
        tokens = (data.get("id_token"), data.get("access_token"))
        refresh, user, times = data.get("refresh_token"), data.get("user"), data.get("times")
        if not all(_matches(_TOKEN, token) for token in tokens):
            return None
        if refresh is not None and not _matches(_TOKEN, refresh):
            return None
        if not isinstance(user, dict) or not isinstance(user.get("sub"), str):
            return None
        if not isinstance(times, list) or len(times) != 5:
            return None
        numbers = [finite_number(t) for t in times]
        jtis = (data.get("origin_jti"), data.get("access_jti"))
        if any(n is None for n in numbers):
            return None
        if any(j is not None and not _matches(_OPAQUE, j) for j in jtis):
            return None
        issued, expires, created, seen, ends = (float(n or 0) for n in numbers)
        return cls(
            str(tokens[0]), str(tokens[1]), refresh, user,
            issued, expires, created, seen, ends, *jtis,
        )  # fmt: skip
