"""Django REST framework guard: the :class:`CognitoAuthentication` class and permissions.

Install the extra from the checkout (``pip install ".[django]"``), then::

    REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": ["cognito_helper.django.CognitoAuthentication"],
        "DEFAULT_PERMISSION_CLASSES": ["cognito_helper.django.IsCognitoAuthenticated"],
    }
    COGNITO = {"user_pool_id": "us-east-1_AbC123", "client_id": "1example23456789"}

    class Orders(APIView):
        permission_classes = [HasScopes]
        required_scopes = ["orders/read"]          # the token must hold at least one

        def get(self, request):
            return Response({"sub": request.user.sub, "scope": request.auth["scope"]})

Every refusal is :mod:`cognito_helper.integrations.bearer`'s (the table there): its status, its
``WWW-Authenticate`` or ``Retry-After`` header and its JSON body ``{"error",
"error_description"}``, answered through DRF's own exception handler:

* no ``Authorization`` header, or another scheme: :meth:`CognitoAuthentication.authenticate`
  returns ``None`` so the next authentication class can try. A view guarded by
  :class:`IsCognitoAuthenticated` or :class:`HasScopes` then answers the table's 401 (DRF's own
  ``IsAuthenticated`` answers 401 with the same ``WWW-Authenticate: Bearer`` but DRF's
  ``{"detail": ...}`` body);
* a malformed ``Bearer`` header (400) or a token that fails verification (401): raised as
  :class:`BearerAuthenticationFailed`, an ``AuthenticationFailed`` whose status and challenge
  stay the table's whatever the order of the authentication classes (DRF would otherwise
  put the first class's header on it, or turn it into a 403 when that class has none);
* none of the required scopes or groups: :class:`BearerPermissionDenied` (403
  ``insufficient_scope``, with ``scope="..."`` naming the scopes when a scope is missing);
* no usable JWKS: :class:`BearerUnavailable` (503 with ``Retry-After``).

A project with its own ``EXCEPTION_HANDLER`` keeps these answers if it starts from DRF's
``exception_handler`` (which sends ``detail`` as the body, ``auth_header`` as
``WWW-Authenticate`` and ``wait`` as ``Retry-After``). A ``ConfigError`` or ``ValueError`` (the
configuration or options are wrong) is not a refusal: it propagates, and Django answers 500.

Configuration, first found wins: a ``config`` attribute of a :class:`CognitoAuthentication`
subclass; the ``COGNITO`` Django setting (the :func:`~cognito_helper.configure` dict, a
:class:`~cognito_helper.CognitoConfig`, or a list of either for several clients or pools);
else the library default (:func:`~cognito_helper.configure`, then the ``COGNITO_*``
environment variables). The guard's options (``token_use``, ``audience``, ``realm``) are
class attributes of a subclass, else the ``COGNITO_AUTHENTICATION`` setting (a dict with those
keys), else access tokens, any audience, no realm.

This module imports Django and DRF; ``import cognito_helper`` never imports it.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission

from ..core.errors import ConfigError, InvalidClaimsError, TokenVerificationError
from ..settings.config import CognitoConfig
from ..settings.fields import unknown_keys
from ..verification.claims import check_held, option_set
from .bearer import BearerRefusal, Guard, Refusal, bearer_token, log_refusal, refusal
from .django_settings import configs_from_setting

__all__ = [
    "BearerAuthenticationFailed",
    "BearerPermissionDenied",
    "BearerUnavailable",
    "CognitoAuthentication",
    "CognitoUser",
    "HasScopes",
    "IsCognitoAuthenticated",
    "refused",
]

Strings = Union[str, Sequence[str], None]
Configs = Union[CognitoConfig, List[CognitoConfig], None]

#: The keys of the ``COGNITO_AUTHENTICATION`` setting.
OPTION_NAMES = ("token_use", "audience", "realm", "verifier", "revocations")
_UNSET = object()


# -- the refusals, as DRF exceptions --------------------------------------------------------


class BearerAuthenticationFailed(exceptions.AuthenticationFailed):  # type: ignore[misc]
    """A 400 or 401 of the table: ``status_code``, ``auth_header`` and ``detail`` (the JSON
    body) come from :attr:`refusal`.

    ``APIView.handle_exception`` assigns the view's first authentication class's header to
    ``auth_header``, and a 403 to ``status_code`` when that class has none; both assignments
    are ignored, so the answer is the table's in every order of the authentication classes.
    """

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(detail=dict(refusal.body), code=refusal.body["error"])
        self.refusal = refusal

    @property
    def status_code(self) -> int:
        return self.refusal.status

    @status_code.setter
    def status_code(self, value: int) -> None:
        pass  # see the class docstring

    @property
    def auth_header(self) -> Optional[str]:
        return self.refusal.headers.get("WWW-Authenticate")

    @auth_header.setter
    def auth_header(self, value: Optional[str]) -> None:
        pass  # see the class docstring


class BearerPermissionDenied(exceptions.PermissionDenied):  # type: ignore[misc]
    """The table's 403 ``insufficient_scope``: ``detail`` is the body, ``auth_header`` the
    ``WWW-Authenticate`` challenge naming the required scopes."""

    status_code = 403

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(detail=dict(refusal.body), code=refusal.body["error"])
        self.refusal = refusal
        self.auth_header = refusal.headers.get("WWW-Authenticate")


class BearerUnavailable(exceptions.APIException):  # type: ignore[misc]
    """The table's 503: no usable JWKS. ``wait`` becomes DRF's ``Retry-After`` header."""

    status_code = 503
    default_code = "temporarily_unavailable"

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(detail=dict(refusal.body), code=refusal.body["error"])
        self.refusal = refusal
        self.wait = int(refusal.headers["Retry-After"])


def refused(answer: Refusal) -> exceptions.APIException:
    """The DRF exception that answers ``answer`` (a
    :class:`~cognito_helper.integrations.bearer.Refusal`)."""
    if answer.status == 503:
        return BearerUnavailable(answer)
    if answer.status == 403:
        return BearerPermissionDenied(answer)
    return BearerAuthenticationFailed(answer)


def _no_credentials(realm: Optional[str]) -> Refusal:
    """The table's first row: 401 with a bare ``Bearer`` challenge (and the realm)."""
    try:
        bearer_token(None, realm=realm)
    except BearerRefusal as exc:
        return exc.refusal
    raise AssertionError("bearer_token(None) always refuses")  # pragma: no cover


