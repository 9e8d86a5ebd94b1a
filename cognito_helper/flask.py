"""Flask: a decorator that lets a view run only for a request with a valid Cognito bearer token.

::

    from flask import Flask, g
    from cognito_helper.flask import require_token

    app = Flask(__name__)

    @app.get("/orders")
    @require_token(scopes=["orders/read"])
    def orders():
        return {"user": g.cognito_claims["sub"]}

The verified claims are in ``flask.g.cognito_claims``. A refused request never reaches the view:
it is answered with the status, ``WWW-Authenticate`` (or ``Retry-After``) header and JSON body
of :mod:`cognito_helper.bearer`'s mapping (401, 400, 403 or 503). Works on sync views and on
Flask's async views (``pip install "flask[async]"``). Needs the ``flask`` extra; ``import
cognito_helper`` alone never imports Flask.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, Dict, Iterable, Optional, Sequence, TypeVar, Union, cast

import flask  # the real Flask: absolute imports never resolve to this module

from .bearer import BearerRefusal, Guard, Refusal
from .config import CognitoConfig

__all__ = ["require_token"]

View = TypeVar("View", bound=Callable[..., Any])
Check = Callable[[Dict[str, Any]], Any]
Strings = Union[str, Iterable[str], None]


def require_token(
    *,
    token_use: Optional[str] = "access",
    scopes: Strings = None,
    groups: Strings = None,
    audience: Strings = None,
    config: Union[CognitoConfig, Sequence[CognitoConfig], None] = None,
    check: Optional[Check] = None,
    realm: Optional[str] = None,
) -> Callable[[View], View]:
    """A decorator: the view runs only when the request's ``Authorization: Bearer`` token
    verifies; its claims are then in ``flask.g.cognito_claims``.

    The options are :func:`~cognito_helper.decode_verify_jwt`'s: ``token_use`` (access tokens
    by default; ``"id"`` or ``None`` for either), ``scopes`` and ``groups`` (at least one of
    them), ``audience``, ``check``; ``config`` is a :class:`~cognito_helper.CognitoConfig`, a
    list of them, or ``None`` for the :func:`~cognito_helper.configure` default, read on each
    request. ``realm`` goes into every ``WWW-Authenticate`` challenge. ``check`` is a plain
    function: ``None`` or ``True`` accepts, ``False`` (or raising) refuses (a 401).

    A refusal is answered with :mod:`cognito_helper.bearer`'s status, headers and JSON body
    (``application/json``). Invalid options (an ``async def`` check included) raise
    ``ValueError`` here, when the view is decorated; a request with nothing configured raises
    ``ConfigError`` (Flask answers 500).
    Put ``@app.route`` (or ``@app.get``...) above this decorator.
    """
    guard = Guard.of(  # ValueError now, when the view is decorated
        token_use=token_use,
        scopes=scopes,
        groups=groups,
        audience=audience,
        config=config,
        check=check,
        realm=realm,
    )

    def verify() -> Optional[flask.Response]:
        """Set ``g.cognito_claims`` and return ``None``, or return the refusal to send."""
        try:
            claims = guard.verify(flask.request.headers.get("Authorization"))
        except BearerRefusal as refused:
            return _response(refused.refusal)
        flask.g.cognito_claims = claims
        return None

    def decorate(view: View) -> View:
        if inspect.iscoroutinefunction(view):
            # Flask runs each async view in an event loop of its own (asgiref), so verifying
            # here, before the view starts, blocks nothing else even when keys are fetched.
            @functools.wraps(view)
            async def guarded_async(*args: Any, **kwargs: Any) -> Any:
                refused = verify()
                if refused is not None:
                    return refused
                return await view(*args, **kwargs)

            return cast(View, guarded_async)

        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            refused = verify()
            if refused is not None:
                return refused
            return view(*args, **kwargs)

        return cast(View, guarded)

    return decorate


def _response(refusal: Refusal) -> flask.Response:
    return flask.Response(
        refusal.json(),
        status=refusal.status,
        headers=refusal.headers,
        mimetype="application/json",
    )
