"""What a browser does on the hosted UI: open the sign-in page, fill in the form, follow it back
to the app. :func:`sign_in` is :meth:`LocalCognito.sign_in`; it works against any server whose
sign-in page is a plain HTML form."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Dict, List, NoReturn, Optional, Tuple
from urllib.parse import urljoin

import requests


class SignInError(Exception):
    """:meth:`LocalCognito.sign_in` could not sign in.

    Raised for a wrong username or password, an error page (unknown client, unregistered
    redirect URI), a page without a sign-in form, or a server that cannot be reached. The
    message says which and never contains the password.
    """


class _PageReader(HTMLParser):
    """Finds the first form's action and hidden fields, and the text of ``id="error"``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.action: Optional[str] = None
        self.hidden_fields: Dict[str, str] = {}
        self._in_form = False
        self._error_tag: Optional[str] = None
        self._error_text: List[str] = []

    @classmethod
    def read(cls, text: str) -> _PageReader:
        """What ``text`` holds, up to any markup the parser gives up on."""
        reader = cls()
        try:
            reader.feed(text)
            reader.close()
        except (AssertionError, ValueError):  # how html.parser gives up: see error()
            pass
        return reader

    def error(self, message: str) -> NoReturn:
        """Called by Python 3.9's parser on markup it cannot parse; 3.10+ raise AssertionError."""
        raise ValueError(message)

    @property
    def error_message(self) -> str:
        """The text of the element with ``id="error"``, whitespace collapsed."""
        return " ".join("".join(self._error_text).split())

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, Optional[str]]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form" and self.action is None:
            self.action = attributes.get("action", "")
            self._in_form = True
        elif tag == "input" and self._in_form and attributes.get("type", "").lower() == "hidden":
            if attributes.get("name"):
                self.hidden_fields[attributes["name"]] = attributes.get("value", "")
        if attributes.get("id") == "error":
            self._error_tag = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False
        if tag == self._error_tag:
            self._error_tag = None

    def handle_data(self, data: str) -> None:
        if self._error_tag is not None:
            self._error_text.append(data)


def sign_in(login_url: str, username: str, password: str) -> str:
    """Sign in through the hosted UI as a browser would; return the redirect back to the app.

    See :meth:`LocalCognito.sign_in`. Raises :class:`SignInError`; its message never
    contains the password.
    """
    try:
        with requests.Session() as session:
            session.trust_env = False  # a proxy from the environment must not see this
            page = session.get(login_url, allow_redirects=False, timeout=10)
            if page.is_redirect:
                return urljoin(page.url, page.headers["Location"])
            form = _PageReader.read(page.text)
            if page.status_code != 200 or form.action is None:
                reason = form.error_message or "the page has no sign-in form"
                raise SignInError(f"sign-in page answered HTTP {page.status_code}: {reason}")
            data = dict(form.hidden_fields, username=username, password=password)
            answer = session.post(
                urljoin(page.url, form.action), data=data, allow_redirects=False, timeout=10
            )
    except requests.RequestException as exc:
        raise SignInError(f"could not reach the sign-in page: {type(exc).__name__}") from None
    if answer.is_redirect:
        return urljoin(answer.url, answer.headers["Location"])
    reason = _PageReader.read(answer.text).error_message or f"HTTP {answer.status_code}"
    message = f"sign-in as {username!r} failed: {reason}"
    raise SignInError(message.replace(password, "***") if password else message)
