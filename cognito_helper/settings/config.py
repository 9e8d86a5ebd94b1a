"""What the user configures, and the hosted-UI URLs built from it.

:class:`CognitoConfig` holds one app client of one user pool. Every public function of the
package takes ``config=``; when it is omitted the process default set by :func:`configure` is
used, or one read from the ``COGNITO_*`` environment variables (:data:`ENV_NAMES`). The rule
for each field is in :mod:`cognito_helper.settings.fields`, the URL rules in
:mod:`cognito_helper.settings.urls`, reading the variables in :mod:`cognito_helper.settings.env`
and reading
a config file in :mod:`cognito_helper.settings.file`.
"""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import MISSING, dataclass, field, fields
from typing import (
    TYPE_CHECKING,
    Any,
    Dict,
    Iterable,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    TypedDict,
    TypeVar,
    Union,
    overload,
)
from urllib.parse import quote, urlencode

from ..core.errors import ConfigError
from ..core.redaction import repr_hiding_secrets
from . import env as _env
from . import fields as _fields
from .env import ENV_LISTS, ENV_NAMES, UnknownVariableWarning
from .pkce import new_verifier, pkce_challenge, random_text
from .urls import check_resource

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "ENV_LISTS",
    "ENV_NAMES",
    "CognitoConfig",
    "LoginRequest",
    "UnknownVariableWarning",
    "configure",
    "get_config",
    "pkce_challenge",
]

DEFAULT_SCOPES: Tuple[str, ...] = ("openid", "email", "profile")
DEFAULT_TIMEOUT = 10.0

_C = TypeVar("_C")


def scope_tuple(scopes: Union[str, Iterable[str]]) -> Tuple[str, ...]:
    """Scopes given as a space-separated string or a list, as a tuple.

    Raises ``ValueError`` for anything else, for an empty or space-holding entry, and for a
    comma-separated ``"openid,email"`` (scopes are space-separated).
    """
    return _fields.checked_scopes(scopes, ValueError)


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