# -- configuration ----------------------------------------------------------------------------


def _setting_options() -> Dict[str, Any]:
    """The ``COGNITO_AUTHENTICATION`` setting, checked."""
    options = getattr(settings, "COGNITO_AUTHENTICATION", None) or {}
    if not isinstance(options, dict):
        raise ConfigError("the COGNITO_AUTHENTICATION setting must be a dict")
    problem = unknown_keys(options, OPTION_NAMES)
    if problem is not None:
        raise ConfigError(f"the COGNITO_AUTHENTICATION setting: {problem}")
    return options


# -- the user ---------------------------------------------------------------------------------


class CognitoUser:
    """The user of a verified token, made from its claims (no database).

    ``sub``; ``username`` (``username`` of an access token, ``cognito:username`` of an ID
    token, else the ``sub``, as in a ``client_credentials`` token); ``groups`` (the
    ``cognito:groups``, a tuple); ``scopes`` (the ``scope`` claim, a frozenset); ``claims``.
    ``is_authenticated`` is true; ``pk`` and ``id`` are the ``sub`` (DRF's ``UserRateThrottle``
    keys on ``pk``).
    """

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, claims: Dict[str, Any]) -> None:
        self.claims = claims
        self.sub: str = claims["sub"]
        name = claims.get("username") or claims.get("cognito:username")
        self.username: str = name if isinstance(name, str) else self.sub
        groups = claims.get("cognito:groups")
        self.groups: Tuple[str, ...] = (
            tuple(g for g in groups if isinstance(g, str)) if isinstance(groups, list) else ()
        )
        scope = claims.get("scope")
        self.scopes = frozenset(scope.split()) if isinstance(scope, str) else frozenset()

    @property
    def pk(self) -> str:
        return self.sub

    @property
    def id(self) -> str:
        return self.sub

    def get_username(self) -> str:
        return self.username

    def __str__(self) -> str:
        return self.username

    def __repr__(self) -> str:
        return f"CognitoUser(sub={self.sub!r}, username={self.username!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CognitoUser) and other.sub == self.sub

    def __hash__(self) -> int:
        return hash(self.sub)


# -- authentication ---------------------------------------------------------------------------


