"""A Flask app behind Amazon Cognito's hosted UI, on cognito_helper's CognitoLogin. Copy and adapt.

    pip install ".[flask]" && python examples/flask_app.py      # then open http://localhost:5000/

Runs against an embedded LocalCognito (the home page shows the demo user), or your pool with the
COGNITO_* variables or a config.py: register http://localhost:5000/cognito_redirect as a callback
URL and http://localhost:5000/ as a sign-out URL. PORT=8080 changes the port.
"""

import logging
import os
import re
import sys
from pathlib import Path

from flask import Flask, render_template_string

from cognito_helper import CognitoConfig, ConfigError, decode_verify_jwt
from cognito_helper.flask import CognitoLogin, login_required
from cognito_helper.testing import LocalCognito

DEMO_USERNAME, DEMO_PASSWORD, DEMO_EMAIL = "demo", "Demo-Passw0rd!", "demo@example.com"
PAGE = """<!DOCTYPE html><title>cognito_helper demo</title>
<style>body { font: 16px/1.5 system-ui; max-width: 40rem; margin: 2rem auto }</style>{% if user %}
<form method="post" action="/logout"><button id="logout">Sign out</button></form>
<p id="status">Signed in as <b id="email">{{ user.email }}</b></p>{% if access %}
<p id="access-exp" data-exp="{{ access.exp }}">Access token verified, refreshed when due.</p>
{% else %}<p><a id="me" href="/me">Your account</a></p>{% endif %}{% else %}
<p id="status">You are signed out.</p><p><a id="login" href="/login?next=/me">Sign in</a></p>
{% if demo %}<p>Embedded LocalCognito: user <code id="demo-username">{{ demo[0] }}</code>,
password <code id="demo-password">{{ demo[1] }}</code></p>{% endif %}{% endif %}"""


def create_app(
    config: CognitoConfig | None = None, local_cognito: LocalCognito | None = None, port: int = 5000
) -> Flask:
    """The app for ``config``; else for ``local_cognito`` (or one started for this ``port``)."""
    demo = None
    if config is None:
        url = f"http://localhost:{port}/"
        lc = local_cognito or LocalCognito(redirect_uri=f"{url}cognito_redirect", logout_uri=url)
        lc.start().add_user(DEMO_USERNAME, DEMO_PASSWORD, email=DEMO_EMAIL)
        config, demo = lc.config, (DEMO_USERNAME, DEMO_PASSWORD)
    cfg, app = config, Flask(__name__)
    login = CognitoLogin(app, config=cfg)  # the browser holds an opaque id; tokens stay here

    @app.get("/")
    def home() -> str:
        return render_template_string(PAGE, user=login.user, demo=demo)

    @app.get("/me")
    @login_required  # a signed-out browser goes to sign in, and comes back here
    def me() -> str:
        access = decode_verify_jwt(login.access_token(), config=cfg, token_use="access")
        return render_template_string(PAGE, user=login.user, access=access)

    return app


def omit_query_strings(record: logging.LogRecord) -> bool:
    """Werkzeug's access log without query strings: the callback's carry the code."""
    record.msg, record.args = re.sub(r"\?\S*", "?", record.getMessage()), None
    return True


if __name__ == "__main__":  # serve on 127.0.0.1:$PORT; a bad configuration: exit status 2
    port = os.environ.get("PORT", "5000")
    try:
        if not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
            raise ConfigError(f"PORT must be a number from 1 to 65535, got {port!r}")
        if os.environ.get("COGNITO_USER_POOL_ID"):
            config: CognitoConfig | None = CognitoConfig.from_env()
        else:
            config = CognitoConfig.from_file("config.py") if Path("config.py").is_file() else None
        app = create_app(config, port=int(port))
    except ConfigError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        sys.exit(2)
    logging.getLogger("werkzeug").addFilter(omit_query_strings)
    app.run(host="127.0.0.1", port=int(port))
