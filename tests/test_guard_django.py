"""cognito_helper.django: the DRF guard answers bearer.py's table through DRF's APIClient.

Django is configured once per process, by ``tests/django_setup.py`` (shared with the sign-in's
tests), with an in-memory database; the URL module is made in this file.
Tokens come from LocalCognito; nothing in the verifier is mocked.
"""

from __future__ import annotations

import sys
import types
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

pytest.importorskip("rest_framework")

from .django_setup import GUARD_URLCONF as URLCONF
from .django_setup import configure_django

configure_django()  # once per process, for every test module that uses Django

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.urls import path  # noqa: E402
from rest_framework.authentication import SessionAuthentication  # noqa: E402
from rest_framework.decorators import api_view, permission_classes  # noqa: E402
from rest_framework.permissions import IsAuthenticated  # noqa: E402
from rest_framework.request import Request  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402
from rest_framework.views import APIView  # noqa: E402

import cognito_helper  # noqa: E402
from cognito_helper import ConfigError, InvalidClaimsError  # noqa: E402
from cognito_helper.django import (  # noqa: E402
    BearerAuthenticationFailed,
    CognitoAuthentication,
    CognitoUser,
    HasScopes,
)
from cognito_helper.testing import LocalCognito  # noqa: E402

from .helpers import GROUPS, USER, MakeLocalCognito, imports, sign_in  # noqa: E402
from .snippets import snippets_for  # noqa: E402
from .tokens import KeyPair  # noqa: E402

# -- the views --------------------------------------------------------------------------------


def who(request: Request) -> Dict[str, Any]:
    user = request.user
    return {
        "user": type(user).__name__,
        "pk": user.pk,
        "username": user.username,
        "groups": list(getattr(user, "groups", ())) if isinstance(user, CognitoUser) else [],
        "token_use": request.auth["token_use"],
        "sub": request.auth["sub"],
    }


class AnyToken(APIView):
    def get(self, request: Request) -> Response:
        return Response(who(request))


class WriteScope(AnyToken):
    permission_classes = (HasScopes,)
    required_scopes = ("localapi/write",)


class StaffGroup(AnyToken):
    permission_classes = (HasScopes,)
    required_groups = "staff"


class AdminsGroup(AnyToken):
    permission_classes = (HasScopes,)
    required_groups = ("admins",)


class NothingRequired(AnyToken):
    permission_classes = (HasScopes,)


class IdTokens(CognitoAuthentication):
    token_use = "id"


class IdTokenView(AnyToken):
    authentication_classes = (IdTokens,)


class InRealm(CognitoAuthentication):
    realm = "orders"


class RealmView(WriteScope):
    authentication_classes = (InRealm,)


class OwnUsers(CognitoAuthentication):
    """Maps the claims onto django.contrib.auth's User, keyed by the Cognito ``sub``."""

    def get_user(self, claims: Dict[str, Any]) -> Any:
        user, _ = User.objects.get_or_create(
            username=claims["sub"], defaults={"first_name": claims.get("username", "")}
        )
        return user


class OwnUserView(AnyToken):
    authentication_classes = (OwnUsers,)


class NoTenantB(CognitoAuthentication):
    def check_claims(self, claims: Dict[str, Any]) -> None:
        if claims.get("custom:tenant") == "b":
            raise InvalidClaimsError("tenant b may not call this API", claim="custom:tenant")


class CheckedView(AnyToken):
    authentication_classes = (NoTenantB,)


class SessionFirst(AnyToken):
    """SessionAuthentication has no challenge: DRF would make any 401 a 403."""

    authentication_classes = (SessionAuthentication, CognitoAuthentication)


class DrfIsAuthenticated(AnyToken):
    permission_classes = (IsAuthenticated,)


@api_view(["GET"])
@permission_classes([HasScopes.require(scopes="localapi/read")])
def read_function(request: Request) -> Response:
    return Response(who(request))


