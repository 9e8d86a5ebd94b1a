"""The one rule for the ``repr()`` of a dataclass that holds secrets.

A field declared with ``field(repr=False)`` is a secret: its name is shown, its value never,
only whether it is set (``'***'``) or not (``None``). Every other field is shown as
``dataclass`` would show it.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

__all__ = ["repr_hiding_secrets"]


def repr_hiding_secrets(obj: Any) -> str:
    """``Name(field=value, ...)`` for the dataclass instance ``obj``, in field order.

    Assign it as the class's ``__repr__`` (with ``dataclass(repr=False)``); a ``repr=False``
    field shows as ``'***'`` when set and ``None`` when it is ``None``.
    """
    shown = []
    for f in fields(obj):
        value = getattr(obj, f.name)
        if f.repr:
            shown.append(f"{f.name}={value!r}")
        else:
            shown.append(f"{f.name}={'None' if value is None else repr('***')}")
    return f"{type(obj).__name__}({', '.join(shown)})"
