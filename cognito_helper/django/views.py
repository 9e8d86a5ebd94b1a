"""The sign-in's views, to route one yourself: ``path("cognito_redirect", views.callback)``
puts the callback at a ``redirect_uri`` outside the prefix ``cognito_helper.django.urls`` is
included at. See :mod:`cognito_helper.integrations.django_views`.
"""

from ..integrations.django_views import callback, login, logout

__all__ = ["callback", "login", "logout"]