class CognitoAuthentication(BaseAuthentication):  # type: ignore[misc]
    """A DRF authentication class: ``Authorization: Bearer <Cognito token>``.

    :meth:`authenticate` returns ``(user, claims)``: ``request.user`` is :meth:`get_user`'s
    answer (a :class:`CognitoUser` unless overridden) and ``request.auth`` the verified claims.

    Set in a subclass (else the ``COGNITO_AUTHENTICATION`` setting's value, else these):
    ``token_use`` (``"access"``; ``"id"``, or ``None`` for either), ``audience`` (the access
    token's ``aud`` must hold one of these), ``realm`` (put in every challenge), ``config``
    (a ``CognitoConfig``, a settings dict, or a list of either; else the ``COGNITO`` setting),
    ``revocations`` (handed to the verifier), or ``verifier`` (a
    :class:`~cognito_helper.CognitoVerifier` that replaces ``token_use``, ``audience``,
    ``revocations``, ``config`` and :meth:`check_claims`). Each refusal is logged
    (:func:`~cognito_helper.integrations.bearer.log_refusal`).
    Override :meth:`check_claims` for a rule of your own and :meth:`get_user` to map the
    claims onto your user model.
    """

    token_use: Optional[str] = "access"
    audience: Strings = None
    realm: Optional[str] = None
    config: Any = None
    verifier: Any = None
    revocations: Any = None

    def option(self, name: str) -> Any:
        """The guard option ``name``: this class's (or a subclass's) attribute when set on a
        subclass or the instance, else the ``COGNITO_AUTHENTICATION`` setting's, else the
        default above."""
        value = self._given(name)
        return vars(CognitoAuthentication)[name] if value is _UNSET else value

    def _given(self, name: str) -> Any:
        """The option ``name`` where it is set (see :meth:`option`), else ``_UNSET``."""
        if name in vars(self):
            return vars(self)[name]
        for klass in type(self).__mro__:
            if klass is CognitoAuthentication:
                break
            if name in vars(klass):
                return vars(klass)[name]
        return _setting_options().get(name, _UNSET)

    def guard(self) -> Guard:
        """The guard of this class's options: its ``verifier`` (a
        :class:`~cognito_helper.CognitoVerifier`), else one built from ``token_use``,
        ``audience``, ``revocations``, the configs (:meth:`get_config`) and
        :meth:`check_claims` when overridden. A ``verifier`` beside any of those is a
        ``TypeError``."""
        options: Dict[str, Any] = {"realm": self.option("realm")}
        for name in ("token_use", "audience", "verifier", "revocations"):
            value = self._given(name)
            if value is not _UNSET and (value is not None or name == "token_use"):
                options[name] = value
        if "verifier" not in options or self.config is not None:
            options["config"] = self.get_config()
        if type(self).check_claims is not CognitoAuthentication.check_claims:
            options["check"] = self.check_claims
        return Guard.of(**options)

    def get_config(self) -> Configs:
        """The configs tokens are verified against; ``None``: the library's default."""
        config = self.config
        if config is None:
            config = getattr(settings, "COGNITO", None)
        return configs_from_setting(config)

    def authenticate(self, request: Any) -> Optional[Tuple[Any, Dict[str, Any]]]:
        """``(user, claims)``; ``None`` when the request has no Bearer credentials.

        Raises :class:`BearerAuthenticationFailed` (400, 401) or :class:`BearerUnavailable`
        (503) as the table says.
        """
        guard = self.guard()
        realm = guard.realm
        try:
            # One value: WSGI servers and Django's ASGI handler join a repeated header with
            # ",", which bearer reads as two credentials.
            claims = guard.verify(request.META.get("HTTP_AUTHORIZATION"))
        except BearerRefusal as exc:
            if exc.cause is None and exc.refusal.status == 401:
                return None  # no Bearer credentials: the next authentication class may try
            log_refusal("CognitoAuthentication", exc)
            raise refused(exc.refusal) from exc
        try:
            user = self.get_user(claims)
            if user is None or getattr(user, "is_active", True) is False:
                raise InvalidClaimsError("the token's user is unknown or inactive", claim="sub")
        except TokenVerificationError as exc:
            answer = BearerRefusal(refusal(exc, realm=realm), exc)
            log_refusal("CognitoAuthentication", answer)
            raise refused(answer.refusal) from exc
        return (user, claims)

    def authenticate_header(self, request: Any) -> str:
        """``Bearer`` (with the realm): DRF's 401 challenge when no class authenticated."""
        return _no_credentials(self.option("realm")).headers["WWW-Authenticate"]

    def check_claims(self, claims: Dict[str, Any]) -> None:
        """Your own rule, called last with a copy of the verified claims: return ``False`` or
        raise :class:`~cognito_helper.InvalidClaimsError` to refuse the token (401
        ``invalid_token``); ``None`` or ``True`` accepts. A plain method, never ``async def``.
        Does nothing unless overridden (the ``check=`` of the other guards)."""

    def get_user(self, claims: Dict[str, Any]) -> Any:
        """The ``request.user`` of verified ``claims``: a :class:`CognitoUser` by default.

        Override it to use your own user model, e.g.
        ``return User.objects.get_or_create(username=claims["sub"])[0]``. Return ``None``,
        a user whose ``is_active`` is false, or raise
        :class:`~cognito_helper.InvalidClaimsError` to refuse the token (401
        ``invalid_token``).
        """
        return CognitoUser(claims)


