"""``path("auth/", include("cognito_helper.django.urls"))``: the sign-in's URLs, namespace
``cognito``: ``login/`` (``cognito:login``, taking ``?next=``), ``logout/``
(``cognito:logout``, a POST) and the callback.

The callback is routed at the path of the config's ``redirect_uri`` when that path lies under
the include's prefix (``redirect_uri = https://app.example.com/auth/callback`` with the prefix
``auth/``), and answers there only; a ``redirect_uri`` elsewhere needs
``cognito_helper.django.views.callback`` routed at its path. See
:mod:`cognito_helper.integrations.django_views`.
"""

from ..integrations.django_views import app_name, urlpatterns

__all__ = ["app_name", "urlpatterns"]
