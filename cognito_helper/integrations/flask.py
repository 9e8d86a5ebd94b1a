"""Flask: views that run only for a request with a valid Cognito bearer token.

::

    from flask import Flask, g
    from cognito_helper.flask import TokenGuard, require_token

    app = Flask(__name__)
    guard = TokenGuard(app)  # registers and guards in one step

    @guard.get("/orders", scopes=["orders/read"])
    def orders():
        return {"user": g.cognito_claims["sub"]}

    @app.get("/report")
    @require_token(groups=["admins"])  # the decorator: below the route
    def report():
        return {"by": g.cognito_claims["username"]}

The verified claims are in ``flask.g.cognito_claims``. A refused request never reaches the view:
it is answered with the status, ``WWW-Authenticate`` (or ``Retry-After``) header and JSON body
of :mod:`cognito_helper.integrations.bearer`'s mapping (401, 400, 403 or 503). Works on sync views
and on
Flask's async views. Needs the ``flask`` extra (``pip install ".[flask]"`` from the checkout,
async support included); ``import cognito_helper`` alone never imports Flask.

``@require_token`` above ``@app.route`` would guard a copy Flask never calls and leave the route
open. Where that can be seen it is a ``TypeError``: when the decorated function is already a view
of a Flask app or blueprint that is a global of its module, a local or global of the code
applying the decorator, or the current app; and, on an app a :class:`TokenGuard` was given (or
one its blueprint is registered on), when the first request finds a function the decorator
guarded served without it (every request then fails until the order is fixed).
:func:`guard_in_order` and :func:`watch` are that check, for every guarding decorator of the
package's Flask integration (``login_required`` too).
"""

from __future__ import annotations

import functools
import inspect
import sys
import weakref
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    List,
    Optional,
    Tuple,
    TypeVar,
    Union,
    cast,
    overload,
)

import flask  # the real Flask: absolute imports never resolve to this module

from .bearer import OPTION_NAMES, VERIFYING, BearerRefusal, Guard, Refusal, log_refusal

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .bearer import GuardOptions

__all__ = ["TokenGuard", "guard_in_order", "require_token", "watch"]

View = TypeVar("View", bound=Callable[..., Any])
Scaffold = Union[flask.Flask, flask.Blueprint]

_EXTENSION = "cognito_helper"

# The functions a guarding decorator was given, each with the names its messages use
# (decorator, what a request needs, the one-step form): a watched app must not serve one bare.
_guarded: weakref.WeakKeyDictionary[Callable[..., Any], Tuple[str, str, str]] = (
    weakref.WeakKeyDictionary()
)
# Frames of the package's Flask integration are skipped when looking for the caller.
_INTEGRATIONS = __name__.rpartition(".")[0] + "."


@overload
def require_token(view: View, /) -> View: ...
@overload
def require_token(**options: Unpack[GuardOptions]) -> Callable[[View], View]: ...


def require_token(view: Optional[View] = None, /, **options: Unpack[GuardOptions]) -> Any:
    """A decorator: the view runs only when the request's ``Authorization: Bearer`` token
    verifies; its claims are then in ``flask.g.cognito_claims``. ``@require_token`` alone is
    ``@require_token()``: access tokens of the configured pool.

    The options are :func:`~cognito_helper.decode_verify_jwt`'s: ``token_use`` (access tokens
    by default; ``"id"`` or ``None`` for either), ``scopes`` and ``groups`` (at least one of
    them), ``audience``, ``check``; ``config`` is a :class:`~cognito_helper.CognitoConfig`, a
    list of them, or ``None`` for the :func:`~cognito_helper.configure` default, read on each
    request. ``realm`` goes into every ``WWW-Authenticate`` challenge. ``check`` is a plain
    function: ``None`` or ``True`` accepts, ``False`` (or raising) refuses (a 401).
    ``verifier``, a :class:`~cognito_helper.CognitoVerifier`, replaces all but ``realm``
    (:class:`~cognito_helper.integrations.bearer.GuardOptions`). A refusal is logged
    (:func:`~cognito_helper.integrations.bearer.log_refusal`).

    A refusal is answered with :mod:`cognito_helper.integrations.bearer`'s status, headers and JSON
    body
    (``application/json``). Invalid options (an ``async def`` check included) raise
    ``ValueError`` here, when the view is decorated; a request with nothing configured raises
    ``ConfigError`` (Flask answers 500). Put ``@app.route`` (or ``@app.get``...) above this
    decorator: a function Flask already serves is a ``TypeError`` (see the module), or use
    :class:`TokenGuard`.
    """
    if view is not None and not callable(view):
        raise TypeError(
            "require_token takes its options as keywords, e.g. "
            f"@require_token(scopes=[...]), not {type(view).__name__} {view!r}"
        )
    guard = Guard.of(**options)  # ValueError (or TypeError) now, when the view is decorated

    def decorate(view: View) -> View:
        guard_in_order(view, "require_token", "a token", "TokenGuard(app).route(...)")
        return _guarded_view(view, guard)

    return decorate if view is None else decorate(view)


