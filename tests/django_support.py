"""What the Django sign-in's tests share: a small site (its URL module, views and middleware),
the settings that point it at a LocalCognito, and a sign-in through the hosted UI as a
browser makes it, with Django's test client.

Import it after ``configure_django()`` (``tests/django_setup.py``).
"""

from __future__ import annotations

import sys
import time
import types
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional
from urllib.parse import urlsplit

from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.models import Group, User
from django.contrib.sessions.models import Session as DjangoSession
from django.core.management import call_command
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.test import Client, override_settings
from django.urls import include, path
from django.views import View

from cognito_helper.django import access_token, cognito_session
from cognito_helper.sessions import MemorySessionStore
from cognito_helper.testing import LocalCognito

from .helpers import PASSWORD, USER, MakeLocalCognito

HOST = "localhost:8000"
ORIGIN = f"http://{HOST}"
URLCONF = "tests_django_login_urls"
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "cognito_helper.django.CognitoSessionMiddleware",
]
BACKENDS = ["cognito_helper.django.CognitoBackend"]


# -- the site ---------------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    """Open to all: who the request's user is (Django's request.user)."""
    user = request.user
    name = user.get_username() if user.is_authenticated else "anonymous"
    return HttpResponse(name, content_type="text/plain")


def account(request: HttpRequest) -> HttpResponse:
    """@login_required: the user's fields and Django groups."""
    user: Any = request.user
    return JsonResponse(
        {
            "username": user.username,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "groups": sorted(g.name for g in user.groups.all()),
            "claims_sub": cognito_session(request).user["sub"],  # type: ignore[union-attr]
        }
    )


class Orders(LoginRequiredMixin, View):  # type: ignore[misc]
    """LoginRequiredMixin: a fresh access token of the user, for an API call."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse(access_token(request), content_type="text/plain")


def csrf(request: HttpRequest) -> HttpResponse:
    """The CSRF token of the request's session (a page with a sign-out form would hold it)."""
    return HttpResponse(get_token(request), content_type="text/plain")


def make_urls(name: str, prefix: str = "auth/", extra: Optional[List[Any]] = None) -> str:
    """Register a URL module ``name`` with the site's routes and the sign-in's URLs included
    at ``prefix``; its name."""
    module = types.ModuleType(name)
    module.urlpatterns = [  # type: ignore[attr-defined]
        path(prefix, include("cognito_helper.django.urls")),
        path("", home),
        path("account", login_required(account)),
        path("orders", Orders.as_view()),
        path("csrf", csrf),
        *(extra or []),
    ]
    sys.modules[name] = module
    return name


make_urls(URLCONF)


def migrate() -> None:
    """Create the tables (auth, sessions) in the shared in-memory database, once is enough."""
    call_command("migrate", verbosity=0)


def forget_users() -> None:
    """Delete every user, group and Django session the test made."""
    User.objects.all().delete()
    Group.objects.all().delete()
    DjangoSession.objects.all().delete()


# -- a site pointed at a LocalCognito ---------------------------------------------------------


@dataclass
class Site:
    """The site's settings applied, against ``lc``, with ``store`` holding the sessions."""

    lc: LocalCognito
    store: Any
    client: Client

    def new_client(self, **options: Any) -> Client:
        return Client(HTTP_HOST=HOST, **options)


def site_settings(lc: LocalCognito, **login: Any) -> Dict[str, Any]:
    """The settings of the site for ``lc``; ``login`` is ``COGNITO_LOGIN``."""
    return {
        "ROOT_URLCONF": URLCONF,
        "MIDDLEWARE": MIDDLEWARE,
        "AUTHENTICATION_BACKENDS": BACKENDS,
        "LOGIN_URL": "cognito:login",
        "ALLOWED_HOSTS": ["localhost"],
        "COGNITO": {
            "user_pool_id": lc.user_pool_id,
            "client_id": lc.client_id,
            "domain": lc.url,
            "redirect_uri": lc.config.redirect_uri,
            "logout_uri": lc.config.logout_uri,
            "issuer": lc.issuer,
            "jwks_url": lc.jwks_url,
        },
        "COGNITO_LOGIN": login,
    }


def local_cognito(
    make_lc: MakeLocalCognito, callback: str = "/auth/callback", **options: Any
) -> LocalCognito:
    return make_lc(redirect_uri=ORIGIN + callback, logout_uri=ORIGIN + "/", **options)


@contextmanager
def running_site(lc: LocalCognito, **login: Any) -> Iterator[Site]:
    """The site's settings for ``lc`` (a memory store unless ``login`` names one)."""
    login.setdefault("store", MemorySessionStore())
    with override_settings(**site_settings(lc, **login)):
        try:
            yield Site(lc, login["store"], Client(HTTP_HOST=HOST))
        finally:
            forget_users()


# -- a browser's sign-in ----------------------------------------------------------------------


def start(client: Client, next_path: Optional[str] = None) -> str:
    """GET the sign-in route; the hosted UI URL it redirects to."""
    answer = client.get("/auth/login/", {} if next_path is None else {"next": next_path})
    assert answer.status_code == 302, answer.content
    return str(answer["Location"])


def hosted_ui(lc: LocalCognito, url: str, username: str = USER, password: str = PASSWORD) -> str:
    """Sign in on the hosted UI at ``url``; the callback's path and query on this site."""
    redirect = urlsplit(lc.sign_in(url, username, password))
    assert f"{redirect.scheme}://{redirect.netloc}" == ORIGIN, redirect
    return f"{redirect.path}?{redirect.query}"


def sign_in(
    site: Site, next_path: Optional[str] = None, client: Optional[Client] = None, **user: str
) -> Any:
    """The whole sign-in with ``client`` (the site's): login, hosted UI, callback."""
    client = client or site.client
    callback = hosted_ui(site.lc, start(client, next_path), **user)
    return client.get(callback)


def expiring_sign_in(site: Site, seconds_left: float, **options: Any) -> Any:
    """A sign-in whose tokens have ``seconds_left`` left (LocalCognito's clock moved back
    while it issues them, then restored)."""
    site.lc.advance_clock(seconds_left - site.lc.token_lifetime)
    try:
        return sign_in(site, **options)
    finally:
        site.lc.clock = time.time
