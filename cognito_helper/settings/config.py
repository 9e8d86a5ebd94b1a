"""What the user configures: :class:`CognitoConfig`, one app client of one user pool.

Every public function of the package takes ``config=``; when it is omitted the process
default is used (:mod:`cognito_helper.settings.default`). The rule for each field is in
:mod:`cognito_helper.settings.fields`, the URL rules in :mod:`cognito_helper.settings.urls`,
reading the ``COGNITO_*`` variables in :mod:`cognito_helper.settings.env` and reading a config
file in :mod:`cognito_helper.settings.file`. The hosted-UI URLs a config builds (its endpoint
attributes and its ``login_url``, ``start_login`` and ``logout_url`` methods) are in
:mod:`cognito_helper.settings.hosted_ui`.
"""

from __future__ import annotations

import functools
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, ClassVar, Dict, Mapping, Optional, Sequence, Tuple, TypeVar, Union

from ..core.errors import ConfigError
from ..core.redaction import repr_hiding_secrets
from . import env as _env
from . import fields as _fields
from . import hosted_ui as _hosted_ui
from . import issuers as _issuers

__all__ = ["DEFAULT_SCOPES", "DEFAULT_TIMEOUT", "CognitoConfig"]

DEFAULT_SCOPES: Tuple[str, ...] = ("openid", "email", "profile")
DEFAULT_TIMEOUT = 10.0

