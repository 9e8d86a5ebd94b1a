"""What a LocalCognito user pool holds: app clients, users, and what each sign-in granted
(authorization codes, refresh tokens and their revocation). Safe to use from several threads."""

from __future__ import annotations

import re
import secrets
import threading
import uuid
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Set, Tuple, TypeVar

from ..settings.urls import check_resource

_T = TypeVar("_T")


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secrets: Tuple[str, ...] = field(repr=False)  # none for a public client; at most 2
    redirect_uris: Tuple[str, ...]
    logout_uris: Tuple[str, ...]
    scopes: Tuple[str, ...]  # granted when the authorize request names none
    resources: Tuple[str, ...] = ()  # what its ``resource`` parameter may name (RFC 8707)

    @property
    def confidential(self) -> bool:
        """Whether the client has a secret (and must authenticate with it)."""
        return bool(self.client_secrets)

    def resource_refusal(self, resource: str) -> Optional[str]:
        """Why this client may not bind a token to ``resource``, or ``None`` when it may."""
        try:
            check_resource("resource", resource)
        except ValueError:
            return "resource must be an absolute URI without a fragment"
        if resource not in self.resources:
            return "resource is not a resource server this app client may request"
        return None


@dataclass(frozen=True)
class User:
    username: str
    password: str = field(repr=False)
    attributes: Dict[str, str]  # as Cognito stores them: every value a string; has "sub"
    groups: Tuple[str, ...]


@dataclass(frozen=True)
class Grant:
    """What one sign-in granted; shared by its code, its refresh tokens and their tokens."""

    client_id: str
    username: str
    scopes: Tuple[str, ...]
    auth_time: int
    origin_jti: str
    resource: Optional[str] = None  # the access tokens' ``aud`` when bound to one API


@dataclass(frozen=True)
class AuthCode:
    grant: Grant
    redirect_uri: str
    nonce: Optional[str]
    code_challenge: Optional[str]
    expires_at: int


@dataclass
class RefreshToken:
    grant: Grant
    expires_at: int  # lowered to the end of the grace period when rotated away


# AddUserPoolClientSecret's ClientSecret: 24 to 64 characters of [\w+] (ASCII).
_SECRET = re.compile(r"[A-Za-z0-9_+]{24,64}")
#: How many secrets an app client may have at once.
MAX_SECRETS = 2


def with_secret_added(client: Client, chosen: Optional[str]) -> Tuple[str, ...]:
    """The client's secrets with ``chosen`` (or a new random one) added, as
    ``AddUserPoolClientSecret`` allows: a confidential client, at most two secrets."""
    if not client.confidential:
        raise ValueError(
            f"app client {client.client_id!r} is public: only a confidential app client (one "
            "with a secret) gets another secret"
        )
    if len(client.client_secrets) >= MAX_SECRETS:
        raise ValueError(
            f"app client {client.client_id!r} has two secrets already: delete one first"
        )
    secret = secrets.token_hex(26) if chosen is None else chosen
    if not isinstance(secret, str) or not _SECRET.fullmatch(secret):
        raise ValueError("a client secret must be 24 to 64 letters, digits, '_' or '+'")
    if secret in client.client_secrets:
        raise ValueError(f"app client {client.client_id!r} has that secret already")
    return (*client.client_secrets, secret)


def with_secret_deleted(client: Client, secret: str) -> Tuple[str, ...]:
    """The client's secrets without ``secret``, as ``DeleteUserPoolClientSecret`` allows:
    never the last one."""
    if secret not in client.client_secrets:
        raise ValueError(f"that is not a secret of app client {client.client_id!r}")
    if len(client.client_secrets) == 1:
        raise ValueError(
            f"that is the last secret of app client {client.client_id!r}: Cognito keeps it "
            "(add another one first)"
        )
    return tuple(s for s in client.client_secrets if s != secret)


def _attribute_string(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int)):
        return str(value)
    raise TypeError(f"attribute {name!r} must be a str, int or bool, got {type(value).__name__}")


def new_user(
    username: str, password: str, groups: Optional[Sequence[str]], attributes: Mapping[str, Any]
) -> User:
    """A user as Cognito stores one; see :meth:`LocalCognito.add_user` for the rules."""
    if not isinstance(username, str) or not username:
        raise ValueError("username must be a non-empty string")
    if not isinstance(password, str) or not password:
        raise ValueError("password must be a non-empty string")
    if isinstance(groups, str):
        raise TypeError("groups must be a sequence of group names, not one string")
    stored = {"sub": str(uuid.uuid4())}
    if "email" in attributes:
        stored["email_verified"] = "true"
    for name, value in attributes.items():
        stored[name] = _attribute_string(name, value)
    return User(username, password, stored, tuple(str(g) for g in groups or ()))


