"""The rules for the arguments of a call, as docs/errors.md states them.

A value of the wrong type is a :class:`~cognito_helper.core.errors.WrongTypeError` (a
``TypeError``), an invalid value a ``ValueError``; each message starts with the argument's name
and never repeats its value. (A config's settings are checked in
:mod:`cognito_helper.settings.fields`, and raise ``ConfigError``.)
"""

from __future__ import annotations

from .errors import WrongTypeError

__all__ = ["nonempty_string", "type_name", "wrong_type"]


def type_name(value: object) -> str:
    """How a wrong value's type is named in a message: ``None`` or the type's name."""
    return "None" if value is None else type(value).__name__


def wrong_type(name: str, value: object, expected: str) -> WrongTypeError:
    """The error for ``value``, given as ``name`` but not ``expected`` (``"a string"``, ...)."""
    return WrongTypeError(f"{name} must be {expected}, got {type_name(value)}")


def nonempty_string(name: str, value: object) -> str:
    """``value`` if a non-empty string; ``TypeError`` if no string, ``ValueError`` if empty."""
    if not isinstance(value, str):
        raise wrong_type(name, value, "a non-empty string")
    if not value:
        raise ValueError(f"{name} must be a non-empty string")
    return value