_C = TypeVar("_C")


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
    may be given, but must agree with it). Without ``issuer`` the config trusts both issuer
    forms of the pool, ORIGINAL ``https://cognito-idp.{region}.amazonaws.com/{pool}`` and
    UPDATED ``https://issuer-cognito-idp.{region}.amazonaws.com/{pool}``, and the ORIGINAL
    form of each of ``replica_regions``, each with its own ``{issuer}/.well-known/jwks.json``
    (or every one with ``jwks_url`` when given); ``issuer`` (a string or a sequence) pins
    exactly the issuers given (see :mod:`cognito_helper.settings.issuers`). After
    construction ``domain`` holds the hosted-UI base URL, ``issuer`` the ORIGINAL form or the
    pinned issuer (or a tuple of them), :attr:`issuers` every trusted issuer and ``jwks_url``
    the ORIGINAL form's (or the first pinned issuer's, or the given) key set URL. ``repr()`` and
    ``str()`` never show the client secret. ``timeout`` bounds each HTTP call to Cognito, in
    seconds, from connect to the last byte. It is a frozen dataclass: ``dataclasses.replace``
    builds a validated copy. ``client_id=ANY_APP_CLIENT`` trusts every app client of the pool
    when verifying tokens; such a config has no secret and builds no URL or token request.

    ``client_secret`` may list two secrets (``[current, next]``), as Cognito allows while one
    is rotated: the first is sent, and on ``invalid_client`` the other (see the README, "Two
    client secrets"); ``repr()`` and ``str()`` show neither.
    """

    user_pool_id: str
    client_id: Union[str, _fields.AnyAppClient]
    region: Optional[str] = None
    # A secret, or two (Cognito's rotation): see __repr__ and the class docstring.
    client_secret: Union[str, Sequence[str], None] = field(default=None, repr=False)
    domain: Optional[str] = None
    redirect_uri: Optional[str] = None
    logout_uri: Optional[str] = None
    scopes: Union[Tuple[str, ...], Sequence[str], str] = DEFAULT_SCOPES
    issuer: Union[str, Sequence[str], None] = None
    jwks_url: Optional[str] = None
    timeout: float = DEFAULT_TIMEOUT
    replica_regions: Union[Tuple[str, ...], Sequence[str], str] = ()

    # Each trusted issuer and the URL of its keys, set by __post_init__ (not a field).
    _trust: ClassVar[Dict[str, str]]
    _issuers: ClassVar[Tuple[str, ...]]

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
            "issuer": (issuer := _issuers.issuer(self.issuer, pool, pool_region)),
            "jwks_url": (jwks := _issuers.jwks_url(self.jwks_url, pool, pool_region, issuer)),
            "timeout": _fields.timeout(self.timeout),
            "replica_regions": (
                replicas := _issuers.replica_regions(self.replica_regions, pool_region)
            ),
        }
        trust = _issuers.key_urls(issuer, jwks, pool, region, replicas)
        for name, value in checked.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_trust", trust)
        object.__setattr__(self, "_issuers", tuple(trust))

    #: Every field, in order; ``client_secret`` only as set (``'***'``) or ``None``.
    __repr__ = repr_hiding_secrets

    # -- derived values -------------------------------------------------------------------

    @property
    def issuers(self) -> Tuple[str, ...]:
        """Every trusted ``iss`` value, as a tuple: the ``issuer=`` given, else the pool's
        ORIGINAL and UPDATED forms and the ORIGINAL form of each replica region."""
        return self._issuers

    def jwks_url_for(self, iss: str) -> Optional[str]:
        """The URL of the keys of ``iss``, one of :attr:`issuers`; ``None`` for another."""
        return self._trust.get(iss)

    @property
    def client_secrets(self) -> Tuple[str, ...]:
        """Every configured client secret, in order, as a tuple (empty for a public client)."""
        return _fields.client_secret_tuple(self.client_secret)

    @property
    def base_url(self) -> str:
        """The hosted-UI base URL; raises :class:`ConfigError` when no ``domain`` is set."""
        if not self.domain:
            raise ConfigError(
                "domain is not set: give the hosted-UI domain prefix ('my-app'), custom "
                "host ('auth.example.com') or URL (config key 'domain' or COGNITO_DOMAIN)"
            )
        return self.domain

    # -- the hosted-UI URLs, built in settings/hosted_ui.py ---------------------------------

    token_url = _hosted_ui.Endpoint("/oauth2/token")
    authorize_url = _hosted_ui.Endpoint("/oauth2/authorize")
    revoke_url = _hosted_ui.Endpoint("/oauth2/revoke")
    userinfo_url = _hosted_ui.Endpoint("/oauth2/userInfo")
    login_url = _hosted_ui.login_url
    start_login = _hosted_ui.start_login
    logout_url = _hosted_ui.logout_url

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
        ``COGNITO_ISSUER`` are space-separated lists; ``COGNITO_CLIENT_SECRET`` holds one
        secret, or two separated by a comma; a blank variable counts as unset.
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
    def from_discovery(
        cls,
        url: str,
        *,
        client_id: Union[str, _fields.AnyAppClient],
        client_secret: Union[str, Sequence[str], None] = None,
        redirect_uri: Optional[str] = None,
        logout_uri: Optional[str] = None,
        scopes: Union[Tuple[str, ...], Sequence[str], str] = DEFAULT_SCOPES,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> CognitoConfig:
        """Build a config from the pool's OpenID configuration, read once from ``url``.

        ``url`` is the pool's issuer (``https://cognito-idp.{region}.amazonaws.com/{pool}``)
        or its document's URL (the issuer followed by ``/.well-known/openid-configuration``).
        The document gives the pool id, the hosted-UI domain, and the issuer and JWKS URL
        when they are not the pool's defaults; the other arguments are the constructor's.
        ``timeout`` bounds the request too. Raises :class:`ConfigError` for a document that
        cannot be read (unreachable, larger than
        :data:`~cognito_helper.settings.discovery.MAX_DISCOVERY_BYTES`, slower than
        ``timeout``, not a JSON object), that names another issuer, that lists an endpoint
        which is not https (loopback aside) or not where this library sends its requests, or
        that lacks a required field. See :mod:`cognito_helper.settings.discovery`.
        """
        from .discovery import discover  # imported here: it builds on this module

        found = discover(url, timeout=_fields.timeout(timeout))
        return cls(
            **found,
            client_id=client_id,
            client_secret=client_secret,
            redirect_uri=redirect_uri,
            logout_uri=logout_uri,
            scopes=scopes,
            timeout=timeout,
        )

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
