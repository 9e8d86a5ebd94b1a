"""Reading HTTP headers by name: the one rule, case-insensitive, for every header mapping the
library is given (a dict, a framework's header object, an API Gateway event's ``headers``)."""

from __future__ import annotations

from typing import Any, List

__all__ = ["header_values"]


def header_values(headers: Any, name: str) -> List[Any]:
    """The values of every entry of ``headers`` (anything with ``items()``) whose name is
    ``name`` in any letter case; ``name`` is given in lower case. Names that are not strings
    are skipped. Raises ``AttributeError`` when ``headers`` has no ``items()``."""
    return [value for key, value in headers.items() if isinstance(key, str) and key.lower() == name]
