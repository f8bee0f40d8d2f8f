"""Integers from text a client sent, bounded before Python makes them big.

Python's ``int()`` takes any number of digits (up to 4,300, then it raises),
and the value then meets SQLite, whose integers are signed 64-bit: a
``Last-Event-ID`` of 2**64 became an ``OverflowError`` in the middle of a
server-sent event stream. :func:`bounded_int` accepts ASCII digits only
(``str.isdigit`` also says yes to ``²``), refuses more digits than the bound
can have before converting, and refuses values over the bound — each with
the field named.
"""

from __future__ import annotations

from clusterforge.errors import InvalidInput

# The largest value SQLite (and Go's int64) can hold.
INT64_MAX = 2**63 - 1


def bounded_int(text: str, field: str, *, maximum: int = INT64_MAX) -> int:
    """``text`` as a non-negative integer of at most ``maximum``; :class:`InvalidInput` if not."""
    digits = text.strip()
    if not digits or not digits.isascii() or not digits.isdigit():
        raise InvalidInput(f"{field}: {_shown(text)} is not a non-negative whole number")
    if len(digits.lstrip("0")) > len(str(maximum)) or int(digits) > maximum:
        raise InvalidInput(f"{field}: {_shown(text)} is larger than {maximum}")
    return int(digits)


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:30] + "…")
