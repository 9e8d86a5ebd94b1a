"""Every configured URL is read alike by urllib.parse (which the checks use) and urllib3
(which requests connects with): a URL the two parsers read differently is refused, naming the
field and the reason (``cognito_helper.settings.urls``). No connection is ever attempted.
"""

from __future__ import annotations

import re
import socket
from urllib.parse import urlsplit

import pytest
from urllib3.util import parse_url

from cognito_helper import ConfigError
from cognito_helper.settings.urls import connecting_host

from .config_values import make

URL_FIELDS = ("domain", "redirect_uri", "logout_uri", "issuer", "jwks_url")
# The review's proof of concept: urllib.parse reads host 127.0.0.1 (loopback, so plain http
# passed); urllib3, which requests connects with, reads host 192.0.2.2 port 8080.
BACKSLASH_TRICK = "http://192.0.2.2:8080\\@127.0.0.1"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything opens a connection: config validation alone must refuse."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a connection was attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.usefixtures("no_network")
class TestUrlsReadAlikeByEveryParser:
    @pytest.mark.parametrize("field_name", URL_FIELDS)
    def test_backslash_trick_is_refused_in_every_url_field(self, field_name):
        with pytest.raises(ConfigError) as excinfo:
            make(**{field_name: BACKSLASH_TRICK})
        assert str(excinfo.value).startswith(field_name)
        assert "found a backslash" in str(excinfo.value)

    @pytest.mark.parametrize("field_name", URL_FIELDS)
    @pytest.mark.parametrize(
        ("url", "reason"),
        [
            ("http://192.0.2.2:8080\\@127.0.0.1/cb", "found a backslash"),
            ("https://192.0.2.2\\@auth.example.com", "found a backslash"),
            ("http://127.0.0.1:8080/c\\b", "found a backslash"),
            ("https://auth.example.com/a\tb", "found whitespace"),
            ("https://auth.example.com/a\nb", "found whitespace"),
            ("https://auth.example.com/a\r\nX-Injected: 1", "found whitespace"),
            ("https://auth.example.com/a b", "found whitespace"),
            ("http://127.0.0.1:9/a\u00a0b", "found whitespace"),
            ("https://b\u00fccher.example", "found a non-ASCII character"),
            ("https://auth.example.com/\x00", "found a control character"),
            ("https://auth.example.com/\x7f", "found a control character"),
            ("https://user@auth.example.com", "user info"),
            ("https://user:pw@auth.example.com", "user info"),
            ("http://127.0.0.1@192.0.2.2", "user info"),
            ("http://127.0.0.1%0a@192.0.2.2", "user info"),
            ("https://@auth.example.com", "user info"),
            # urllib3 2.7+ decodes the escape (host a.b.example.com), 2.6 keeps it: either way
            # the host is refused.
            ("https://a%2eb.example.com", "read differently|has host 'a%2eb"),
        ],
    )
    def test_unsafe_url_is_refused_naming_the_field_and_the_reason(self, field_name, url, reason):
        with pytest.raises(ConfigError) as excinfo:
            make(**{field_name: url})
        message = str(excinfo.value)
        assert message.startswith(field_name)
        assert re.search(reason, message), message

    @pytest.mark.parametrize("field_name", URL_FIELDS)
    def test_parser_agreement_alone_refuses_the_backslash_trick(self, field_name):
        # Second line of defence, beside the character and user-info rules: the host urllib3
        # would connect to (192.0.2.2:8080) differs from the one urllib.parse reads.
        with pytest.raises(ConfigError, match=f"^{field_name} .*read differently"):
            connecting_host(field_name, BACKSLASH_TRICK, urlsplit(BACKSLASH_TRICK))

    @pytest.mark.parametrize(
        "domain",
        [
            "192.0.2.2:8080\\@127.0.0.1",
            "user@auth.example.com",
            "auth.exa mple.com",
            "auth.example.com\x00",
            "a%2eb.example.com",
        ],
    )
    def test_unsafe_domain_host_form_is_refused(self, domain):
        with pytest.raises(ConfigError, match=r"^domain"):
            make(domain=domain)

    @pytest.mark.parametrize("method", ["login_url", "start_login"])
    def test_backslash_trick_is_refused_as_a_call_time_redirect_uri(self, method):
        with pytest.raises(ConfigError, match=r"^redirect_uri"):
            getattr(make(), method)(redirect_uri=BACKSLASH_TRICK + "/cb")

    def test_backslash_trick_is_refused_as_a_call_time_logout_uri(self):
        with pytest.raises(ConfigError, match=r"^logout_uri"):
            make().logout_url(BACKSLASH_TRICK + "/bye")

    @pytest.mark.parametrize(
        "uri",
        [
            "https://app.example.com/cb?x=%0a",
            "https://app.example.com/a%20b/%5C",
            "https://app.example.com/cb?next=a@b",
            "http://[::1]:3000/cb",
        ],
    )
    def test_percent_escapes_and_at_signs_outside_the_host_are_allowed(self, uri):
        # Decided: a percent-escape is inert data that both parsers read alike.
        assert make(redirect_uri=uri).redirect_uri == uri

    @pytest.mark.parametrize("field_name", ["redirect_uri", "logout_uri", "jwks_url"])
    @pytest.mark.parametrize(
        "url",
        [
            "http://127.0.0.1:9999/x",
            "http://localhost:8000/cb",
            "http://[::1]:3000/cb",
            "https://auth.example.com:8443/a/b?c=d",
        ],
    )
    def test_accepted_url_has_the_same_host_for_urllib3_which_connects(self, field_name, url):
        kept = getattr(make(**{field_name: url}), field_name)
        assert (parse_url(kept).host or "").strip("[]") == urlsplit(kept).hostname
        assert parse_url(kept).port == urlsplit(kept).port
