"""The hosted-UI URLs built from a :class:`~cognito_helper.config.CognitoConfig`.

The OAuth endpoints (:class:`Endpoint`), the sign-in URL (:func:`login_url`,
:func:`start_login` and the :class:`LoginRequest` it returns) and the sign-out URL
(:func:`logout_url`). CognitoConfig has them as its attributes and methods
(``config.token_url``, ``config.login_url(...)``), so this module only reads a config.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, Optional, Sequence, TypedDict, Union, overload
from urllib.parse import quote, urlencode

from ..core.arguments import nonempty_string, wrong_type
from ..core.errors import ConfigError, OverrideValueError
from . import fields as _fields
from .fields import scope_tuple
from .pkce import new_verifier, pkce_challenge, random_text
from .urls import check_resource

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .config import CognitoConfig

__all__ = [
    "Endpoint",
    "LoginOptions",
    "LoginRequest",
    "login_url",
    "logout_url",
    "redirect_uri_for",
    "start_login",
]

_S256_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class LoginRequest:
    """A sign-in about to start: send the user to ``url``; keep the rest server-side.

    ``state`` must be compared with the ``state`` on the redirect, ``nonce`` passed to
    :func:`decode_verify_jwt`, and ``code_verifier`` to :func:`get_cognito_tokens`.
    The verifier is kept out of ``repr()``.
    """

    url: str
    state: str
    nonce: str
    code_verifier: str = field(repr=False)


class Endpoint:
    """A hosted-UI endpoint of a :class:`CognitoConfig`, read as a ``str`` attribute.

    Its value is the config's :attr:`~CognitoConfig.base_url` followed by the endpoint's path,
    so reading it raises :class:`ConfigError` when no ``domain`` is set.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.__doc__ = f"``{{domain}}{path}``."

    @overload
    def __get__(self, config: None, owner: Any) -> Endpoint: ...

    @overload
    def __get__(self, config: CognitoConfig, owner: Any) -> str: ...

    def __get__(self, config: Optional[CognitoConfig], owner: Any) -> Union[Endpoint, str]:
        """The URL, read on a config; this descriptor, read on the class."""
        return self if config is None else config.base_url + self.path


class LoginOptions(TypedDict, total=False):
    """The keyword options of :meth:`CognitoConfig.login_url`, which ``start_login`` passes on."""

    redirect_uri: Optional[str]
    scopes: Optional[Sequence[str]]
    identity_provider: Optional[str]
    idp_identifier: Optional[str]
    login_hint: Optional[str]
    lang: Optional[str]
    prompt: Optional[str]
    resource: Optional[str]


def _override(name: str, value: object) -> str:
    """A URL given to a call in place of the config's ``name`` setting, held to its rule.

    A ``TypeError`` for a value that is not a string, and an :class:`OverrideValueError` (a
    ``ValueError``) for one the setting's rule refuses.
    """
    if not isinstance(value, str):
        raise wrong_type(name, value, "a string (an absolute URL)")
    try:
        return _fields.url(name, value, custom_scheme=True)
    except ConfigError as exc:
        raise OverrideValueError(str(exc)) from None


def redirect_uri_for(config: CognitoConfig, override: Optional[str]) -> str:
    """The callback URL of a sign-in or code exchange: ``override``, else the config's.

    ``override`` is held to the ``redirect_uri`` setting's rule (a ``ValueError`` if it breaks
    it, ``TypeError`` if it is no string). Raises :class:`ConfigError` when neither is set.
    """
    if override is not None:
        return _override("redirect_uri", override)
    if not config.redirect_uri:
        raise ConfigError(
            "redirect_uri is not set: give the app's registered callback URL (config key "
            "'redirect_uri' or COGNITO_REDIRECT_URI) or pass redirect_uri="
        )
    return config.redirect_uri