urls = types.ModuleType(URLCONF)
urls.urlpatterns = [  # type: ignore[attr-defined]
    path("any", AnyToken.as_view()),
    path("write", WriteScope.as_view()),
    path("staff", StaffGroup.as_view()),
    path("admins", AdminsGroup.as_view()),
    path("nothing-required", NothingRequired.as_view()),
    path("id", IdTokenView.as_view()),
    path("realm", RealmView.as_view()),
    path("own-user", OwnUserView.as_view()),
    path("checked", CheckedView.as_view()),
    path("session-first", SessionFirst.as_view()),
    path("drf-is-authenticated", DrfIsAuthenticated.as_view()),
    path("read-function", read_function),
]
sys.modules[URLCONF] = urls


# -- fixtures ---------------------------------------------------------------------------------


def settings_dict(lc: LocalCognito) -> Dict[str, Any]:
    """The ``configure()`` dict for ``lc``'s pool and client, as a project's settings hold it."""
    return {
        "user_pool_id": lc.user_pool_id,
        "client_id": lc.client_id,
        "issuer": lc.issuer,
        "jwks_url": lc.jwks_url,
    }


@pytest.fixture
def api(lc: LocalCognito, memo: bool) -> Iterator[APIClient]:
    """An APIClient of the app, with ``COGNITO`` set to ``lc``'s settings dict."""
    with override_settings(COGNITO=settings_dict(lc)):
        yield APIClient()


@pytest.fixture(scope="module")
def database() -> None:
    call_command("migrate", verbosity=0)


def call(client: APIClient, route: str, authorization: Optional[str]) -> Any:
    """GET ``route`` twice (the second answer may come from the memo); both must agree on the
    status, the challenge's error code, ``Retry-After`` and the body's ``error`` (a
    description may differ: e.g. an unknown kid's refetch is cooling down the second time)."""
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    first, second = (client.get(f"/{route}", **headers) for _ in range(2))

    def outline(answer: Any) -> Any:
        challenge = answer.get("WWW-Authenticate")
        body = answer.json()
        return (
            answer.status_code,
            challenge and challenge.split(", error_description=")[0],
            answer.get("Retry-After"),
            body.get("error") if answer.status_code >= 400 else body,
        )

    assert outline(second) == outline(first)
    return first


def bearer(token: str) -> str:
    return f"Bearer {token}"


# -- the table --------------------------------------------------------------------------------


def test_a_valid_access_token_gives_the_user_and_claims(
    api: APIClient, lc: LocalCognito, memo: bool
) -> None:
    token = lc.mint("access", **{"cognito:groups": ["staff"]})
    hits = cognito_helper.verification_memo_info().hits
    answer = call(api, "any", bearer(token))
    assert answer.status_code == 200
    body = answer.json()
    assert body["user"] == "CognitoUser" and body["token_use"] == "access"
    assert body["pk"] == body["sub"] and body["groups"] == ["staff"]
    assert (cognito_helper.verification_memo_info().hits > hits) == memo


@pytest.mark.parametrize("header", [None, "Basic dXNlcjpwdw==", "Token abc"])
def test_no_bearer_credentials_is_401_with_a_bare_challenge(
    api: APIClient, header: Optional[str]
) -> None:
    answer = call(api, "any", header)
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"] == "Bearer"
    assert answer.json()["error"] == "unauthorized"
    assert set(answer.json()) == {"error", "error_description"}


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer   ", "bearer a b", "Bearer " + "x" * (64 * 1024)],
    ids=["no-token", "blank", "two-tokens", "too-long"],
)
def test_a_malformed_bearer_header_is_400_invalid_request(api: APIClient, header: str) -> None:
    answer = call(api, "any", header)
    assert answer.status_code == 400
    assert answer["WWW-Authenticate"] == 'Bearer error="invalid_request"'
    assert answer.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "make",
    [
        lambda lc, key: "not-a-jwt",
        lambda lc, key: lc.mint("access", exp=1_000_000, iat=999_000),
        lambda lc, key: lc.mint("id"),
        lambda lc, key: lc.mint("access", client_id="another-client"),
        lambda lc, key: lc.mint("access", header={"kid": "no-such-kid"}),
        lambda lc, key: lc.mint("access", key=key.private),
    ],
    ids=["malformed", "expired", "id-token", "other-client", "unknown-kid", "bad-signature"],
)
def test_a_token_that_fails_verification_is_401_invalid_token(
    api: APIClient,
    lc: LocalCognito,
    key_pairs: List[KeyPair],
    make: Callable[[LocalCognito, KeyPair], str],
) -> None:
    token = make(lc, key_pairs[0])
    answer = call(api, "any", bearer(token))
    assert answer.status_code == 401
    challenge = answer["WWW-Authenticate"]
    assert challenge.startswith('Bearer error="invalid_token", error_description="')
    assert answer.json()["error"] == "invalid_token"
    assert token not in challenge and token not in answer.content.decode()


