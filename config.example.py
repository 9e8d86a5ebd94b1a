"""cognito_helper settings: copy this file into your backend as ``config.py`` and fill it in.

Importing it configures the process default, so ``get_cognito_tokens`` and
``decode_verify_jwt`` need no ``config=`` argument. Keep the client secret out of source
control: it is read from the environment here. Every value may instead come from the
``COGNITO_*`` environment variables (see the README); then this file is not needed at all.
"""

import os

from cognito_helper import configure

cognito_config = {
    # Cognito console > User pools > your pool: "User pool ID". Its region (us-east-1 here) is
    # the pool's region; a "region" key may be given but must be the same.
    "user_pool_id": "us-east-1_AbC123",
    # The app client (App integration > App clients).
    "client_id": "1example23456789",
    # Only for a confidential app client; None for a public one (SPA/mobile).
    "client_secret": os.environ.get("COGNITO_CLIENT_SECRET"),
    # The hosted-UI domain: a prefix ("my-app"), a custom host ("auth.example.com") or a URL,
    # without a path ("https://auth.example.com", not ".../oauth2/authorize").
    "domain": "my-app",
    # A callback URL registered on the app client.
    "redirect_uri": "http://localhost:5000/cognito_redirect",
    # A sign-out URL registered on the app client (for the logout redirect).
    "logout_uri": "http://localhost:5000/",
    # What to ask for: "openid" is needed for an ID token. A list, or one space-separated
    # string ("openid email profile"); never comma-separated.
    "scopes": ("openid", "email", "profile"),
}

configure(cognito_config)
