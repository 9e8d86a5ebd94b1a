"""``path("auth/", include("cognito_helper.django.urls"))``: the sign-in's URLs, namespace
``cognito`` (``cognito:login``, ``cognito:callback``, ``cognito:logout``).

The callback is routed at the path of the config's ``redirect_uri`` when that path lies
under the include's prefix; elsewhere, route ``cognito_helper.django.views.callback`` at it.
See :mod:`cognito_helper.integrations.django_views`.
"""

from ..integrations.django_views import app_name, urlpatterns

__all__ = ["app_name", "urlpatterns"]
