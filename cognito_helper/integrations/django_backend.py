"""The Django authentication backend of the sign-in: :class:`CognitoBackend`.

Put ``"cognito_helper.django.CognitoBackend"`` in ``AUTHENTICATION_BACKENDS``. The callback
calls ``django.contrib.auth.authenticate(request, cognito_session=session)`` with the
:class:`~cognito_helper.sessions.Session` it has just created (the ID and access tokens
verified); the backend answers with the Django user of that session's ID-token claims:

* created at the first sign-in (with an unusable password: it signs in through Cognito only),
  updated at each one: ``email``, ``first_name`` (``given_name``) and ``last_name``
  (``family_name``) from the ID token;
* found by its username, which is the claim ``COGNITO_LOGIN["username_claim"]`` names:
  ``"sub"`` (the default: never reused, never changes), ``"cognito:username"`` or ``"email"``
  (only an ``email_verified`` one: else anyone who could sign up with another person's
  address would become that person's Django user);
* in the Django groups named in ``COGNITO_LOGIN["groups"]`` exactly when ``cognito:groups``
  holds them (opt-in: without that setting no group is touched; groups not named are never
  touched).

A user Django marks inactive (``is_active`` false) is refused, as ``ModelBackend`` refuses
them. Permissions come from ``ModelBackend``: ``user.has_perm`` and ``user.groups`` work as
for any Django user.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, Optional

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.core.exceptions import FieldDoesNotExist

from ..sessions.core import Session
from .django_settings import SignIn, sign_in

__all__ = ["CognitoBackend"]

log = logging.getLogger("cognito_helper")

#: The user model's fields the ID token fills, and the claim each one comes from.
PROFILE_CLAIMS = (("email", "email"), ("first_name", "given_name"), ("last_name", "family_name"))


def _verified(value: object) -> bool:
    """Cognito's ``email_verified``: a boolean in its ID tokens (``"true"`` in some older)."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _max_length(model: Any, name: str) -> Optional[int]:
    try:
        return model._meta.get_field(name).max_length  # type: ignore[no-any-return]
    except FieldDoesNotExist:
        return None


class CognitoBackend(ModelBackend):  # type: ignore[misc]
    """Signs in the Django user of a Cognito session (see the module's docstring).

    Override :meth:`username` to derive the username another way, and
    :meth:`update_user` to copy more claims onto your user model (call ``super()``).
    """

    def authenticate(
        self, request: Any, cognito_session: Optional[Session] = None, **credentials: Any
    ) -> Any:
        """The user of ``cognito_session``, created or updated; ``None`` for any other call
        (a username and password go to the next backend) or a refused user."""
        if not isinstance(cognito_session, Session):
            return None
        settings = sign_in()
        claims = cognito_session.user
        username = self.username(claims, settings)
        if username is None:
            return None
        user_model = get_user_model()
        user, created = user_model._default_manager.get_or_create(
            **{user_model.USERNAME_FIELD: username}
        )
        if created:
            user.set_unusable_password()
        if not self.user_can_authenticate(user):
            log.info("a sign-in was refused: the Django user is inactive")
            return None
        self.update_user(user, claims, created=created)
        if settings.groups:
            self.sync_groups(user, claims, settings.groups)
        return user

    def username(self, claims: Dict[str, Any], settings: SignIn) -> Optional[str]:
        """The username of the user of ``claims``, from ``settings.username_claim``; ``None``
        (the sign-in is refused) when the claim is missing, an unverified email, or longer
        than the user model's username field allows."""
        name = settings.username_claim
        value = claims.get(name)
        if name == "email" and not _verified(claims.get("email_verified")):
            log.info("a sign-in was refused: the username is the email, which is not verified")
            return None
        if not isinstance(value, str) or not value:
            log.info("a sign-in was refused: the ID token has no %s claim", name)
            return None
        user_model = get_user_model()
        limit = _max_length(user_model, user_model.USERNAME_FIELD)
        if limit is not None and len(value) > limit:
            log.info("a sign-in was refused: its %s is longer than a username may be", name)
            return None
        return value

    def update_user(self, user: Any, claims: Dict[str, Any], *, created: bool) -> None:
        """Copy ``email``, ``given_name`` and ``family_name`` onto the user's fields of
        :data:`PROFILE_CLAIMS` (those the model has; a value longer than its field is cut,
        an email that long is left out) and save what changed."""
        changed = []
        for field, claim in PROFILE_CLAIMS:
            value = claims.get(claim)
            limit = _max_length(type(user), field)
            if not isinstance(value, str) or not hasattr(user, field):
                continue
            if limit is not None and len(value) > limit:
                if field == "email":
                    continue
                value = value[:limit]
            if getattr(user, field) != value:
                setattr(user, field, value)
                changed.append(field)
        if created:
            user.save()
        elif changed:
            user.save(update_fields=changed)

    def sync_groups(self, user: Any, claims: Dict[str, Any], names: Any) -> None:
        """Put the user in each group of ``names`` that ``cognito:groups`` holds, and take
        them out of each one it does not; other groups are left as they are."""
        held = claims.get("cognito:groups")
        cognito = {g for g in held if isinstance(g, str)} if isinstance(held, list) else set()
        joined = [Group.objects.get_or_create(name=n)[0] for n in names if n in cognito]
        left = Group.objects.filter(name__in=[n for n in names if n not in cognito])
        if joined:
            user.groups.add(*joined)
        user.groups.remove(*left)