def test_a_token_from_a_pool_that_is_not_configured_is_401(
    api: APIClient, make_lc: MakeLocalCognito
) -> None:
    other = make_lc(user_pool_id="us-east-1_OtherPool1")
    answer = call(api, "any", bearer(other.mint("access")))
    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer["WWW-Authenticate"]
    assert other.jwks_requests == 0  # keys come only from the configured pool


def test_a_missing_scope_is_403_insufficient_scope_naming_it(
    api: APIClient, lc: LocalCognito
) -> None:
    answer = call(api, "write", bearer(lc.mint("access")))  # openid email profile
    assert answer.status_code == 403
    challenge = answer["WWW-Authenticate"]
    assert challenge.startswith('Bearer error="insufficient_scope"')
    assert 'scope="localapi/write"' in challenge
    assert answer.json()["error"] == "insufficient_scope"
    granted = call(api, "write", bearer(lc.mint("access", scope="openid localapi/write")))
    assert granted.status_code == 200


def test_a_missing_group_is_403_and_a_held_one_passes(api: APIClient, lc: LocalCognito) -> None:
    token = lc.mint("access", **{"cognito:groups": ["staff"]})
    answer = call(api, "admins", bearer(token))
    assert answer.status_code == 403
    assert 'error="insufficient_scope"' in answer["WWW-Authenticate"]
    assert call(api, "staff", bearer(token)).status_code == 200
    no_groups = lc.mint("access", **{"cognito:groups": None})
    assert call(api, "staff", bearer(no_groups)).status_code == 403


def test_a_function_view_takes_its_scopes_from_the_factory(
    api: APIClient, lc: LocalCognito
) -> None:
    assert call(api, "read-function", bearer(lc.mint("access"))).status_code == 403
    token = lc.mint("access", scope="localapi/read")
    assert call(api, "read-function", bearer(token)).status_code == 200
    assert call(api, "read-function", None).status_code == 401


def test_no_usable_jwks_is_503_with_retry_after_and_no_challenge(
    make_lc: MakeLocalCognito, memo: bool
) -> None:
    down = make_lc()
    token = down.mint("access")
    with override_settings(COGNITO=settings_dict(down)):
        down.stop()
        answer = call(APIClient(), "any", bearer(token))
    assert answer.status_code == 503
    assert answer["Retry-After"] == "10"
    assert answer.get("WWW-Authenticate") is None
    assert answer.json()["error"] == "temporarily_unavailable"


# -- DRF's own machinery ----------------------------------------------------------------------


