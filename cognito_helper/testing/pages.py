"""The hosted UI's HTML: the sign-in form and error pages, as Cognito's managed login shows them.

What :mod:`.browser` reads back: the first form's ``action`` and hidden fields, and the text of
the element with ``id="error"``.
"""

from __future__ import annotations

import html

from .wire import EndpointError, Response

_HTML_TYPE = "text/html;charset=UTF-8"

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{title}</title></head>
<body>
{content}
</body>
</html>
"""


def html_response(status: int, title: str, content: str) -> Response:
    """A page titled ``title`` (escaped here) around ``content`` (already HTML)."""
    body = _PAGE.format(title=html.escape(title), content=content).encode("utf-8")
    headers = (("Content-Type", _HTML_TYPE), ("Cache-Control", "no-store"))
    return Response(status, body, headers)


def not_found() -> Response:
    return html_response(404, "Not found", "<h1>Not found</h1>")


def error_page(error: str, description: str, *, status: int = 400) -> EndpointError:
    content = (
        "<h1>An error was encountered with the requested page.</h1>\n"
        f'<p id="error">{html.escape(error)}: {html.escape(description)}</p>'
    )
    return EndpointError(html_response(status, "Error", content))


def login_page(
    query_string: str, client_id: str, *, username: str = "", error: str = ""
) -> Response:
    """The sign-in form, posting to ``/login`` with the authorize request's query string."""
    message = f'<p id="error" role="alert">{html.escape(error)}</p>\n' if error else ""
    content = (
        "<h1>Sign in</h1>\n"
        f'<p>App client <code id="client-id">{html.escape(client_id)}</code></p>\n'
        f"{message}"
        f'<form method="post" action="/login?{html.escape(query_string)}">\n'
        '<label for="username">Username</label>\n'
        '<input id="username" name="username" type="text" autocomplete="username" '
        f'value="{html.escape(username)}" required>\n'
        '<label for="password">Password</label>\n'
        '<input id="password" name="password" type="password" '
        'autocomplete="current-password" required>\n'
        '<button id="signin" name="signin" type="submit">Sign in</button>\n'
        "</form>"
    )
    return html_response(200, "Sign in", content)
