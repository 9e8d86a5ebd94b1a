"""Edges of the DRF guard that issue 19's mutation pass found untested (see
``.ci/mutation.md``): the exception a 403 is raised as, ``IsCognitoAuthenticated`` behind
another authentication class, and when two :class:`CognitoUser` are equal.

Requests go through DRF's own ``APIRequestFactory`` to the views below (no URL module needed);
tokens come from LocalCognito and nothing in the verifier is mocked.
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

pytest.importorskip("rest_framework")

from .django_setup import configure_django

configure_django()  # once per process, for every test module that uses Django

from django.contrib.auth.models import AnonymousUser  # noqa: E402
from django.test import override_settings  # noqa: E402
from rest_framework import exceptions  # noqa: E402
from rest_framework.authentication import BaseAuthentication  # noqa: E402
from rest_framework.request import Request  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.test import APIRequestFactory  # noqa: E402
from rest_framework.views import APIView  # noqa: E402

from cognito_helper.django import (  # noqa: E402
    CognitoUser,
    HasScopes,
    IsCognitoAuthenticated,
)
from cognito_helper.testing import LocalCognito  # noqa: E402

# -- the views --------------------------------------------------------------------------------


HANDLED: List[Exception] = []  # what DRF's exception handling of the views below was given
USERS: List[Any] = []  # the request.user of each request AnyToken answered


class AnyToken(APIView):  # type: ignore[misc]
    """Records ``request.user``; records every exception DRF's handling is given."""

    def get(self, request: Request) -> Response:
        USERS.append(request.user)
        return Response({"sub": request.auth["sub"]})

    def handle_exception(self, exc: Exception) -> Any:
        HANDLED.append(exc)
        return super().handle_exception(exc)


class WriteScope(AnyToken):
    permission_classes = (HasScopes,)
    required_scopes = ("localapi/write",)


class User:
    """A user of the app's own, older API keys."""

    is_authenticated = True
    is_active = True


class ApiKeyBearer(BaseAuthentication):  # type: ignore[misc]
    """An app's own authentication class that also reads ``Bearer`` headers: its API keys
    (``Bearer key-...``). It takes the request before any Cognito class could."""

    def authenticate(self, request: Any) -> Optional[Tuple[User, None]]:
        header = request.META.get("HTTP_AUTHORIZATION") or ""
        return (User(), None) if header.startswith("Bearer key-") else None


class CognitoOnlyBehindApiKeys(APIView):  # type: ignore[misc]
    """Authenticated by the API-key class only; the permission wants a Cognito token."""

    authentication_classes = (ApiKeyBearer,)
    permission_classes = (IsCognitoAuthenticated,)

    def get(self, request: Request) -> Response:
        return Response({"reached": True})


# -- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture(autouse=True)
def recorded() -> Iterator[None]:
    HANDLED.clear()
    USERS.clear()
    yield
    HANDLED.clear()
    USERS.clear()


@pytest.fixture
def cognito(lc: LocalCognito) -> Iterator[LocalCognito]:
    """``lc``, configured as a project's ``COGNITO`` setting."""
    pool = {
        "user_pool_id": lc.user_pool_id,
        "client_id": lc.client_id,
        "issuer": lc.issuer,
        "jwks_url": lc.jwks_url,
    }
    with override_settings(COGNITO=pool):
        yield lc


def get(view: Any, authorization: Optional[str]) -> Any:
    """``view``'s answer to a GET with this ``Authorization`` header (``None``: without one)."""
    headers: Dict[str, str] = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    response = view.as_view()(APIRequestFactory().get("/", **headers))
    response.render()
    return response


# -- a 403 is DRF's PermissionDenied ----------------------------------------------------------


def test_a_missing_scope_reaches_drfs_exception_handling_as_permission_denied(
    cognito: LocalCognito,
) -> None:
    answer = get(WriteScope, f"Bearer {cognito.mint('access', scope='openid')}")
    assert answer.status_code == 403
    assert answer["WWW-Authenticate"].startswith('Bearer error="insufficient_scope"')
    [handled] = HANDLED
    # An app's EXCEPTION_HANDLER (or its logging of 403s) tells it from a 401 by its class.
    assert isinstance(handled, exceptions.PermissionDenied)
    assert not isinstance(handled, exceptions.AuthenticationFailed)


# -- IsCognitoAuthenticated behind another authentication class -------------------------------


def test_a_bearer_header_another_class_authenticated_is_not_a_cognito_token(
    cognito: LocalCognito,
) -> None:
    answer = get(CognitoOnlyBehindApiKeys, "Bearer key-0123456789")
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"] == "Bearer"
    assert answer.data["error"] == "unauthorized"


def test_a_malformed_bearer_header_is_400_when_no_cognito_class_reads_it(
    cognito: LocalCognito,
) -> None:
    answer = get(CognitoOnlyBehindApiKeys, "Bearer two tokens")
    assert answer.status_code == 400
    assert answer["WWW-Authenticate"] == 'Bearer error="invalid_request"'
    assert answer.data["error"] == "invalid_request"
    assert get(CognitoOnlyBehindApiKeys, None).status_code == 401


# -- CognitoUser equality ---------------------------------------------------------------------


def test_cognito_users_are_equal_only_for_the_same_sub(cognito: LocalCognito) -> None:
    for sub in ("sub-of-alice", "sub-of-bob", "sub-of-alice"):
        assert get(AnyToken, f"Bearer {cognito.mint('access', sub=sub)}").status_code == 200
    alice, bob, alice_again = USERS
    assert isinstance(alice, CognitoUser)
    assert alice == alice_again and hash(alice) == hash(alice_again)
    assert alice != bob and bob != alice
    assert alice != AnonymousUser() and alice != "sub-of-alice"  # another kind: never equal
