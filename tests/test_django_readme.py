"""README's "Signed-in web apps", "Django": its settings.py (run below what ``django-admin
startproject`` writes), urls.py and views.py, as printed, make a site that signs a user in
through LocalCognito and calls an API (a loopback server standing in for
https://orders.example.com) with a fresh access token."""

from __future__ import annotations

import sys
import types
from typing import Iterator, List, Tuple

import pytest

pytest.importorskip("django")

from .django_setup import configure_django

configure_django()

from django.test import Client, override_settings  # noqa: E402

from cognito_helper import CognitoConfig, decode_verify_jwt  # noqa: E402
from cognito_helper.testing import LocalCognito  # noqa: E402

from .django_support import ORIGIN, forget_users, hosted_ui, local_cognito, migrate  # noqa: E402
from .helpers import MakeLocalCognito  # noqa: E402
from .servers import Handler, ScriptedServer, send  # noqa: E402
from .snippets import snippets_for  # noqa: E402

#: What `django-admin startproject` writes (Django 4.2 to 5.2).
STARTPROJECT_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
STARTPROJECT_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]


@pytest.fixture(scope="module", autouse=True)
def database() -> None:
    migrate()


@pytest.fixture
def orders_api() -> Iterator[Tuple[str, List[str]]]:
    """``/v1/orders`` on a loopback server; the bearer tokens it was sent."""
    tokens: List[str] = []

    def answer(h: Handler) -> None:
        tokens.append((h.headers.get("Authorization") or "").partition("Bearer ")[2])
        send(h, 200, b'{"orders": [{"id": 1}]}')

    with ScriptedServer() as server:
        server.routes["/v1/orders"] = answer
        yield server.url, tokens


def test_the_readme_snippets(make_lc: MakeLocalCognito, orders_api: Tuple[str, List[str]]) -> None:
    settings_block, urls_block, views_block = snippets_for(test_the_readme_snippets)
    readme = settings_block.run(
        INSTALLED_APPS=list(STARTPROJECT_APPS), MIDDLEWARE=list(STARTPROJECT_MIDDLEWARE)
    )
    middleware = readme["MIDDLEWARE"]
    auth = middleware.index("django.contrib.auth.middleware.AuthenticationMiddleware")
    assert middleware[auth + 1] == "cognito_helper.django.CognitoSessionMiddleware"
    assert CognitoConfig.from_dict(readme["COGNITO"]).redirect_uri.endswith("/auth/callback")

    api_url, tokens = orders_api
    views = views_block.replacing({"https://orders.example.com": api_url}).run(
        module="orders.views"
    )
    package = types.ModuleType("orders")
    package.views = types.SimpleNamespace(**views)  # type: ignore[attr-defined]
    sys.modules["orders"] = package
    try:
        urls = types.ModuleType("readme_django_urls")
        urls.urlpatterns = urls_block.run(module=urls.__name__)["urlpatterns"]  # type: ignore[attr-defined]
        sys.modules[urls.__name__] = urls
    finally:
        del sys.modules["orders"]

    lc = local_cognito(make_lc)  # the callback at /auth/callback, as in the README
    lc.add_user("admin", "Admin-Passw0rd!", email="admin@example.com", groups=["admins"])
    site = {
        name: readme[name]
        for name in ("INSTALLED_APPS", "MIDDLEWARE", "AUTHENTICATION_BACKENDS", "LOGIN_URL")
    }
    with override_settings(
        **site,
        ROOT_URLCONF=urls.__name__,
        ALLOWED_HOSTS=["localhost"],
        COGNITO=lc.config,  # the README's pool, here LocalCognito's
        COGNITO_LOGIN=readme["COGNITO_LOGIN"],
    ):
        migrate()
        try:
            signed_in_call(lc, tokens)
        finally:
            forget_users()
    sys.modules.pop(urls.__name__)


def signed_in_call(lc: LocalCognito, tokens: List[str]) -> None:
    client = Client(HTTP_HOST=ORIGIN.split("//")[1])
    answer = client.get("/orders/")
    assert answer.status_code == 302 and answer["Location"] == "/auth/login/?next=/orders/"
    login = client.get(answer["Location"])
    callback = client.get(hosted_ui(lc, login["Location"], "admin", "Admin-Passw0rd!"))
    assert callback["Location"] == "/orders/"
    answer = client.get("/orders/")
    assert answer.status_code == 200
    body = answer.json()
    assert body["orders"] == [{"id": 1}]
    assert body["user"] == lc.user("admin").attributes["sub"]
    assert (
        decode_verify_jwt(tokens[-1], config=lc.config, token_use="access")["sub"] == (body["user"])
    )
    from django.contrib.auth.models import User

    assert [g.name for g in User.objects.get().groups.all()] == ["admins"]
