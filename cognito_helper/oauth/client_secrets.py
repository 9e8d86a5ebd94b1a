"""Which of an app client's two secrets works: the process's memory of a secret rotation.

Cognito lets an app client have two secrets at once (``AddUserPoolClientSecret``), so that a
new one can be deployed before the old one is deleted (``DeleteUserPoolClientSecret``). A
config may list both (``client_secret=[first, second]``): the first is sent. When Cognito
refuses it with ``invalid_client`` and then accepts the other one, :func:`note_working`
records that, and :func:`secrets_to_try` puts the working one first from then on, for every
config of that app client with those secrets (they are one entry: a digest of the client id
and both secrets, never the secrets themselves), with one warning that names the stale one
by its place in the configuration, never by its value.

Thread safety: readers take no lock (a dict read); a switch is a compare-and-set under a
lock, so that threads that found the same answer at once switch, and warn, once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from typing import Dict, Tuple

from ..settings.config import CognitoConfig

__all__ = ["forget_working_secrets", "note_working", "secrets_to_try"]

log = logging.getLogger("cognito_helper")

#: How many app clients' switches are remembered (the oldest is forgotten past it: its
#: config then tries its first secret once more, and switches again).
MAX_REMEMBERED = 256

# digest of (client id, secrets) -> the index of the secret that works, when it is not 0.
_working: Dict[str, int] = {}
_lock = threading.Lock()
_PLACES = ("first", "second")


def _entry(config: CognitoConfig) -> str:
    material = [str(config.client_id), list(config.client_secrets)]
    return hashlib.sha256(json.dumps(material).encode("utf-8")).hexdigest()


def secrets_to_try(config: CognitoConfig) -> Tuple[str, ...]:
    """The config's client secrets in the order to send them: the one known to work first.

    Empty for a public client; one secret as configured; two in the configured order until
    :func:`note_working` saw the second work.
    """
    secrets = config.client_secrets
    if len(secrets) < 2 or _working.get(_entry(config), 0) == 0:
        return secrets
    return secrets[::-1]


def note_working(config: CognitoConfig, secret: str) -> None:
    """Cognito accepted ``secret`` after refusing the other one: use it from now on.

    Logs one warning, naming the app client and the stale secret's place (first or second),
    when this call is the one that switches.
    """
    secrets = config.client_secrets
    if len(secrets) < 2 or secret not in secrets:
        return
    index = secrets.index(secret)
    entry = _entry(config)
    with _lock:
        if _working.get(entry, 0) == index:
            return  # another thread switched already
        _working.pop(entry, None)
        if index:
            _working[entry] = index
            while len(_working) > MAX_REMEMBERED:
                del _working[next(iter(_working))]
    stale, fresh = _PLACES[1 - index], _PLACES[index]
    log.warning(
        "Cognito refused the %s client secret configured for app client %s (invalid_client) "
        "and accepted the %s: the %s secret is stale (deleted or rotated away), and the %s "
        "is used from now on. Remove the stale one from the configuration.",
        stale,
        config.client_id,
        fresh,
        stale,
        fresh,
    )


def forget_working_secrets() -> None:
    """Forget every switch: each config sends its first secret first again
    (``cognito_helper.testing.reset()`` calls it)."""
    with _lock:
        _working.clear()