def _synthetic_user() -> User:
    """Who :meth:`LocalCognito.mint` issues tokens to; nobody can sign in as them."""
    attributes = {
        "sub": str(uuid.uuid4()),
        "email": "local-user@example.com",
        "email_verified": "true",
    }
    return User("local-user", secrets.token_urlsafe(32), attributes, groups=())


class Store:
    """The pool's clients, users, codes, refresh tokens and revoked sign-ins."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: Dict[str, Client] = {}
        self._users: Dict[str, User] = {}
        self._codes: Dict[str, AuthCode] = {}
        self._refresh_tokens: Dict[str, RefreshToken] = {}
        self._revoked_origins: Set[str] = set()
        self.synthetic_user = _synthetic_user()

    def add_client(self, client: Client) -> None:
        """Raises ``ValueError`` if the id is taken."""
        self._add(self._clients, client.client_id, client, "app client")

    def client(self, client_id: Optional[str]) -> Optional[Client]:
        with self._lock:
            return self._clients.get(client_id or "")

    def change_secrets(self, client_id: str, change: Callable[[Client], Tuple[str, ...]]) -> None:
        """Give the client the secrets ``change(client)`` returns, atomically.

        Raises ``ValueError`` when there is no such client, and what ``change`` raises.
        """
        with self._lock:
            client = self._clients.get(client_id)
            if client is None:
                raise ValueError(f"LocalCognito has no app client {client_id!r}")
            self._clients[client_id] = replace(client, client_secrets=change(client))

    def add_user(self, user: User) -> None:
        """Raises ``ValueError`` if the username is taken."""
        self._add(self._users, user.username, user, "user")

    def user(self, username: Optional[str]) -> Optional[User]:
        """The user called ``username``; the synthetic user too, so minted tokens work."""
        with self._lock:
            user = self._users.get(username or "")
        if user is None and username == self.synthetic_user.username:
            return self.synthetic_user
        return user

    def _add(self, table: Dict[str, _T], name: str, value: _T, what: str) -> None:
        with self._lock:
            if name in table:
                raise ValueError(f"{what} {name!r} already exists")
            table[name] = value

    def add_code(self, code: str, record: AuthCode, now: int) -> None:
        """Keep ``record`` under ``code``, dropping the codes that have expired by ``now``."""
        with self._lock:
            self._codes = {c: r for c, r in self._codes.items() if r.expires_at > now}
            self._codes[code] = record

    def take_code(self, code: str) -> Optional[AuthCode]:
        """The record of ``code``, which its first use consumes, even a failed one."""
        with self._lock:
            return self._codes.pop(code, None)

    def add_refresh_token(self, token: str, record: RefreshToken) -> None:
        with self._lock:
            self._refresh_tokens[token] = record

    def use_refresh_token(
        self, token: str, client_id: str, now: int, *, rotate_within: Optional[int]
    ) -> Optional[Grant]:
        """The grant of a live, unrevoked refresh token of ``client_id``, else ``None``.

        With ``rotate_within`` (seconds) the token is being rotated away: it dies that long
        after ``now``, or sooner if it was to expire before.
        """
        with self._lock:
            record = self._refresh_tokens.get(token)
            if (
                record is None
                or record.grant.client_id != client_id
                or record.expires_at <= now
                or record.grant.origin_jti in self._revoked_origins
            ):
                return None
            if rotate_within is not None:
                record.expires_at = min(record.expires_at, now + rotate_within)
            return record.grant

    def revoke(self, token: str, client_id: str) -> bool:
        """Revoke a refresh token of ``client_id`` and every token of its sign-in.

        An unknown token is not an error (Cognito answers 200); ``False`` means the token was
        issued to another client and is left alone.
        """
        with self._lock:
            record = self._refresh_tokens.get(token)
            if record is None:
                return True
            if record.grant.client_id != client_id:
                return False
            # kills the refresh token, its rotations and every access token from them
            self._revoked_origins.add(record.grant.origin_jti)
            return True

    def is_revoked(self, origin_jti: Any) -> bool:
        """Whether the sign-in with this ``origin_jti`` has been revoked."""
        with self._lock:
            return isinstance(origin_jti, str) and origin_jti in self._revoked_origins
