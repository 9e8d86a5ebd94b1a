"""The example site's URLs: its page, and the Cognito sign-in's."""

from django.urls import include, path

from cognito_helper.django import views as cognito

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("auth/", include("cognito_helper.django.urls")),  # auth/login/, auth/logout/
    # `demo --serve` registers http://localhost:8000/cognito_redirect as the callback: outside
    # auth/, so the callback view is routed there by hand.
    path("cognito_redirect", cognito.callback),
]
