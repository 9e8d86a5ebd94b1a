"""The example site's settings: what a project adds for the Cognito sign-in is marked.

The app client comes from the COGNITO_* variables (``cognito-helper demo --serve --app-url
http://localhost:8000`` prints them for a local Cognito); set ``COGNITO = {...}`` here instead
for your user pool. README.md, "Signed-in web apps", "Django", says how to run it.
"""

import logging
import os
import re
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "only-for-this-local-example")
DEBUG = True
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",  # the session: database-backed, on the server
    "cognito_helper.django",  # Cognito sign-in: refuses unsafe session settings at start-up
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "cognito_helper.django.CognitoSessionMiddleware",  # Cognito sign-in: after auth
]
AUTHENTICATION_BACKENDS = ["cognito_helper.django.CognitoBackend"]  # Cognito sign-in
LOGIN_URL = "cognito:login"  # Cognito sign-in: @login_required sends browsers there
COGNITO_LOGIN = {"groups": ["demo-users"]}  # Cognito sign-in: sync this Cognito group

ROOT_URLCONF = "django_site.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "django_site" / "templates"],
        "OPTIONS": {"context_processors": ["django.contrib.auth.context_processors.auth"]},
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DJANGO_SITE_DATABASE", BASE_DIR / "db.sqlite3"),
    }
}
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def hide_query_strings(record: logging.LogRecord) -> bool:
    """runserver's access log without query strings: the callback's carries the code."""
    record.args = tuple(
        re.sub(r"\?\S*", "", arg) if isinstance(arg, str) else arg for arg in record.args or ()
    )
    return True


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "no_query": {"()": "django.utils.log.CallbackFilter", "callback": hide_query_strings}
    },
    "handlers": {
        "access": {"class": "logging.StreamHandler", "filters": ["no_query"]},
    },
    "loggers": {"django.server": {"handlers": ["access"], "level": "INFO", "propagate": False}},
}