def _guarded_view(view: View, guard: Guard) -> View:
    """``view``, run only once ``guard`` verified the request's token."""

    def verify() -> Optional[flask.Response]:
        """Set ``g.cognito_claims`` and return ``None``, or return the refusal to send."""
        try:
            # One value: WSGI servers (and werkzeug's test client) join a repeated header
            # with ",", which bearer_token reads as two credentials.
            claims = guard.verify(flask.request.environ.get("HTTP_AUTHORIZATION"))
        except BearerRefusal as refused:
            log_refusal("require_token", refused)
            return _response(refused.refusal)
        flask.g.cognito_claims = claims
        return None

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


def _response(refusal: Refusal) -> flask.Response:
    return flask.Response(
        refusal.json(),
        status=refusal.status,
        headers=refusal.headers,
        mimetype="application/json",
    )


# -- the one-step form ----------------------------------------------------------------------


class TokenGuard:
    """Registers views on a Flask app or blueprint and guards them in one step, so no route it
    makes can be left open by the order of two decorators.

    ``TokenGuard(app_or_blueprint, **options)`` takes :func:`require_token`'s options as the
    defaults of its routes (invalid ones, and a ``config`` given, raise ``ValueError`` now).
    :meth:`route`, :meth:`get`, :meth:`post`, :meth:`put`, :meth:`patch`, :meth:`delete` and
    :meth:`add_url_rule` are Flask's, taking those options too, for that route::

        guard = TokenGuard(app, realm="orders")

        @guard.get("/orders", scopes=["orders/read"])
        def list_orders(): ...

        guard.add_url_rule("/items", view_func=Items.as_view("items"), groups=["staff"])

    Like Flask's, the decorators return the function as it was; the app serves its guarded
    form. The guard also watches the app (for a blueprint: each app it is registered on): if
    its first request finds a function :func:`require_token` guarded served without the
    guard, that request and every later one raise ``TypeError`` (Flask answers 500).
    """

    def __init__(self, app: Scaffold, **options: Unpack[GuardOptions]) -> None:
        if not isinstance(app, (flask.Flask, flask.Blueprint)):
            raise TypeError(f"TokenGuard needs a Flask app or blueprint, not {type(app).__name__}")
        self.app = app
        self.options: Dict[str, Any] = dict(options)
        Guard.of(**options)  # ValueError (or TypeError) now
        # (view, options, guarded view): a view given twice with the same options (stacked
        # decorators, one endpoint) is served by one guarded function, as Flask requires.
        self._made: List[Tuple[Callable[..., Any], Dict[str, Any], Callable[..., Any]]] = []
        if isinstance(app, flask.Blueprint):
            app.record_once(lambda state: watch(cast(flask.Flask, state.app)))
        else:
            watch(app)

    def add_url_rule(
        self,
        rule: str,
        endpoint: Optional[str] = None,
        view_func: Optional[Callable[..., Any]] = None,
        **options: Any,
    ) -> None:
        """Flask's ``add_url_rule`` with ``view_func`` guarded; the options of
        :func:`require_token` among ``options`` replace the guard's defaults."""
        if view_func is None:
            raise TypeError("TokenGuard.add_url_rule needs the view_func it guards")
        guarding = self._options({n: options.pop(n) for n in OPTION_NAMES if n in options})
        self.app.add_url_rule(rule, endpoint, self._guarded(view_func, guarding), **options)

    def _options(self, given: Dict[str, Any]) -> Dict[str, Any]:
        """The guard's options with a route's ``given`` ones on top: a route's ``verifier``
        replaces the options it stands for, a route's option the guard's ``verifier``."""
        kept = {
            name: value
            for name, value in self.options.items()
            if not ("verifier" in given and name in VERIFYING)
            and not (name == "verifier" and set(given) & set(VERIFYING))
        }
        return {**kept, **given}

    def _guarded(self, view: Callable[..., Any], guarding: Dict[str, Any]) -> Callable[..., Any]:
        for made, options, guarded in self._made:
            if made is view and options == guarding:
                return guarded
        guarded = require_token(**guarding)(view)
        self._made.append((view, guarding, guarded))
        return guarded

    def route(self, rule: str, **options: Any) -> Callable[[View], View]:
        """Flask's ``route`` decorator, the view guarded (see :meth:`add_url_rule`)."""
        Guard.of(**self._options({n: options[n] for n in OPTION_NAMES if n in options}))

        def decorator(view: View) -> View:
            given = dict(options)
            endpoint = given.pop("endpoint", None)
            self.add_url_rule(rule, endpoint, view, **given)
            return view

        return decorator

    def get(self, rule: str, **options: Any) -> Callable[[View], View]:
        """``route(rule, methods=["GET"], **options)``."""
        return self._method("GET", rule, options)

    def post(self, rule: str, **options: Any) -> Callable[[View], View]:
        """``route(rule, methods=["POST"], **options)``."""
        return self._method("POST", rule, options)

    def put(self, rule: str, **options: Any) -> Callable[[View], View]:
        """``route(rule, methods=["PUT"], **options)``."""
        return self._method("PUT", rule, options)

    def patch(self, rule: str, **options: Any) -> Callable[[View], View]:
        """``route(rule, methods=["PATCH"], **options)``."""
        return self._method("PATCH", rule, options)

    def delete(self, rule: str, **options: Any) -> Callable[[View], View]:
        """``route(rule, methods=["DELETE"], **options)``."""
        return self._method("DELETE", rule, options)

    def _method(self, method: str, rule: str, options: Dict[str, Any]) -> Callable[[View], View]:
        if "methods" in options:
            raise TypeError("use route() to give the methods")
        return self.route(rule, methods=[method], **options)


