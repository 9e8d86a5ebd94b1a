"""FastAPI and Starlette: a dependency that lets a route run only for a valid Cognito bearer token.

::

    from typing import Annotated, Any, Dict

    from fastapi import Depends, FastAPI, Security
    from cognito_helper.fastapi import CognitoBearer, add_exception_handler

    app = FastAPI()
    add_exception_handler(app)  # refusals get the RFC 6750 JSON body
    bearer = CognitoBearer()  # access tokens of the configure() / COGNITO_* pool

    @app.get("/me")
    async def me(claims: Annotated[Dict[str, Any], Depends(bearer)]):
        return {"sub": claims["sub"]}

    @app.get("/orders")
    async def orders(claims: Annotated[Dict[str, Any], Security(bearer, scopes=["orders/read"])]):
        ...

The dependency's value is the verified claims. A refused request never reaches the route: the
dependency raises :class:`BearerHTTPException`, an ``HTTPException`` with the status and
``WWW-Authenticate`` (or ``Retry-After``) header of :mod:`cognito_helper.integrations.bearer`'s
mapping (401,
400, 403 or 503). :func:`add_exception_handler` makes its body the mapping's JSON
``{"error": ..., "error_description": ...}``; without it FastAPI's own handler sends the same
status and headers with that object under ``"detail"``.

Scopes: the ``scopes=`` of :class:`CognitoBearer` are the library's (the token must grant at least
one of them); the scopes of ``Security(bearer, scopes=[...])``, with those of any enclosing
``Security`` dependencies (FastAPI's ``SecurityScopes``), are FastAPI's convention: the token must
grant every one of them, on top of the former. A route refused for them is a 403
``insufficient_scope`` whose ``scope`` names the ones the token lacks.

The event loop is never blocked by the network: when verifying may fetch the JWKS (the token's
``kid`` is not a current key of its pool's JWKS cache, or several pools are configured) it runs
in a worker thread, and concurrent requests waiting for the same keys share one fetch (the
cache's). Otherwise (nearly every request) it runs on the loop: it takes microseconds. A
``check=`` runs where the verification runs, so it must not do I/O either.

A plain Starlette app (FastAPI installed) calls ``claims = await bearer.authenticate(request)``
in an endpoint, with ``exception_handlers={BearerHTTPException: refusal_response}`` on the app.

Needs the ``fastapi`` extra; ``import cognito_helper`` alone never imports FastAPI or Starlette.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Optional, Tuple

import fastapi  # the real FastAPI: absolute imports never resolve to this module
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBearer, SecurityScopes
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from ..core.errors import InvalidClaimsError
from ..verification.claims import granted_scopes
from ..verification.cognito import may_fetch
from .bearer import BearerRefusal, Guard, Refusal, bearer_token, log_refusal, refusal

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .bearer import GuardOptions

__all__ = ["BearerHTTPException", "CognitoBearer", "add_exception_handler", "refusal_response"]

Claims = Dict[str, Any]
Check = Callable[[Claims], Any]


class BearerHTTPException(fastapi.HTTPException):
    """A refused request: ``status_code`` and ``headers`` are :attr:`refusal`'s, ``detail`` its
    JSON body (a dict); ``cause`` is the library's error (``None`` for a bad header)."""

    def __init__(self, refusal: Refusal, cause: Optional[BaseException] = None) -> None:
        super().__init__(refusal.status, detail=dict(refusal.body), headers=dict(refusal.headers))
        self.refusal = refusal
        self.cause = cause


async def refusal_response(request: Request, exc: Exception) -> JSONResponse:
    """The exception handler for :class:`BearerHTTPException`: the refusal's status, headers
    and JSON body ``{"error": ..., "error_description": ...}``."""
    answer: Refusal = exc.refusal  # type: ignore[attr-defined]  # registered for that class
    return JSONResponse(answer.body, status_code=answer.status, headers=answer.headers)


def add_exception_handler(app: Any) -> None:
    """Answer ``app``'s refusals with the bare RFC 6750 JSON body (a FastAPI or Starlette app)."""
    app.add_exception_handler(BearerHTTPException, refusal_response)


class _MissingScopesError(InvalidClaimsError):
    """The token lacks scopes that ``Security(..., scopes=...)`` requires (``required``)."""

    def __init__(self, message: str, required: Tuple[str, ...]) -> None:
        super().__init__(message, claim="scope", reason="scope")
        self.required = required


def _authorization(request: Request) -> List[str]:
    """Every ``Authorization`` header of ``request``: :mod:`~cognito_helper.integrations.bearer`
    reads
    several as HTTP joins them, so a second credential is refused (400), never one picked."""
    return request.headers.getlist("authorization")


class _InstancesOnly:
    """The guard class's ``__signature__``: ``None`` for an instance (its ``__call__``'s is
    read as usual), a ``TypeError`` for the class itself.

    FastAPI reads a dependency's signature when the route is made, so ``Depends(CognitoBearer)``
    (the class, not an instance) fails there, at start-up. Left alone, FastAPI would build a
    guard per request from query parameters and pass it to the route as the "claims": the
    route would answer 200 without a token.
    """

    def __get__(self, instance: Any, owner: type) -> None:
        if instance is not None:
            return None
        name = owner.__name__
        raise TypeError(
            f"Depends({name}) or Security({name}) names the class, which guards nothing: "
            f"use an instance, e.g. bearer = {name}(scopes=[...]) made once, then "
            "Depends(bearer) or Security(bearer, scopes=[...])"
        )


