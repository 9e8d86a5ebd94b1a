"""The one base64url and JSON decoding (``cognito_helper.core.encoding``), alone and as the verifier
uses it on each of a token's three segments."""

from __future__ import annotations

import base64
import json
from typing import Any, Dict

import pytest

from cognito_helper import (
    MalformedTokenError,
    decode_unverified,
    jwt_helper,
)
from cognito_helper.core.encoding import b64url_decode, b64url_encode, json_claims, json_object
from cognito_helper.verification import jws as _jws

from .conftest import Issuer
from .helpers import verify
from .tokens import b64

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
UNUSED_BITS = {2: 0b1111, 3: 0b11}  # by length mod 4: low bits of the last character


# -- b64url_encode ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"", ""),
        (b"\x00", "AA"),
        (b"\x00\x00", "AAA"),
        (b"\x00\x00\x00", "AAAA"),
        (b"\xfb\xff", "-_8"),
        (b"\xff\xff\xff", "____"),
        (b'{"a":1}', "eyJhIjoxfQ"),
    ],
)
def test_b64url_encode_is_unpadded_url_safe_base64(data: bytes, text: str) -> None:
    assert b64url_encode(data) == text


def test_b64url_encode_and_decode_round_trip_every_length() -> None:
    for length in range(0, 40):
        data = bytes((i * 37 + 251) % 256 for i in range(length))
        text = b64url_encode(data)
        assert "=" not in text and "+" not in text and "/" not in text
        assert b64url_decode(text) == data


# -- b64url_decode ------------------------------------------------------------------------


def test_b64url_decode_of_empty_text_is_empty_bytes() -> None:
    assert b64url_decode("") == b""


@pytest.mark.parametrize("text", ["A", "AAAAA", "eyJhIjoxfQAAA", "_", "AAAA-"])
def test_b64url_decode_refuses_a_length_of_one_mod_four(text: str) -> None:
    with pytest.raises(ValueError, match="impossible length"):
        b64url_decode(text)


@pytest.mark.parametrize("prefix", ["A", "AA"], ids=["two-mod-four", "three-mod-four"])
@pytest.mark.parametrize("last", list(ALPHABET))
def test_b64url_decode_accepts_a_last_character_only_with_its_unused_bits_zero(
    prefix: str, last: str
) -> None:
    text = prefix + last
    if ALPHABET.index(last) & UNUSED_BITS[len(text) % 4]:
        with pytest.raises(ValueError, match="unused bits"):
            b64url_decode(text)
    else:
        assert b64url_encode(b64url_decode(text)) == text  # the one spelling of those bytes


def test_b64url_decode_refuses_a_second_spelling_of_the_same_bytes() -> None:
    assert base64.urlsafe_b64decode("eQ==") == base64.urlsafe_b64decode("eR==") == b"y"
    assert b64url_decode("eQ") == b"y"
    with pytest.raises(ValueError):
        b64url_decode("eR")


@pytest.mark.parametrize("text", ["-_8", "____", "AAAA", "eyJhIjoxfQ"])
def test_b64url_decode_reads_the_url_safe_alphabet(text: str) -> None:
    assert b64url_decode(text) == base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# -- json_object --------------------------------------------------------------------------


def test_json_object_returns_the_object() -> None:
    assert json_object(b'{"a": [1, {"b": null}], "c": "\\u00e9", "d": 1.5e3}') == {
        "a": [1, {"b": None}],
        "c": "é",
        "d": 1500.0,
    }


@pytest.mark.parametrize(
    "data",
    [
        b'{"a": 1, "a": 1}',
        b'{"a": 1, "b": 2, "a": 3}',
        b'{"x": {"a": 1, "a": 2}}',
        b'[{"a":1,"a":1}]',
    ],
    ids=["same-value", "other-value", "nested-object", "in-an-array"],
)
def test_json_object_refuses_a_duplicate_member_name(data: bytes) -> None:
    with pytest.raises(ValueError):
        json_object(data)


def test_json_object_accepts_one_name_in_different_objects() -> None:
    assert json_object(b'{"a": {"a": 1}, "b": {"a": 2}}') == {"a": {"a": 1}, "b": {"a": 2}}


@pytest.mark.parametrize(
    "data",
    [b'{"a": NaN}', b'{"a": Infinity}', b'{"a": -Infinity}', b'{"a": [1, NaN]}'],
)
def test_json_object_refuses_nan_and_infinity(data: bytes) -> None:
    with pytest.raises(ValueError, match="not JSON"):
        json_object(data)


@pytest.mark.parametrize("data", [b'{"a": 1e999}', b'{"a": -1e999}', b'{"a": [1.0e400]}'])
def test_json_object_refuses_a_number_too_large_to_be_finite(data: bytes) -> None:
    with pytest.raises(ValueError, match="too large"):
        json_object(data)


@pytest.mark.parametrize(
    "data", [b"[]", b"[{}]", b"1", b"1.5", b'"{}"', b"null", b"true", b"false"]
)
def test_json_object_refuses_json_that_is_not_an_object(data: bytes) -> None:
    with pytest.raises(ValueError, match="where an object was expected"):
        json_object(data)


