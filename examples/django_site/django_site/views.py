"""The example site's one view: who is signed in, and when their access token expires."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cognito_helper import decode_verify_jwt
from cognito_helper.django import access_token


def home(request: HttpRequest) -> HttpResponse:
    context = {}
    if request.user.is_authenticated:
        token = access_token(request)  # fresh: refreshed when due, for calling an API
        context["access_exp"] = decode_verify_jwt(token, token_use="access")["exp"]
        context["groups"] = [group.name for group in request.user.groups.all()]
    return render(request, "home.html", context)
