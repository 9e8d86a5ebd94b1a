"""Django's settings for every test module that uses Django, configured once per process.

``settings.configure`` can run once per process, so the DRF guard's tests
(``test_guard_django.py``) and the sign-in's (``test_django_*.py``) share these settings; each
module changes what it needs with ``override_settings`` (``ROOT_URLCONF``, ``MIDDLEWARE``,
``AUTHENTICATION_BACKENDS``, ``COGNITO``...).

The database is SQLite in memory, shared by every connection of the process (a URI with
``cache=shared``), so that requests made from several threads see one database.
"""

from __future__ import annotations

import importlib.util

import django
from django.conf import settings

#: The URL module the DRF guard's tests register (``test_guard_django.py``): the default.
GUARD_URLCONF = "tests_guard_django_urls"
HAS_DRF = importlib.util.find_spec("rest_framework") is not None


def configure_django() -> None:
    """Configure Django with the settings below and set it up, unless that was done."""
    if settings.configured:
        return
    settings.configure(
        DEBUG=False,
        SECRET_KEY="only-for-tests",
        ALLOWED_HOSTS=["testserver", "localhost"],
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "django.contrib.sessions",
            "cognito_helper.django",
            *(["rest_framework"] if HAS_DRF else []),
        ],
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": "file:cognito_helper_tests?mode=memory&cache=shared",
            }
        },
        ROOT_URLCONF=GUARD_URLCONF,
        MIDDLEWARE=[],
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        REST_FRAMEWORK={
            "DEFAULT_AUTHENTICATION_CLASSES": ["cognito_helper.django.CognitoAuthentication"],
            "DEFAULT_PERMISSION_CLASSES": ["cognito_helper.django.IsCognitoAuthenticated"],
        },
    )
    django.setup()
