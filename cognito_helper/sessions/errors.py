"""What the sessions core raises, and what an integration answers for each.

==================================  ================================================
``CallbackError``                   the callback cannot complete a sign-in: answer 400;
                                    nothing was created (``reason`` says which step)
``SessionEndedError``               the session is over (refresh token expired or
                                    revoked, timed out, signed out): sign in again
``SessionStoreUnavailableError``    the session store (Redis) cannot be used: answer
                                    503 with ``Retry-After: retry_after``; never a
                                    sign-in loop
==================================  ================================================

No message holds a token, code, state, nonce, PKCE verifier or session id.
"""

from __future__ import annotations

from ..core.errors import CognitoConnectionError, CognitoError

__all__ = ["CallbackError", "SessionEndedError", "SessionStoreUnavailableError"]


class CallbackError(CognitoError):
    """The request to the callback cannot complete a sign-in; answer 400. Nothing was created.

    ``reason`` is one of ``"state"`` (no sign-in is pending under this id: unknown, already
    used or expired, or the ``state`` on the redirect is not this sign-in's), ``"denied"``
    (Cognito sent an ``error`` back instead of a code), ``"code"`` (no code, or Cognito
    refused it) and ``"tokens"`` (the tokens did not verify: nonce, ``at_hash``, signature).
    The message is safe to log; what is sent to the browser should be a plain sentence.
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class SessionEndedError(CognitoError):
    """The session is over: its refresh token is expired or revoked (``invalid_grant``), it
    timed out, or it was signed out. The session is deleted; send the user to sign in."""


class SessionStoreUnavailableError(CognitoConnectionError):
    """The session store (or revocation store) could not be used: answer 503 with a
    ``Retry-After`` of :attr:`retry_after` seconds. The message names the error's type only."""

    #: Seconds a client is asked to wait before trying again (``Retry-After``).
    retry_after: int = 5
