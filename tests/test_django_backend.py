"""Issue 22, Django: ``CognitoBackend``, the Django ``User`` of a Cognito sign-in: created at
the first sign-in, updated at each one, its username from the claim the settings name, its
groups synced only when asked and only for the groups named. Over loopback HTTP against
LocalCognito, with Django's test client."""

from __future__ import annotations

from typing import Iterator

import pytest

pytest.importorskip("django")

from .django_setup import configure_django

configure_django()

from django.contrib.auth import authenticate  # noqa: E402
from django.contrib.auth.models import Group, Permission, User  # noqa: E402
from django.test import RequestFactory  # noqa: E402

from cognito_helper import ConfigError  # noqa: E402
from cognito_helper.integrations.django_settings import sign_in as current_sign_in  # noqa: E402
from cognito_helper.testing import LocalCognito  # noqa: E402

from .django_support import (  # noqa: E402
    Site,
    local_cognito,
    migrate,
    running_site,
    sign_in,
)
from .helpers import EMAIL, PASSWORD, USER, MakeLocalCognito  # noqa: E402


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


def sub_of(lc: LocalCognito, username: str = USER) -> str:
    return str(lc.user(username).attributes["sub"])


def account(site: Site) -> dict:
    answer = site.client.get("/account")
    assert answer.status_code == 200, answer
    return dict(answer.json())


# -- the user ---------------------------------------------------------------------------------


def test_the_first_sign_in_creates_the_user_from_the_id_token(lc: LocalCognito) -> None:
    lc.add_user("bob", PASSWORD, email="bob@example.com", given_name="Bob", family_name="Stone")
    with running_site(lc) as site:
        assert sign_in(site, username="bob", password=PASSWORD).status_code == 302
        assert account(site) == {
            "username": sub_of(lc, "bob"),
            "email": "bob@example.com",
            "first_name": "Bob",
            "last_name": "Stone",
            "groups": [],
            "claims_sub": sub_of(lc, "bob"),
        }
        user = User.objects.get()
        assert user.is_active and not user.is_staff and not user.is_superuser
        assert not user.has_usable_password()  # no password sign-in for this user


def test_each_sign_in_updates_the_user(make_lc: MakeLocalCognito) -> None:
    # Two pools hold one person (one sub) under two emails and names: the second sign-in
    # finds the same Django user and updates it.
    first = local_cognito(make_lc)
    second = local_cognito(make_lc)
    sub = sub_of(first)
    second.add_user("carol", PASSWORD, sub=sub, email="new@example.com", given_name="Carol")
    with running_site(first) as site:
        sign_in(site)
        with running_site(second) as again:
            User.objects.create(username="someone-else")
            sign_in(again, username="carol", password=PASSWORD)
            assert account(again)["email"] == "new@example.com"
            assert account(again)["first_name"] == "Carol"
            assert User.objects.filter(username=sub).count() == 1
            assert User.objects.count() == 2


@pytest.mark.parametrize(
    ("claim", "expected"),
    [("sub", None), ("cognito:username", USER), ("email", EMAIL)],
)
def test_the_username_is_the_claim_the_settings_name(
    lc: LocalCognito, claim: str, expected: str
) -> None:
    with running_site(lc, username_claim=claim) as site:
        sign_in(site)
        assert account(site)["username"] == (expected or sub_of(lc))


def test_an_unverified_email_is_no_username(lc: LocalCognito) -> None:
    lc.add_user("mallory", PASSWORD, email="victim@example.com", email_verified="false")
    with running_site(lc, username_claim="email") as site:
        User.objects.create(username="victim@example.com")
        answer = sign_in(site, username="mallory", password=PASSWORD)
        assert answer.status_code == 403
        assert site.client.get("/").content == b"anonymous"
        assert len(site.store) == 0  # the Cognito session was ended at once
        assert ("POST", "/oauth2/revoke") in lc.requests_seen


def test_a_username_longer_than_the_field_is_refused(lc: LocalCognito) -> None:
    long_email = "x" * 160 + "@example.com"
    lc.add_user("long", PASSWORD, email=long_email)
    with running_site(lc, username_claim="email") as site:
        assert sign_in(site, username="long", password=PASSWORD).status_code == 403
        assert User.objects.count() == 0


def test_an_inactive_user_is_refused(site: Site, lc: LocalCognito) -> None:
    User.objects.create(username=sub_of(lc), is_active=False)
    assert sign_in(site).status_code == 403
    assert site.client.get("/").content == b"anonymous"
    assert len(site.store) == 0


def test_a_user_made_inactive_is_signed_out_at_the_next_request(
    site: Site, lc: LocalCognito
) -> None:
    sign_in(site)
    User.objects.filter(username=sub_of(lc)).update(is_active=False)
    assert site.client.get("/").content == b"anonymous"


# -- groups -----------------------------------------------------------------------------------


def test_groups_are_not_synced_unless_asked(site: Site) -> None:
    sign_in(site)  # alice is in cognito:groups ["staff"]
    assert account(site)["groups"] == []
    assert Group.objects.count() == 0


def test_only_the_groups_named_are_synced(lc: LocalCognito) -> None:
    with running_site(lc, groups=["staff", "admins"]) as site:
        user = User.objects.create(username=sub_of(lc))
        admins, editors = Group.objects.create(name="admins"), Group.objects.create(name="editors")
        user.groups.add(admins, editors)
        sign_in(site)
        # staff: in cognito:groups, joined; admins: named, not held, left; editors: not named.
        assert account(site)["groups"] == ["editors", "staff"]
        assert not Group.objects.filter(name="other").exists()


def test_django_permissions_follow_the_synced_groups(lc: LocalCognito) -> None:
    with running_site(lc, groups=["staff"]) as site:
        staff = Group.objects.create(name="staff")
        staff.permissions.add(Permission.objects.get(codename="view_user"))
        sign_in(site)
        user = User.objects.get(username=sub_of(lc))
        assert user.has_perm("auth.view_user")
        assert not user.has_perm("auth.delete_user")


# -- the backend alone ------------------------------------------------------------------------


def test_the_backend_answers_only_a_cognito_session(site: Site) -> None:
    request = RequestFactory().get("/")
    User.objects.create_user("alice", password=PASSWORD)
    # A username and password is ModelBackend's business (not configured here): refused.
    assert authenticate(request, username="alice", password=PASSWORD) is None
    assert authenticate(request, cognito_session={"user": {"sub": "forged"}}) is None
    assert authenticate(request, cognito_session="x" * 43) is None


@pytest.mark.parametrize(
    ("login", "message"),
    [
        ({"usernme_claim": "sub"}, "username_claim"),
        ({"username_claim": "phone_number"}, "username_claim"),
        ({"groups": "staff admins"}, None),
        ({"groups": [""]}, "groups"),
        ({"groups": [1]}, "groups"),
        ({"store": "no.such.module.make_store"}, "cannot import"),
    ],
)
def test_bad_login_settings_are_config_errors(lc: LocalCognito, login: dict, message: str) -> None:
    with running_site(lc, **login):
        if message is None:
            assert current_sign_in().groups == ("staff admins",)  # one name, as given
            return
        with pytest.raises(ConfigError, match=message):
            current_sign_in()


def test_the_sign_in_needs_one_app_client(lc: LocalCognito) -> None:
    from django.test import override_settings

    with running_site(lc):
        with override_settings(COGNITO=[lc.config, lc.config]):
            with pytest.raises(ConfigError, match="one app client"):
                current_sign_in()
        with override_settings(COGNITO=[lc.config]):
            assert current_sign_in().sessions.config is lc.config