def test_the_table_holds_when_another_authentication_class_comes_first(
    api: APIClient, lc: LocalCognito
) -> None:
    bad = call(api, "session-first", bearer("not-a-jwt"))
    assert bad.status_code == 401
    assert bad["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    assert call(api, "session-first", "Bearer a b").status_code == 400
    nothing = call(api, "session-first", None)
    assert (nothing.status_code, nothing["WWW-Authenticate"]) == (401, "Bearer")
    assert call(api, "session-first", bearer(lc.mint("access"))).status_code == 200


def test_drf_is_authenticated_answers_401_with_the_bearer_challenge(api: APIClient) -> None:
    answer = call(api, "drf-is-authenticated", None)
    assert (answer.status_code, answer["WWW-Authenticate"]) == (401, "Bearer")
    assert "detail" in answer.json()  # DRF's own body; IsCognitoAuthenticated gives the table's


def test_the_realm_is_in_every_challenge(api: APIClient, lc: LocalCognito) -> None:
    assert call(api, "realm", None)["WWW-Authenticate"] == 'Bearer realm="orders"'
    invalid = call(api, "realm", bearer("not-a-jwt"))["WWW-Authenticate"]
    assert invalid.startswith('Bearer realm="orders", error="invalid_token"')
    scope = call(api, "realm", bearer(lc.mint("access")))["WWW-Authenticate"]
    assert scope.startswith('Bearer realm="orders", error="insufficient_scope"')


def test_a_view_that_requires_nothing_is_a_configuration_error(
    api: APIClient, lc: LocalCognito
) -> None:
    with pytest.raises(ConfigError, match="neither required_scopes nor required_groups"):
        api.get("/nothing-required", HTTP_AUTHORIZATION=bearer(lc.mint("access")))
    with pytest.raises(ValueError):
        HasScopes.require(scopes="")


def test_the_check_hook_refuses_with_401(api: APIClient, lc: LocalCognito) -> None:
    refused = call(api, "checked", bearer(lc.mint("access", **{"custom:tenant": "b"})))
    assert refused.status_code == 401
    assert "tenant b may not call this API" in refused["WWW-Authenticate"]
    assert call(api, "checked", bearer(lc.mint("access"))).status_code == 200


def test_the_exception_carries_the_refusal(lc: LocalCognito) -> None:
    from django.test import RequestFactory

    request = Request(RequestFactory().get("/", HTTP_AUTHORIZATION="Bearer a b"))
    with override_settings(COGNITO=settings_dict(lc)):
        with pytest.raises(BearerAuthenticationFailed) as info:
            CognitoAuthentication().authenticate(request)
    assert info.value.refusal.status == 400
    info.value.status_code = 403  # what APIView.handle_exception may do: ignored
    info.value.auth_header = None
    assert info.value.status_code == 400
    assert info.value.auth_header == 'Bearer error="invalid_request"'


# -- the user ---------------------------------------------------------------------------------


def test_a_signed_in_user_maps_onto_cognito_user(api: APIClient, lc: LocalCognito) -> None:
    done = sign_in(lc)
    tokens = cognito_helper.get_cognito_tokens(
        code=done.code, code_verifier=done.code_verifier, config=lc.config
    )
    body = call(api, "any", bearer(tokens.access_token)).json()
    assert body["username"] == USER and body["groups"] == list(GROUPS)
    assert body["user"] == "CognitoUser" and body["pk"] == body["sub"]
    # an ID token is refused here, and accepted by a view whose class says token_use = "id"
    assert call(api, "any", bearer(tokens.id_token)).status_code == 401
    id_view = call(api, "id", bearer(tokens.id_token)).json()
    assert id_view["username"] == USER and id_view["token_use"] == "id"


def test_cognito_user_without_a_username_is_its_sub() -> None:
    user = CognitoUser({"sub": "client-1", "scope": "a b"})
    assert user.is_authenticated and not user.is_anonymous
    assert (user.username, user.groups, user.scopes) == ("client-1", (), frozenset({"a", "b"}))
    assert str(user) == "client-1" and user == CognitoUser({"sub": "client-1"})


def test_the_user_hook_maps_claims_onto_the_project_user_model(
    api: APIClient, lc: LocalCognito, database: None
) -> None:
    token = lc.mint("access")
    body = call(api, "own-user", bearer(token)).json()
    assert body["user"] == "User" and body["username"] == body["sub"]
    assert User.objects.filter(username=body["sub"]).count() == 1  # twice, one row
    User.objects.filter(username=body["sub"]).update(is_active=False)
    refused = call(api, "own-user", bearer(token))
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_token"
    User.objects.all().delete()


# -- configuration ----------------------------------------------------------------------------


def test_the_cognito_setting_may_list_several_pools(make_lc: MakeLocalCognito) -> None:
    one, two = make_lc(), make_lc(user_pool_id="us-east-1_OtherPool1")
    with override_settings(COGNITO=[settings_dict(one), two.config]):
        client = APIClient()
        assert client.get("/any", HTTP_AUTHORIZATION=bearer(one.mint("access"))).status_code == 200
        assert client.get("/any", HTTP_AUTHORIZATION=bearer(two.mint("access"))).status_code == 200


def test_without_the_setting_configure_then_the_environment_is_used(
    lc: LocalCognito, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = APIClient()
    token = bearer(lc.mint("access"))
    with pytest.raises(ConfigError):  # nothing configured anywhere: a 500, not a refusal
        client.get("/any", HTTP_AUTHORIZATION=token)
    cognito_helper.configure(lc.config)
    assert client.get("/any", HTTP_AUTHORIZATION=token).status_code == 200
    cognito_helper.configure(None)
    for name, value in {
        "COGNITO_USER_POOL_ID": lc.user_pool_id,
        "COGNITO_CLIENT_ID": lc.client_id,
        "COGNITO_ISSUER": lc.issuer,
        "COGNITO_JWKS_URL": lc.jwks_url,
    }.items():
        monkeypatch.setenv(name, value)
    assert client.get("/any", HTTP_AUTHORIZATION=token).status_code == 200


def test_a_typo_in_the_cognito_setting_is_a_configuration_error(lc: LocalCognito) -> None:
    with override_settings(COGNITO={**settings_dict(lc), "client_idd": "x"}):
        with pytest.raises(ConfigError, match="client_idd"):
            APIClient().get("/any", HTTP_AUTHORIZATION=bearer(lc.mint("access")))


def test_the_cognito_authentication_setting_sets_the_options(lc: LocalCognito) -> None:
    options = {"token_use": "id", "realm": "api"}
    with override_settings(COGNITO=settings_dict(lc), COGNITO_AUTHENTICATION=options):
        client = APIClient()
        assert client.get("/any", HTTP_AUTHORIZATION=bearer(lc.mint("id"))).status_code == 200
        refused = client.get("/any", HTTP_AUTHORIZATION=bearer(lc.mint("access")))
        assert refused.status_code == 401
        assert refused["WWW-Authenticate"].startswith('Bearer realm="api", error="invalid_token"')
        # a subclass's attribute wins over the setting
        assert client.get("/realm", HTTP_AUTHORIZATION="x")["WWW-Authenticate"] == (
            'Bearer realm="orders"'
        )
    with override_settings(COGNITO=settings_dict(lc), COGNITO_AUTHENTICATION={"scopes": "x"}):
        with pytest.raises(ConfigError, match="scopes"):
            APIClient().get("/any", HTTP_AUTHORIZATION=bearer(lc.mint("access")))


def test_a_misspelt_cognito_authentication_key_names_the_closest_known_key(
    lc: LocalCognito,
) -> None:
    """The one suggestion rule of configure() and COGNITO_* variables."""
    options = {"token_uses": "id", "realm": "api"}
    with override_settings(COGNITO=settings_dict(lc), COGNITO_AUTHENTICATION=options):
        with pytest.raises(ConfigError) as info:
            APIClient().get("/any", HTTP_AUTHORIZATION=bearer(lc.mint("access")))
    message = str(info.value)
    assert "COGNITO_AUTHENTICATION" in message and "token_uses" in message
    assert "did you mean 'token_use'?" in message


def test_a_cognito_authentication_setting_that_is_not_a_dict_is_a_config_error(
    lc: LocalCognito,
) -> None:
    with override_settings(COGNITO=settings_dict(lc), COGNITO_AUTHENTICATION=["token_use"]):
        with pytest.raises(ConfigError, match="COGNITO_AUTHENTICATION setting must be a dict"):
            APIClient().get("/any", HTTP_AUTHORIZATION=bearer(lc.mint("access")))


# -- the README ---------------------------------------------------------------------------


#: What ``django-admin startproject`` writes: the README's settings go below it.
STARTPROJECT_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
STARTPROJECT_TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]


def test_the_readme_snippets(lc: LocalCognito, database: None) -> None:
    # "### Django REST framework": settings.py (added below what startproject wrote), views.py,
    # and the subclass that maps tokens onto the project's own users
    settings_block, views_block, subclass_block = snippets_for(test_the_readme_snippets)
    readme_settings = settings_block.run(INSTALLED_APPS=list(STARTPROJECT_APPS))
    assert readme_settings["REST_FRAMEWORK"] == settings.REST_FRAMEWORK  # what this module runs
    assert cognito_helper.CognitoConfig(**readme_settings["COGNITO"])
    namespace = {
        **views_block.run(module="readme_django_views"),
        **subclass_block.run(module="readme_django_authentication"),
    }
    with_own_users = type("Own", (namespace["Orders"],), {})
    with_own_users.authentication_classes = (namespace["ProjectAuthentication"],)
    snippet_urls = types.ModuleType("tests_guard_django_readme_urls")
    snippet_urls.urlpatterns = [  # type: ignore[attr-defined]
        path("orders", namespace["Orders"].as_view()),
        path("reports", namespace["Reports"].as_view()),
        path("count", namespace["order_count"]),
        path("own", with_own_users.as_view()),
    ]
    sys.modules[snippet_urls.__name__] = snippet_urls
    client = APIClient()

    def get(route: str, token: Optional[str]) -> Any:
        headers = {} if token is None else {"HTTP_AUTHORIZATION": bearer(token)}
        return client.get(f"/{route}", **headers)

    with override_settings(ROOT_URLCONF=snippet_urls.__name__, COGNITO=settings_dict(lc)):
        plain = lc.mint("access")
        reader = lc.mint("access", scope="orders/read")
        admin = lc.mint("access", scope="orders/read", **{"cognito:groups": ["admins"]})
        assert get("orders", None).status_code == 401
        assert get("orders", plain).json()["user"] == "local-user"
        assert get("reports", reader).status_code == 403
        assert get("reports", admin).json() == {"groups": ["admins"]}
        assert get("count", plain).status_code == 403
        assert get("count", reader).json() == {"count": 0}
        own = get("own", plain).json()
        assert User.objects.filter(username=own["sub"]).exists()
        assert get("own", "not-a-jwt")["WWW-Authenticate"].startswith('Bearer realm="orders", ')
    User.objects.all().delete()
    with override_settings(
        ROOT_URLCONF=snippet_urls.__name__,
        COGNITO=settings_dict(lc),
        INSTALLED_APPS=readme_settings["INSTALLED_APPS"],
        TEMPLATES=STARTPROJECT_TEMPLATES,
        STATIC_URL="static/",  # startproject's too
    ):  # a browser asks for HTML: DRF's browsable API renders its templates
        browser = client.get("/orders", HTTP_ACCEPT="text/html")
        assert browser.status_code == 401
        assert browser["Content-Type"].startswith("text/html")


def test_import_cognito_helper_does_not_import_django() -> None:
    assert not imports("import cognito_helper", "django"), "django imported"


# -- what a refusal sends and names; repeated headers; nothing configured ---------------------


class BlockedTenant(CognitoAuthentication):
    """A check whose refusal holds a detail for the log and a sentence for the client."""

    def check_claims(self, claims: Dict[str, Any]) -> None:
        exc = InvalidClaimsError("tenant 'acme-internal-7' is blocked", claim="custom:tenant")
        exc.public = "this tenant is blocked"
        raise exc


class BlockedTenantView(AnyToken):
    authentication_classes = (BlockedTenant,)


urls.urlpatterns += [path("blocked", BlockedTenantView.as_view())]  # type: ignore[attr-defined]


def test_a_refusal_sends_the_public_sentence(api: APIClient, lc: LocalCognito) -> None:
    refused = call(api, "blocked", bearer(lc.mint("access")))
    assert refused.status_code == 401
    assert refused.json()["error_description"] == "this tenant is blocked"
    assert refused["WWW-Authenticate"].endswith('error_description="this tenant is blocked"')
    assert "acme-internal-7" not in refused.content.decode() + refused["WWW-Authenticate"]


def test_a_missing_group_names_no_scope(api: APIClient, lc: LocalCognito) -> None:
    refused = call(api, "admins", bearer(lc.mint("access", **{"cognito:groups": ["staff"]})))
    assert refused.status_code == 403
    assert "scope=" not in refused["WWW-Authenticate"]


@pytest.mark.parametrize(
    "joined",
    ["Basic dXNlcjpwdw==,Bearer {}", "Bearer {},Basic dXNlcjpwdw=="],
    ids=["basic-first", "bearer-first"],
)
def test_a_bearer_header_beside_another_scheme_is_400(
    api: APIClient, lc: LocalCognito, joined: str
) -> None:
    # Django keeps one value per header: WSGI servers and its ASGI handler join repeats with ",".
    refused = call(api, "any", joined.format(lc.mint("access")))
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_request")


def test_nothing_configured_is_the_same_error_with_or_without_a_token(lc: LocalCognito) -> None:
    client = APIClient()
    for authorization in [None, "Basic dXNlcjpwdw==", bearer(lc.mint("access"))]:
        headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
        with pytest.raises(ConfigError):
            client.get("/any", **headers)