@pytest.mark.parametrize(
    "data",
    [
        b'{"a": "\xff"}',
        b"\xff{}",
        b'{"a": "\xc3"}',
        b'{"a": "\xed\xa0\x80"}',
        '{"a": 1}'.encode("utf-16"),
    ],
    ids=["invalid-byte", "leading-invalid-byte", "truncated-sequence", "surrogate", "utf-16"],
)
def test_json_object_refuses_text_that_is_not_utf8(data: bytes) -> None:
    with pytest.raises(ValueError):
        json_object(data)


@pytest.mark.parametrize("data", [b"", b" ", b"{", b'{"a": 1} x', b'{"a": 1}{}', b"{'a': 1}"])
def test_json_object_refuses_text_that_is_not_json(data: bytes) -> None:
    with pytest.raises(ValueError):
        json_object(data)


@pytest.mark.parametrize(
    "data",
    [
        b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"a": ' * 100_000 + b"1" + b"}" * 100_000,
    ],
    ids=["arrays", "objects"],
)
def test_json_object_nested_too_deeply_is_a_value_error(data: bytes) -> None:
    with pytest.raises(ValueError, match="nested too deeply"):
        json_object(data)


# -- json_claims: the payload's rule is json_object's, duplicate names aside --------------


def test_json_claims_returns_the_object_and_allows_white_space_around_it() -> None:
    assert json_claims(b' \n{"a": [1, {"b": 2}]}\t ') == {"a": [1, {"b": 2}]}


def test_json_claims_leaves_duplicate_names_to_the_signature() -> None:
    assert json_claims(b'{"a": 1, "a": 2}') == {"a": 2}


@pytest.mark.parametrize(
    "data",
    [
        b'{"a": NaN}',
        b'{"a": 1e999}',
        b"[]",
        b"null",
        b'{"a": "\xff"}',
        b"\xef\xbb\xbf{}",
        b'{"a": 1} x',
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=["nan", "too-large", "array", "null", "bad-utf8", "bom", "trailing", "deep"],
)
def test_json_claims_refuses_what_json_object_refuses(data: bytes) -> None:
    with pytest.raises(ValueError):
        json_object(data)
    with pytest.raises(ValueError):
        json_claims(data)


# -- in a token: each segment refuses a second spelling -----------------------------------


def with_unused_bits_set(segment: str) -> str:
    """The same bytes spelled otherwise: a low bit that encodes nothing set in the last char."""
    value = ALPHABET.index(segment[-1])
    assert value & UNUSED_BITS[len(segment) % 4] == 0
    other = segment[:-1] + ALPHABET[value | 1]
    assert base64.urlsafe_b64decode(other + "==") == base64.urlsafe_b64decode(segment + "==")
    return other


def segment_of(obj: Dict[str, Any], remainder: int, pad: str) -> str:
    """base64url of ``obj`` plus a ``pad`` member sized so the text is ``remainder`` mod 4."""
    for size in range(3):
        text = b64(json.dumps({**obj, pad: "p" * size}).encode())
        if len(text) % 4 == remainder:
            return text
    raise AssertionError("unreachable: three sizes cover every length mod 3")


@pytest.mark.parametrize("remainder", [2, 3])
def test_a_header_segment_with_unused_bits_set_is_malformed(issuer: Issuer, remainder: int) -> None:
    head = segment_of({"kid": issuer.key.kid, "alg": "RS256"}, remainder, "x-pad")
    body = b64(json.dumps(issuer.claims("id")).encode())
    assert verify(issuer, issuer.key.signed(head, body))["token_use"] == "id"
    token = issuer.key.signed(with_unused_bits_set(head), body)  # validly signed, as it is
    with pytest.raises(MalformedTokenError, match="header"):
        verify(issuer, token)
    with pytest.raises(MalformedTokenError, match="header"):
        decode_unverified(token)


@pytest.mark.parametrize("header_remembered", [False, True], ids=["cold", "header-remembered"])
@pytest.mark.parametrize("remainder", [2, 3])
def test_a_payload_segment_with_unused_bits_set_is_malformed(
    issuer: Issuer, remainder: int, header_remembered: bool
) -> None:
    head = b64(json.dumps({"kid": issuer.key.kid, "alg": "RS256"}).encode())
    body = segment_of(issuer.claims("id"), remainder, "pad")
    _jws._header_kids.clear()
    if header_remembered:
        assert verify(issuer, issuer.key.signed(head, body))["token_use"] == "id"
        assert head in _jws._header_kids
    token = issuer.key.signed(head, with_unused_bits_set(body))  # validly signed, as it is
    with pytest.raises(MalformedTokenError, match="payload"):
        verify(issuer, token)
    with pytest.raises(MalformedTokenError, match="payload"):
        decode_unverified(token)


def test_a_header_nested_twenty_thousand_deep_is_malformed(issuer: Issuer) -> None:
    nested = "[" * 20_000 + "]" * 20_000
    header = f'{{"alg": "RS256", "kid": "{issuer.key.kid}", "x": {nested}}}'
    body = b64(json.dumps(issuer.claims("id")).encode())
    token = issuer.key.signed(b64(header.encode()), body)
    assert len(token) <= jwt_helper.MAX_TOKEN_CHARS  # refused for its depth, not its size
    _jws._header_kids.clear()
    with pytest.raises(MalformedTokenError, match="header"):
        verify(issuer, token)
    with pytest.raises(MalformedTokenError, match="header"):
        decode_unverified(token)
    assert issuer.fetches == 0