class _Endpoint:
    """A hosted-UI endpoint of a :class:`CognitoConfig`, read as a ``str`` attribute.

    Its value is the config's :attr:`~CognitoConfig.base_url` followed by the endpoint's path,
    so reading it raises :class:`ConfigError` when no ``domain`` is set.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.__doc__ = f"``{{domain}}{path}``."

    @overload
    def __get__(self, config: None, owner: Any) -> _Endpoint: ...

    @overload
    def __get__(self, config: CognitoConfig, owner: Any) -> str: ...

    def __get__(self, config: Optional[CognitoConfig], owner: Any) -> Union[_Endpoint, str]:
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


def _keyword_arguments_only(cls: type[_C]) -> type[_C]:
    """Give a positional call of the dataclass ``cls`` a ``TypeError`` that says why.

    Python's own ("takes 1 positional argument but 3 were given") puzzles a reader whose
    call matches the signature shown. This wraps the ``__init__`` that
    ``dataclass(kw_only=True)`` generated; ``inspect.signature`` follows the wrapper to it.
    """
    init = cls.__init__
    required = ", ".join(
        f"{f.name}=..."
        for f in fields(cls)  # type: ignore[arg-type]
        if f.default is MISSING and f.default_factory is MISSING
    )

    @functools.wraps(init)
    def keywords_only(self: _C, *args: Any, **kwargs: Any) -> None:
        if args:
            raise TypeError(
                f"{cls.__name__} takes keyword arguments only, got {len(args)} positional "
                f"argument(s): write {cls.__name__}({required}, ...) so that no value lands "
                "in the wrong field"
            )
        init(self, **kwargs)

    setattr(cls, "__init__", keywords_only)  # noqa: B010 - mypy refuses a method assignment
    return cls


@_keyword_arguments_only
@dataclass(frozen=True, kw_only=True, repr=False)
class CognitoConfig:
    """One app client of one Cognito user pool, validated on construction.

    Every argument is keyword-only (``CognitoConfig(user_pool_id=..., client_id=...)``), so
    no value can land in the wrong field. Every field is checked when the object is built and
    :class:`ConfigError` names the one that is wrong. ``region`` is the pool id's region (it
    may be given, but must agree with it); ``issuer`` defaults to the ORIGINAL issuer form
    ``https://cognito-idp.{region}.amazonaws.com/{pool}`` (a string, or a sequence of accepted
    issuers, e.g. during a switch to the UPDATED form); ``jwks_url`` to the pool's AWS JWKS
    URL. After construction ``domain`` holds the hosted-UI base URL, ``issuer`` the accepted
    issuer (or a tuple of them) and ``jwks_url`` the URL keys are fetched from. ``repr()`` and
    ``str()`` never show the client secret. ``timeout`` bounds each HTTP call to Cognito, in
    seconds, from connect to the last byte. It is a frozen dataclass: ``dataclasses.replace``
    builds a validated copy. ``client_id=ANY_APP_CLIENT`` trusts every app client of the pool
    when verifying tokens; such a config has no secret and builds no URL or token request.
    """

    user_pool_id: str
    client_id: Union[str, _fields.AnyAppClient]
    region: Optional[str] = None
    client_secret: Optional[str] = field(default=None, repr=False)  # a secret: see __repr__
    domain: Optional[str] = None
    redirect_uri: Optional[str] = None
    logout_uri: Optional[str] = None
    scopes: Union[Tuple[str, ...], Sequence[str], str] = DEFAULT_SCOPES
    issuer: Union[str, Sequence[str], None] = None
    jwks_url: Optional[str] = None
    timeout: float = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        """Check every field and store it in its normal form (see the class docstring).

        Fields are checked in declaration order, so the first wrong one is the one named.
        """
        pool, pool_region = _fields.user_pool_id(self.user_pool_id)
        client_id = _fields.client_id(self.client_id)
        region = _fields.region(self.region, pool, pool_region)
        checked = {
            "user_pool_id": pool,
            "client_id": client_id,
            "region": region,
            "client_secret": _fields.client_secret(self.client_secret, client_id),
            "domain": _fields.domain(self.domain, region),
            "redirect_uri": _fields.callback_url("redirect_uri", self.redirect_uri),
            "logout_uri": _fields.callback_url("logout_uri", self.logout_uri),
            "scopes": _fields.scopes(self.scopes, DEFAULT_SCOPES),
            "issuer": _fields.issuer(self.issuer, pool, pool_region),
            "jwks_url": _fields.jwks_url(self.jwks_url, pool, pool_region),
            "timeout": _fields.timeout(self.timeout),
        }
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    #: Every field, in order; ``client_secret`` only as set (``'***'``) or ``None``.
    __repr__ = repr_hiding_secrets

    # -- derived values -------------------------------------------------------------------

    @property
    def issuers(self) -> Tuple[str, ...]:
        """Every accepted ``iss`` value, as a tuple."""
        issuer = self.issuer
        return (issuer,) if isinstance(issuer, str) else tuple(issuer or ())

    @property
    def base_url(self) -> str:
        """The hosted-UI base URL; raises :class:`ConfigError` when no ``domain`` is set."""
        if not self.domain:
            raise ConfigError(
                "domain is not set: give the hosted-UI domain prefix ('my-app'), custom "
                "host ('auth.example.com') or URL (config key 'domain' or COGNITO_DOMAIN)"
            )
        return self.domain

    token_url = _Endpoint("/oauth2/token")
    authorize_url = _Endpoint("/oauth2/authorize")
    revoke_url = _Endpoint("/oauth2/revoke")
    userinfo_url = _Endpoint("/oauth2/userInfo")

    def _redirect_uri(self, override: Optional[str]) -> str:
        if override is not None:
            return _fields.url("redirect_uri", override, custom_scheme=True)
        if not self.redirect_uri:
            raise ConfigError(
                "redirect_uri is not set: give the app's registered callback URL (config key "
                "'redirect_uri' or COGNITO_REDIRECT_URI) or pass redirect_uri="
            )
        return self.redirect_uri

    # -- hosted-UI URLs -------------------------------------------------------------------

    def login_url(
        self,
        state: Optional[str] = None,
        nonce: Optional[str] = None,
        code_challenge: Optional[str] = None,
        *,
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

        ``code_challenge`` is an S256 PKCE challenge (see :func:`pkce_challenge`); Cognito
        supports no other method. Prefer :meth:`start_login`, which makes state, nonce and
        PKCE for you. Every value is percent-encoded; scopes are space-separated.

        ``resource`` (RFC 8707) binds the access token to one API, a resource server of the
        pool: Cognito puts it in the access token's ``aud``. It must be an absolute URI (see
        ``_urls.check_resource``), else a ``ValueError`` naming ``resource``.
        """
        if resource is not None:
            check_resource("resource", resource)
        scope_list = self.scopes if scopes is None else scope_tuple(scopes)
        params: Dict[str, str] = {
            "response_type": "code",
            "client_id": _fields.app_client_id(self.client_id, "login_url"),
            "redirect_uri": self._redirect_uri(redirect_uri),
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
                if not isinstance(value, str) or not value:
                    raise ValueError(f"{key} must be a non-empty string")
                params[key] = value
        if code_challenge is not None:
            if not isinstance(code_challenge, str) or not re.fullmatch(
                r"[A-Za-z0-9_-]{43}", code_challenge
            ):
                raise ValueError("code_challenge must be an S256 challenge (43 base64url chars)")
            params["code_challenge_method"] = "S256"
            params["code_challenge"] = code_challenge
        if resource is not None:
            params["resource"] = resource
        return self.authorize_url + "?" + urlencode(params, quote_via=quote)

    def start_login(self, **options: Unpack[LoginOptions]) -> LoginRequest:
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
        url = self.login_url(state, nonce, pkce_challenge(verifier), **options)
        return LoginRequest(url=url, state=state, nonce=nonce, code_verifier=verifier)

    def logout_url(
        self,
        logout_uri: Optional[str] = None,
        *,
        login_redirect_uri: Optional[str] = None,
        state: Optional[str] = None,
    ) -> str:
        """Return the hosted-UI ``/logout`` URL.

        By default Cognito sends the user to ``logout_uri`` (or the config's), which must be a
        registered sign-out URL. With ``login_redirect_uri`` instead, Cognito signs the user out
        and shows sign-in again, returning to that (registered callback) URL.
        """
        params: Dict[str, str] = {"client_id": _fields.app_client_id(self.client_id, "logout_url")}
        if login_redirect_uri is not None:
            if logout_uri is not None:
                raise ValueError("give logout_uri or login_redirect_uri, not both")
            params["response_type"] = "code"
            params["redirect_uri"] = self._redirect_uri(login_redirect_uri)
            if self.scopes:
                params["scope"] = " ".join(self.scopes)
        else:
            target = logout_uri if logout_uri is not None else self.logout_uri
            if not target:
                raise ConfigError(
                    "logout_uri is not set: give a registered sign-out URL (config key "
                    "'logout_uri' or COGNITO_LOGOUT_URI) or pass logout_uri="
                )
            params["logout_uri"] = _fields.url("logout_uri", target, custom_scheme=True)
        if state is not None:
            params["state"] = state
        return self.base_url + "/logout?" + urlencode(params, quote_via=quote)

    # -- other constructors ---------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CognitoConfig:
        """Build a config from a dict such as the ``cognito_config`` of ``config.example.py``.

        Keys are the constructor's keywords (``region``, ``domain``, ``client_id``,
        ``client_secret``, ``user_pool_id``, ``redirect_uri``, ...). An unknown key is a
        :class:`ConfigError` naming the known key it most likely misspells, so a typo cannot
        silently drop a setting.
        """
        if not isinstance(data, Mapping):
            raise ConfigError(f"expected a dict of settings, got {type(data).__name__}")
        problem = _fields.unknown_keys(data, cls.__dataclass_fields__)
        if problem is not None:
            raise ConfigError(problem)
        for required in ("user_pool_id", "client_id"):
            value = data.get(required)
            if value is None or (isinstance(value, str) and not value.strip()):
                raise ConfigError(f"config key {required!r} is required")
        return cls(**dict(data))

    @classmethod
    def from_env(
        cls, environ: Optional[Mapping[str, str]] = None, *, otherwise: Optional[str] = None
    ) -> CognitoConfig:
        """Build a config from the ``COGNITO_*`` environment variables (see :data:`ENV_NAMES`).

        ``COGNITO_USER_POOL_ID`` and ``COGNITO_CLIENT_ID`` are required; ``COGNITO_SCOPES`` and
        ``COGNITO_ISSUER`` are space-separated lists; a blank variable counts as unset.
        ``environ`` defaults to ``os.environ``. Raises :class:`ConfigError` naming the
        variable to fix; when the required ones are unset, the message ends with
        ``otherwise``, the other ways to configure (by default :func:`configure` and
        ``config=``).
        """
        kwargs = _env.settings(environ, otherwise or _env.CONFIGURE_IN_CODE)
        try:
            return cls(**kwargs)
        except ConfigError as exc:
            raise _env.naming_the_variable(exc) from None

    @classmethod
    def from_file(cls, path: str) -> CognitoConfig:
        """Build a config from a Python file that defines ``cognito_config``.

        The file is a copy of ``config.example.py``: it is run as Python, and its
        ``cognito_config`` (a settings dict, see :meth:`from_dict`, or a CognitoConfig) is
        used. Raises :class:`ConfigError`, naming the file, when it is missing, fails to run,
        or defines no valid ``cognito_config``.
        """
        from .file import ConfigFile  # imported here: it builds on this module

        return ConfigFile.read(path).config()


# -- the process default -----------------------------------------------------------------

_default_lock = threading.Lock()
_default: Optional[CognitoConfig] = None
_env_config: Optional[CognitoConfig] = None  # read from the environment once


@overload
def configure(config: Union[CognitoConfig, Mapping[str, Any]]) -> CognitoConfig: ...


@overload
def configure(config: None) -> None: ...


def configure(config: Union[CognitoConfig, Mapping[str, Any], None]) -> Optional[CognitoConfig]:
    """Set the process-wide default config used when a function's ``config=`` is omitted.

    Accepts a :class:`CognitoConfig` or a settings dict (see :meth:`CognitoConfig.from_dict`)
    and returns the config now in force. ``configure(None)`` clears it, and also the config
    read from the ``COGNITO_*`` variables, which are then read again on the next call.
    Safe to call from any thread; calls already running keep the
    config they started with.
    """
    global _default, _env_config
    if config is None:
        new: Optional[CognitoConfig] = None
    elif isinstance(config, CognitoConfig):
        new = config
    else:
        new = CognitoConfig.from_dict(config)
    with _default_lock:
        _default = new
        if new is None:
            _env_config = None
    return new


def get_config(config: Optional[CognitoConfig] = None) -> CognitoConfig:
    """Return ``config`` if given, else the :func:`configure` default, else one from the env.

    The ``COGNITO_*`` variables are read once, on the first call that needs them (reading
    them costs several times a remembered verification); ``configure(None)`` re-reads them.
    Raises :class:`ConfigError` saying how to configure when none of them is available.
    """
    global _env_config
    if config is not None:
        if not isinstance(config, CognitoConfig):
            raise ConfigError(f"config must be a CognitoConfig, got {type(config).__name__}")
        return config
    default = _default
    if default is not None:
        return default
    from_env = _env_config
    if from_env is not None:
        return from_env
    from_env = CognitoConfig.from_env()
    _env_config = from_env
    return from_env
