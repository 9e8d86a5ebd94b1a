"""The one verification pipeline: :class:`Verifier`, which Cognito's and the ALB's verifiers
extend (as aws-jwt-verify's ``CognitoJwtVerifier`` and ``AlbJwtVerifier`` extend its
``JwtVerifierBase``).

Every token goes through the same stages, listed in their order once, in SECURITY.md.
A rejection after the signature carries the claims as ``.claims``, attached in one place
(:meth:`Verifier._settle`), on the path of a new token and of a remembered one alike. A
profile adds only its own field rules, in the methods marked "a profile's"; what each stage
checks, in which order, and where the two profiles differ, is said once, in SECURITY.md.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar, Dict, Mapping, Optional, Protocol

from ..core.errors import InvalidClaimsError, InvalidSignatureError, TokenVerificationError
from .claims import Check, refused_by_check
from .jws import Signed
from .memo import TAIL, KeySource, MemoEntry, VerificationMemo, json_copy

__all__ = ["KeyCache", "Revocations", "Verifier", "checked_revocations"]

Claims = Dict[str, Any]


class KeyCache(KeySource, Protocol):
    """What the pipeline asks of a key cache (a
    :class:`~cognito_helper.verification.jwks.JwksCache`, an
    :class:`~cognito_helper.verification.alb_keys.AlbKeyCache`): the key for a ``kid``,
    fetched as its rules allow, within ``timeout`` seconds."""

    def get_key(self, kid: str, timeout: float) -> Any:
        """The key to verify ``kid``'s tokens with, or the cache's error."""


class Revocations(Protocol):
    """What a verifier's ``revocations=`` is: an object that says whether the token with these
    (verified) claims is revoked, such as :class:`cognito_helper.sessions.RevocationList`.
    An error it raises propagates as it is: a list that cannot be read raises
    :class:`~cognito_helper.core.errors.CognitoConnectionError` (503), never answers "no"."""

    def is_revoked(self, claims: Mapping[str, Any]) -> bool:
        """Whether the token with ``claims`` is revoked."""
        ...


def checked_revocations(revocations: object) -> Optional[Revocations]:
    """``revocations=`` as given, or ``TypeError`` when it has no callable ``is_revoked`` (or
    is a class, not an instance)."""
    if revocations is not None and (
        isinstance(revocations, type) or not callable(getattr(revocations, "is_revoked", None))
    ):
        raise TypeError(
            "revocations must have an is_revoked(claims) method (a RevocationList), "
            f"not {type(revocations).__name__}"
        )
    return revocations  # type: ignore[return-value]  # checked above


def _revoked() -> InvalidClaimsError:
    return InvalidClaimsError("the token has been revoked", reason="revoked")


class Verifier:
    """The pipeline every verifier runs (see the module docstring).

    ``leeway``: seconds of grace on the clock checks; ``check``: the app's own rule, called
    last with the caller's copy of the claims (``None``: none). A profile sets both, and
    :attr:`alg`, and gives the methods below marked "a profile's". A profile that takes
    ``revocations=`` sets :attr:`revocations` too.
    """

    __slots__ = ("leeway", "check")

    #: A profile's: the JWS ``alg`` its tokens are signed with ...
    alg: ClassVar[str]
    #: ... and the memo they are remembered in.
    memo: ClassVar[VerificationMemo]
    leeway: float
    check: Optional[Check]
    #: Asked of each token that passed every other check but the app's (``None``: no list).
    revocations: Optional[Revocations] = None

    # -- what a profile adds ------------------------------------------------------------------

    def _read(self, token: object, trust: Any) -> Signed:
        """A profile's stages 1 and 2, before any key is fetched."""
        raise NotImplementedError

    def _typed_core(self, signed: Signed) -> Any:
        """A profile's stage 5: the claims every comparison reads, their types checked once
        (a signed token fixes them, so the memo keeps the result)."""
        raise NotImplementedError

    def _compare(self, core: Any, trust: Any, now: float) -> None:
        """A profile's stage 6: ``core`` against the clock and ``trust`` (its configuration)."""
        raise NotImplementedError

    def _check_asked(self, claims: Claims, core: Any, asked: Any) -> None:
        """A profile's stage 7: what this call asked for (``asked`` is never ``None`` here)."""
        raise NotImplementedError

    # -- the pipeline --------------------------------------------------------------------------

    def _verify_token(
        self, token: Any, trust: Any, cache: KeyCache, timeout: float, asked: Any
    ) -> Claims:
        """Every stage for ``token`` against ``trust``, whose keys ``cache`` holds: a token
        string the memo holds (while its key is still ``cache``'s current one) skips what the
        signed token fixes; every comparison runs either way."""
        memo = self.memo
        tail = None
        if type(token) is str and memo.maxsize > 0:
            tail = token[-TAIL:]
            entry = memo.find(token, tail, cache)
            if entry is not None:
                return self._settle(entry.claims, trust, asked, entry)
        signed = self._read(token, trust)
        return self._verify_signed(token, signed, trust, cache, timeout, asked, tail)

    def _verify_signed(
        self,
        token: str,
        signed: Signed,
        trust: Any,
        cache: KeyCache,
        timeout: float,
        asked: Any,
        tail: Optional[str],
    ) -> Claims:
        """Stages 3 (the key) and 4 (the signature) on, for a token that passed stages 1 and 2;
        ``tail``: its memo index when the memo is on (``None``: not to be remembered)."""
        key = cache.get_key(signed.kid, timeout)
        try:
            valid = key.verify(signed.signing_input, signed.signature)  # its alg fixed
        except Exception:  # a backend may refuse a malformed signature outright: never a verdict
            valid = False
        if not valid:
            raise InvalidSignatureError(
                f"the {self.alg} signature does not verify with key {signed.kid!r}"
            )
        keep = (token, key, cache, tail, signed.flat)
        return self._settle(signed.payload, trust, asked, None, signed, keep)

    def _settle(
        self,
        claims: Claims,
        trust: Any,
        asked: Any,
        entry: Optional[MemoEntry],
        signed: Optional[Signed] = None,
        keep: Any = None,
    ) -> Claims:
        """Stages 5 to 9 (the revocation list between 8 and 9) of a token whose signature
        verified: now (``signed``, and ``keep``, what remembering it takes: the token, its key
        and key cache, its memo index or ``None``, whether its claims are flat) or when its
        memo ``entry`` was made. Returns the caller's copy of the claims.

        The one place a rejection gets ``.claims`` (a copy of its own, unless the error
        already carries some).
        """
        try:
            if entry is not None:
                core = entry.core
            else:
                assert signed is not None  # one or the other
                core = self._typed_core(signed)
            self._compare(core, trust, time.time())
            if asked is not None:
                self._check_asked(claims, core, asked)
            if entry is not None:
                result = entry.copy_claims()
            else:  # stage 8: the memo takes the claims over, the caller gets a copy
                token, key, cache, tail, flat = keep
                result = claims
                if tail is not None:
                    result = self.memo.add(token, key, cache, claims, core, flat, tail)
            revocations = self.revocations
            if revocations is not None and revocations.is_revoked(result):
                raise _revoked()
            if self.check is not None:
                self._run_check(self.check, result)
            return result
        except TokenVerificationError as exc:
            if exc.claims is None:
                exc.claims = json_copy(claims)
            raise

    @staticmethod
    def _run_check(check: Check, claims: Claims) -> None:
        """Stage 9, the app's ``check``: ``None`` or ``True`` accepts; ``False`` (or an
        awaitable) refuses (:func:`refused_by_check`). A refusal it raises keeps its own
        ``reason``, else says ``"check"``; any other exception propagates as it is."""
        try:
            verdict = check(claims)
        except TokenVerificationError as exc:
            if "reason" not in vars(exc):
                exc.reason = "check"
            raise
        if verdict is not None and verdict is not True:
            raise refused_by_check(verdict)