class CognitoBearer(HTTPBearer):
    """A FastAPI dependency: the verified claims of the request's ``Authorization: Bearer`` token.

    Use an instance as ``Depends(bearer)`` or ``Security(bearer, scopes=[...])``. The options
    are :func:`~cognito_helper.decode_verify_jwt`'s: ``token_use`` (access tokens by default;
    ``"id"`` or ``None`` for either), ``scopes`` and ``groups`` (at least one of each),
    ``audience``, ``check``; ``config`` is a :class:`~cognito_helper.CognitoConfig`, a list of
    them, or ``None`` for the :func:`~cognito_helper.configure` default, read on each request.
    ``realm`` goes into every ``WWW-Authenticate`` challenge. ``check`` is a plain function
    (never ``async def``): ``None`` or ``True`` accepts, ``False`` (or raising) refuses (a
    401). ``verifier``, a :class:`~cognito_helper.CognitoVerifier`, replaces all but
    ``realm`` (:class:`~cognito_helper.integrations.bearer.GuardOptions`). A refusal is
    logged (:func:`~cognito_helper.integrations.bearer.log_refusal`). ``scheme_name`` and
    ``description`` name the HTTP bearer security scheme in the OpenAPI schema (``/docs``
    offers "Authorize" for it).

    A refusal raises :class:`BearerHTTPException` (see :func:`add_exception_handler`). Invalid
    options (an ``async def`` check included) raise ``ValueError`` here; a request with
    nothing configured raises ``ConfigError`` (the app answers 500). The class itself as a
    dependency (``Depends(CognitoBearer)``) is a ``TypeError`` when the route is made.
    """

    __signature__ = _InstancesOnly()

    def __init__(
        self,
        *,
        scheme_name: Optional[str] = None,
        description: Optional[str] = None,
        **options: Unpack[GuardOptions],
    ) -> None:
        self.guard = Guard.of(**options)  # ValueError (or TypeError) now, when it is made
        verifier = self.guard.verifier
        kind = {"access": "access token", "id": "ID token"}.get(verifier.token_use or "", "token")
        super().__init__(
            bearerFormat="JWT",
            scheme_name=scheme_name,
            description=description or f"An Amazon Cognito {kind}: Authorization: Bearer <token>",
        )
        self.token_use, self.scopes = verifier.token_use, verifier.scopes
        self.groups = verifier.groups
        self.audience, self.config = verifier.audience, verifier.config
        self.check = options.get("check", verifier.check)
        self.realm = options.get("realm")

    async def __call__(  # type: ignore[override]  # claims, not HTTPAuthorizationCredentials
        self, request: Request, security_scopes: SecurityScopes
    ) -> Claims:
        return await self.authenticate(request, security_scopes.scopes)

    async def authenticate(self, request: Request, scopes: Iterable[str] = ()) -> Claims:
        """The verified claims of ``request``'s bearer token, which must also grant every one
        of ``scopes``; raises :class:`BearerHTTPException` for a refusal."""
        authorization = _authorization(request)
        required = tuple(dict.fromkeys(scopes))
        try:
            if self._may_fetch(authorization):
                return await run_in_threadpool(self._verify, authorization, required)
            return self._verify(authorization, required)
        except BearerRefusal as refused:
            answer, cause = refused.refusal, refused.cause
            if isinstance(cause, _MissingScopesError):  # name the ones of Security(...) it lacks
                answer = refusal(cause, realm=self.realm, scopes=cause.required)
            log_refusal("CognitoBearer", BearerRefusal(answer, cause))
            raise BearerHTTPException(answer, cause) from None

    def _verify(self, authorization: List[str], required: Tuple[str, ...]) -> Claims:
        return self.guard.verify(authorization, check=self._check(required))

    def _check(self, required: Tuple[str, ...]) -> Optional[Check]:
        """The ``check`` to verify with: every scope of ``required``, then the guard's own
        (``None``, with no ``required``: the verifier's own check)."""
        if not required:
            return None
        own = self.check

        def check(claims: Claims) -> Any:
            try:
                granted = granted_scopes(claims)
            except InvalidClaimsError:
                granted = frozenset()
            missing = [scope for scope in required if scope not in granted]
            if missing:
                every = f" (it needs all of {sorted(required)})" if len(required) > 1 else ""
                raise _MissingScopesError(f"the token lacks the scopes {missing}{every}", required)
            return None if own is None else own(claims)  # its verdict, for the verifier

        return check

    def _may_fetch(self, authorization: List[str]) -> bool:
        """Whether verifying may wait for the network: the token's ``kid`` is not a current
        key of the JWKS cache of every configured pool. Never fetches; ``False`` when the
        verification fails before keys are looked up (header, token shape, configuration)."""
        try:
            token = bearer_token(authorization)
        except BearerRefusal:
            return False
        return may_fetch(token, self.config)


# Older FastAPI versions read an instance's ``__call__`` annotations without evaluating strings
# against this module (it has ``from __future__ import annotations``): give them the types.
CognitoBearer.__call__.__annotations__.update(
    {"request": Request, "security_scopes": SecurityScopes, "return": Claims}
)