def login_url(
    config: CognitoConfig,
    *,
    state: Optional[str] = None,
    nonce: Optional[str] = None,
    code_challenge: Optional[str] = None,
    redirect_uri: Optional[str] = None,
    scopes: Optional[Sequence[str]] = None,
    identity_provider: Optional[str] = None,
    idp_identifier: Optional[str] = None,
    login_hint: Optional[str] = None,
    lang: Optional[str] = None,
    prompt: Optional[str] = None,
    resource: Optional[str] = None,
) -> str:
    """Return the ``/oauth2/authorize`` URL for the authorization-code flow.

    Every argument is keyword-only: ``state``, ``nonce`` and ``code_challenge`` are all
    strings, and none must land in another's place. ``code_challenge`` is an S256 PKCE
    challenge (see :func:`pkce_challenge`); Cognito supports no other method. Prefer
    :meth:`start_login`, which makes state, nonce and PKCE for you. Every value is
    percent-encoded; scopes are space-separated.

    ``resource`` (RFC 8707) binds the access token to one API, a resource server of the
    pool: Cognito puts it in the access token's ``aud``. It must be an absolute URI (see
    ``check_resource``), else a ``ValueError`` naming ``resource``.

    Every string given must be non-empty; ``redirect_uri`` is held to the setting's rule.
    An invalid value raises ``ValueError``, one of the wrong type ``TypeError``, naming it.
    """
    if resource is not None:
        check_resource("resource", resource)
    scope_list = config.scopes if scopes is None else scope_tuple(scopes)
    params: Dict[str, str] = {
        "response_type": "code",
        "client_id": _fields.app_client_id(config.client_id, "login_url"),
        "redirect_uri": redirect_uri_for(config, redirect_uri),
    }
    if scope_list:
        params["scope"] = " ".join(scope_list)
    optional = {
        "state": state,
        "nonce": nonce,
        "identity_provider": identity_provider,
        "idp_identifier": idp_identifier,
        "login_hint": login_hint,
        "lang": lang,
        "prompt": prompt,
    }
    for key, value in optional.items():
        if value is not None:
            params[key] = nonempty_string(key, value)
    if code_challenge is not None:
        if not isinstance(code_challenge, str):
            raise wrong_type("code_challenge", code_challenge, "a string")
        if not _S256_CHALLENGE.fullmatch(code_challenge):
            raise ValueError("code_challenge must be an S256 challenge (43 base64url chars)")
        params["code_challenge_method"] = "S256"
        params["code_challenge"] = code_challenge
    if resource is not None:
        params["resource"] = resource
    return config.authorize_url + "?" + urlencode(params, quote_via=quote)


def start_login(config: CognitoConfig, **options: Unpack[LoginOptions]) -> LoginRequest:
    """Begin a sign-in: fresh random ``state`` and ``nonce``, a PKCE verifier, and the URL.

    ``options`` are :meth:`login_url`'s keyword options (``redirect_uri``, ``scopes``,
    ``identity_provider``, ``idp_identifier``, ``login_hint``, ``lang``, ``prompt``,
    ``resource``), passed on as given. Each call draws 256 bits of randomness for state
    and nonce and an 86-character PKCE verifier (over 500 bits) from :mod:`secrets`; the
    verifier never starts with ``-``. The URL carries the S256 challenge. Keep the
    returned object in the server-side session and check ``state`` when the user comes
    back.
    """
    state = random_text(32)  # never starting with '-', as the verifier: `--nonce=` safe
    nonce = random_text(32)
    verifier = new_verifier()
    url = login_url(
        config, state=state, nonce=nonce, code_challenge=pkce_challenge(verifier), **options
    )
    return LoginRequest(url=url, state=state, nonce=nonce, code_verifier=verifier)


def logout_url(
    config: CognitoConfig,
    logout_uri: Optional[str] = None,
    *,
    login_redirect_uri: Optional[str] = None,
    state: Optional[str] = None,
) -> str:
    """Return the hosted-UI ``/logout`` URL.

    By default Cognito sends the user to ``logout_uri`` (or the config's), which must be a
    registered sign-out URL. With ``login_redirect_uri`` instead, Cognito signs the user out
    and shows sign-in again, returning to that (registered callback) URL. A URL given here is
    held to its setting's rule: ``ValueError`` if it breaks it, ``TypeError`` if it is no
    string; so is ``state``, which must be a non-empty string.
    """
    params: Dict[str, str] = {"client_id": _fields.app_client_id(config.client_id, "logout_url")}
    if login_redirect_uri is not None:
        if logout_uri is not None:
            raise ValueError("give logout_uri or login_redirect_uri, not both")
        params["response_type"] = "code"
        params["redirect_uri"] = redirect_uri_for(config, login_redirect_uri)
        if config.scopes:
            params["scope"] = " ".join(config.scopes)
    else:
        if logout_uri is not None:
            params["logout_uri"] = _override("logout_uri", logout_uri)
        elif config.logout_uri:
            params["logout_uri"] = config.logout_uri
        else:
            raise ConfigError(
                "logout_uri is not set: give a registered sign-out URL (config key "
                "'logout_uri' or COGNITO_LOGOUT_URI) or pass logout_uri="
            )
    if state is not None:
        params["state"] = nonempty_string("state", state)
    return config.base_url + "/logout?" + urlencode(params, quote_via=quote)