# -- seeing a route left open -----------------------------------------------------------------


def guard_in_order(
    view: Callable[..., Any], decorator: str, needs: str, one_step: str = ""
) -> None:
    """The decorator-order check of a guarding decorator, run when it is given ``view``.

    ``TypeError`` when an app or blueprint in sight (see the module) already serves ``view``:
    the decorator was put above the route decorator and would guard a copy Flask never calls.
    Else ``view`` is remembered, so that a :func:`watch`-ed app whose first request finds it
    served bare refuses every request. ``decorator`` (``"require_token"``), ``needs`` (``"a
    token"``) and ``one_step`` (a form that registers and guards at once, or ``""``) word the
    messages.
    """
    names = (decorator, needs, one_step)
    for scaffold in _in_sight(view):
        where = _served_at(scaffold, view)
        if where is not None:
            name = getattr(view, "__name__", repr(view))
            fix = _fix(names)
            raise TypeError(
                f"{decorator} was given {name!r}, which Flask already serves without {needs} "
                f"({where}): a decorator above @app.route guards a copy Flask never calls. "
                f"{fix[0].upper()}{fix[1:]}. A route meant to be open needs a function of its "
                "own."
            )
    try:
        _guarded[view] = names
    except TypeError:  # a callable that takes no weak reference: not watched
        pass