# -- permissions ------------------------------------------------------------------------------


class IsCognitoAuthenticated(BasePermission):  # type: ignore[misc]
    """The request must carry a token :class:`CognitoAuthentication` verified.

    Otherwise the table's 401 (``WWW-Authenticate: Bearer``, body ``{"error": "unauthorized",
    ...}``), also when another authentication class authenticated the request.
    """

    def has_permission(self, request: Any, view: Any) -> bool:
        self.claims(request)
        return True

    @staticmethod
    def realm(request: Any) -> Optional[str]:
        """The realm of the request's :class:`CognitoAuthentication`."""
        authenticators = [request.successful_authenticator, *request.authenticators]
        for authenticator in authenticators:
            if isinstance(authenticator, CognitoAuthentication):
                return authenticator.option("realm")  # type: ignore[no-any-return]
        return _setting_options().get("realm")

    def claims(self, request: Any) -> Dict[str, Any]:
        """The verified claims of the request; raises the table's 401 when there are none."""
        if isinstance(request.successful_authenticator, CognitoAuthentication):
            return request.auth  # type: ignore[no-any-return]
        realm = self.realm(request)
        try:
            bearer_token(request.META.get("HTTP_AUTHORIZATION"), realm=realm)
        except BearerRefusal as exc:
            raise refused(exc.refusal) from None
        raise refused(_no_credentials(realm))  # a Bearer header another class took


class HasScopes(IsCognitoAuthenticated):
    """The verified token must hold one of the view's ``required_scopes`` (its ``scope``) and
    one of its ``required_groups`` (its ``cognito:groups``), when set; else the table's 403
    ``insufficient_scope``. A view that sets neither is a ``ConfigError`` (a 500), not an
    open door.

    ``HasScopes.require(scopes=..., groups=...)`` is a subclass carrying them itself, for
    function views (``@permission_classes([HasScopes.require(scopes="orders/read")])``);
    override :meth:`required` to choose by request (e.g. by method).
    """

    required_scopes: Strings = None
    required_groups: Strings = None

    @classmethod
    def require(cls, *, scopes: Strings = None, groups: Strings = None) -> type[HasScopes]:
        """A subclass requiring ``scopes`` and ``groups`` whatever the view says."""
        option_set("scopes", scopes)  # a ValueError now, not at the first request
        option_set("groups", groups)
        return type(cls.__name__, (cls,), {"required_scopes": scopes, "required_groups": groups})

    def required(self, request: Any, view: Any) -> Tuple[Strings, Strings]:
        """``(scopes, groups)`` for this request: this class's, else the view's attributes."""
        scopes = self.required_scopes
        groups = self.required_groups
        if scopes is None and groups is None:
            scopes = getattr(view, "required_scopes", None)
            groups = getattr(view, "required_groups", None)
        return scopes, groups

    def has_permission(self, request: Any, view: Any) -> bool:
        claims = self.claims(request)
        scopes, groups = self.required(request, view)
        if scopes is None and groups is None:
            raise ConfigError(
                f"HasScopes guards {type(view).__name__}, which sets neither required_scopes "
                "nor required_groups"
            )
        try:
            check_held(
                claims,
                groups=option_set("required_groups", groups),
                scopes=option_set("required_scopes", scopes),
            )
        except InvalidClaimsError as exc:
            names = [scopes] if isinstance(scopes, str) else list(scopes or ())
            answer = BearerRefusal(refusal(exc, realm=self.realm(request), scopes=names), exc)
            log_refusal("HasScopes", answer)
            raise refused(answer.refusal) from exc
        return True
