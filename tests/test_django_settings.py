"""Issue 22, Django: what is checked at start-up (unsafe session settings refused with
``ImproperlyConfigured``; the system check of the callback's route) and how the callback's
path relates to the prefix ``cognito_helper.django.urls`` is included at."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Iterator, List

import pytest

pytest.importorskip("django")

from .django_setup import configure_django

configure_django()

from django.apps import apps  # noqa: E402
from django.core.exceptions import ImproperlyConfigured  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.urls import NoReverseMatch, path, reverse  # noqa: E402

import cognito_helper  # noqa: E402
from cognito_helper.django import CognitoSessionMiddleware, views  # noqa: E402
from cognito_helper.integrations.django_settings import sign_in as current_sign_in  # noqa: E402
from cognito_helper.integrations.django_views import callback_route_check  # noqa: E402
from cognito_helper.testing import LocalCognito  # noqa: E402

from .django_support import (  # noqa: E402
    Site,
    hosted_ui,
    local_cognito,
    make_urls,
    migrate,
    running_site,
    start,
)
from .helpers import MakeLocalCognito  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SIGNED = "django.contrib.sessions.backends.signed_cookies"


@pytest.fixture(scope="module", autouse=True)
def database() -> None:
    migrate()


@pytest.fixture
def lc(make_lc: MakeLocalCognito) -> LocalCognito:
    return local_cognito(make_lc)


@pytest.fixture
def site(lc: LocalCognito) -> Iterator[Site]:
    with running_site(lc) as running:
        yield running


# -- unsafe session settings ------------------------------------------------------------------


UNSAFE = [
    ({"SESSION_ENGINE": SIGNED}, "signed cookie would carry the session"),
    ({"SESSION_COOKIE_HTTPONLY": False}, "HttpOnly"),
    ({"SESSION_COOKIE_SAMESITE": "Strict"}, "'Lax'"),
    ({"SESSION_COOKIE_SAMESITE": "None"}, "'Lax'"),
    ({"SESSION_COOKIE_SAMESITE": False}, "'Lax'"),
]


@pytest.mark.parametrize(("unsafe", "message"), UNSAFE)
def test_the_app_refuses_unsafe_session_settings_when_django_starts(
    unsafe: Any, message: str
) -> None:
    with override_settings(**unsafe):
        with pytest.raises(ImproperlyConfigured, match=message):
            apps.get_app_config("cognito_helper").ready()
        with pytest.raises(ImproperlyConfigured, match=message):
            CognitoSessionMiddleware(lambda request: None)  # type: ignore[arg-type,return-value]


@pytest.mark.parametrize(("unsafe", "message"), UNSAFE)
def test_the_sign_in_refuses_them_too(lc: LocalCognito, unsafe: Any, message: str) -> None:
    with running_site(lc), override_settings(**unsafe):
        with pytest.raises(ImproperlyConfigured, match=message):
            current_sign_in()


def test_an_engine_built_on_signed_cookies_is_refused() -> None:
    module = type(sys)("tests_django_signed_engine")
    from django.contrib.sessions.backends.signed_cookies import SessionStore as Signed

    module.SessionStore = type("SessionStore", (Signed,), {})  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    with override_settings(SESSION_ENGINE=module.__name__):
        with pytest.raises(ImproperlyConfigured, match="signed cookie"):
            apps.get_app_config("cognito_helper").ready()


def test_an_https_callback_needs_secure_session_cookies(make_lc: MakeLocalCognito) -> None:
    lc = make_lc(
        redirect_uri="https://app.example.com/auth/callback",
        logout_uri="https://app.example.com/",
    )
    with running_site(lc):
        with pytest.raises(ImproperlyConfigured, match="SESSION_COOKIE_SECURE"):
            current_sign_in()
        with override_settings(SESSION_COOKIE_SECURE=True):
            assert current_sign_in().sessions.cookie.secure


@pytest.mark.slow  # a new interpreter
def test_django_refuses_to_start_with_the_signed_cookies_engine(tmp_path: Path) -> None:
    program = textwrap.dedent(
        f"""
        import django
        from django.conf import settings
        settings.configure(
            INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth",
                            "django.contrib.sessions", "cognito_helper.django"],
            SESSION_ENGINE={SIGNED!r},
        )
        django.setup()
        print("started")
        """
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode != 0 and "started" not in done.stdout
    assert "django.core.exceptions.ImproperlyConfigured: SESSION_ENGINE is" in done.stderr
    assert "signed cookie would carry the session to the browser" in done.stderr


# -- the callback's path and the include's prefix ---------------------------------------------


def callback_at(lc: LocalCognito, site: Site) -> int:
    return int(site.client.get(hosted_ui(lc, start(site.client))).status_code)


def test_the_callback_is_routed_at_the_redirect_uris_path_under_the_prefix(site: Site) -> None:
    assert callback_route_check() == []
    assert reverse("cognito:login") == "/auth/login/"
    assert reverse("cognito:logout") == "/auth/logout/"
    assert callback_at(site.lc, site) == 302
    # Nothing else under the prefix is the callback, and reverse() never builds its URL.
    for other in ("/auth/other", "/auth/callback/x", "/auth/xcallback", "/callback"):
        assert site.client.get(other).status_code == 404
    with pytest.raises(NoReverseMatch):
        reverse(views.callback)


def start_at(site: Site, login: str) -> str:
    answer = site.client.get(login)
    assert answer.status_code == 302
    return str(answer["Location"])


def test_included_at_the_root_the_whole_path_is_routed(lc: LocalCognito) -> None:
    urls = make_urls("tests_django_root_urls", prefix="")
    with running_site(lc) as site, override_settings(ROOT_URLCONF=urls):
        assert callback_route_check() == []
        assert site.client.get(hosted_ui(lc, start_at(site, "/login/"))).status_code == 302
        assert site.client.get("/callback").status_code == 404  # the path is /auth/callback


def test_a_redirect_uri_outside_the_prefix_is_a_warning_and_is_routed_by_hand(
    make_lc: MakeLocalCognito,
) -> None:
    # cognito-helper demo --serve registers /cognito_redirect, at the root.
    lc = local_cognito(make_lc, callback="/cognito_redirect")
    with running_site(lc) as site:
        warnings: List[Any] = callback_route_check()
        assert [w.id for w in warnings] == ["cognito_helper.W001"]
        assert "'/cognito_redirect'" in warnings[0].msg
        assert "path('cognito_redirect', cognito_helper.django.views.callback)" in (
            warnings[0].hint
        )
        assert site.client.get("/auth/cognito_redirect").status_code == 404
        routed = make_urls(
            "tests_django_routed_urls", extra=[path("cognito_redirect", views.callback)]
        )
        with override_settings(ROOT_URLCONF=routed):
            assert callback_route_check() == []
            assert callback_at(lc, site) == 302


def test_the_check_warns_when_the_settings_cannot_sign_in(lc: LocalCognito) -> None:
    with running_site(lc), override_settings(COGNITO={"user_pool_id": "us-east-1_x"}):
        cognito_helper.configure(None)
        assert [w.id for w in callback_route_check()] == ["cognito_helper.W002"]
    with running_site(lc), override_settings(SESSION_COOKIE_HTTPONLY=False):
        assert [e.id for e in callback_route_check()] == ["cognito_helper.E001"]


def test_the_check_runs_with_manage_py_check(make_lc: MakeLocalCognito) -> None:
    from django.core.management import call_command

    for callback, found in (("/auth/callback", False), ("/cognito_redirect", True)):
        with running_site(local_cognito(make_lc, callback=callback)):
            out, err = io.StringIO(), io.StringIO()
            call_command("check", tags=["urls"], stdout=out, stderr=err)
            assert ("cognito_helper.W001" in out.getvalue() + err.getvalue()) == found