def _fix(names: Tuple[str, str, str]) -> str:
    decorator, _, one_step = names
    fix = f"put @{decorator}(...) below the route decorator"
    return f"{fix}, or register and guard in one step with {one_step}" if one_step else fix


def _in_sight(view: Callable[..., Any]) -> List[Scaffold]:
    """The apps and blueprints of ``view``'s module globals, of the caller's locals and
    globals (the first frame outside the package's Flask integration), and the current app."""
    spaces = [getattr(view, "__globals__", {})]
    frame = sys._getframe(1)
    while frame is not None and str(frame.f_globals.get("__name__")).startswith(_INTEGRATIONS):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is not None:
        spaces += [frame.f_locals, frame.f_globals]
    del frame
    found: Dict[int, Scaffold] = {}
    for space in spaces:
        for value in list(space.values()):
            if isinstance(value, (flask.Flask, flask.Blueprint)):
                found[id(value)] = value
    if flask.has_app_context():
        app = flask.current_app._get_current_object()  # type: ignore[attr-defined]
        found[id(app)] = app
    return list(found.values())


def _served_at(scaffold: Scaffold, view: Callable[..., Any]) -> Optional[str]:
    """Where ``scaffold`` serves ``view`` itself (its rules), or ``None``."""
    for endpoint, served in scaffold.view_functions.items():
        if served is view:
            rules = _rules(scaffold, endpoint)
            kind = "app" if isinstance(scaffold, flask.Flask) else "blueprint"
            return f"{rules or endpoint} of the {kind} {scaffold.name!r}"
    if isinstance(scaffold, flask.Blueprint):
        # Blueprint.add_url_rule records ``lambda s: s.add_url_rule(rule, ..., view_func, ...)``.
        for deferred in scaffold.deferred_functions:
            code = getattr(deferred, "__code__", None)
            cells = getattr(deferred, "__closure__", None) or ()
            held = dict(zip(code.co_freevars, cells)) if code is not None else {}
            if "view_func" in held and _contents(held["view_func"]) is view:
                rule = _contents(held["rule"]) if "rule" in held else None
                return f"{rule or 'a rule'} of the blueprint {scaffold.name!r}"
    return None


def _contents(cell: Any) -> Any:
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return None


def _rules(scaffold: Scaffold, endpoint: str) -> str:
    if not isinstance(scaffold, flask.Flask):
        return ""
    return ", ".join(r.rule for r in scaffold.url_map.iter_rules() if r.endpoint == endpoint)


def watch(app: flask.Flask) -> None:
    """Check ``app`` at its first request for a function given to a guarding decorator
    (:func:`guard_in_order`) that it serves bare; until none is, every request raises
    ``TypeError`` (Flask answers 500). Watching an app twice checks it once."""
    if app.extensions.get(_EXTENSION) is None:
        watch = _OpenRoutes(app)
        app.extensions[_EXTENSION] = watch
        app.before_request(watch)


class _OpenRoutes:
    """A ``before_request`` function: raises while ``app`` serves a function that a guarding
    decorator was given without the guard; nothing once it found none."""

    def __init__(self, app: flask.Flask) -> None:
        self.app = app
        self.checked = False

    def __call__(self) -> None:
        if self.checked:
            return
        bare: Dict[Tuple[str, str, str], List[str]] = {}
        for rule in self.app.url_map.iter_rules():
            view = self.app.view_functions.get(rule.endpoint)
            names = _guarded.get(view) if view is not None else None
            if names is not None:
                shown = f"{rule.rule} ({getattr(view, '__name__', rule.endpoint)!r})"
                bare.setdefault(names, []).append(shown)
        if bare:
            raise TypeError(
                "; ".join(
                    f"{', '.join(routes)} answer without {names[1]} although {names[0]} "
                    f"guarded them: {_fix(names)}"
                    for names, routes in bare.items()
                )
            )
        self.checked = True
