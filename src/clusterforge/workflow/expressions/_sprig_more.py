"""sprig's date, integer-math and base64 functions, as Argo's examples call them.

``sprig.date(layout, t)`` formats with a Go reference-time layout
(``2006-01-02 15:04:05``). As in sprig, ``t`` may be Unix seconds; any other
value — including a timestamp *string* such as ``workflow.creationTimestamp``,
which is how every variable reaches an expression — means *now*, in the local
time zone (sprig's ``dateInZone`` falls back to ``time.Now()``).

The math functions convert their arguments as sprig does (``cast.ToInt64``:
floats truncate, numeric strings parse, anything else is 0) and give integers.
``b64dec`` of text that is not base64 gives the decoder's error text, as
sprig does, rather than failing.

Each function takes the evaluated argument list and raises ``ValueError`` with
a reason when it cannot run; the caller adds the function's name and position.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Callable

__all__ = ["SPRIG_MORE"]

# Longest first, so "January" wins over "Jan" and "2006" over "2".
_LAYOUT = re.compile(
    r"January|Monday|2006|-07:00|Z07:00|-0700|Z0700|\.0+|\.9+|Jan|Mon|MST|"
    r"01|02|_2|03|04|05|06|15|PM|pm|-07|1|2|3|4|5"
)
_MONTHS = "January February March April May June July August September October November December"
_DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday"


def _zone(tm: time.struct_time, colon: bool, z: bool) -> str:
    offset = tm.tm_gmtoff or 0
    if z and offset == 0:
        return "Z"
    sign = "-" if offset < 0 else "+"
    hours, minutes = divmod(abs(offset) // 60, 60)
    return f"{sign}{hours:02d}{':' if colon else ''}{minutes:02d}"


def go_format(layout: str, seconds: float) -> str:
    """``time.Unix(seconds).Local().Format(layout)``, for the layout elements Go defines."""
    tm = time.localtime(seconds)
    fraction = seconds - int(seconds)
    hour12 = tm.tm_hour % 12 or 12

    def element(match: re.Match[str]) -> str:
        token = match.group(0)
        if token.startswith((".0", ".9")):
            digits = f"{fraction:.{len(token) - 1}f}"[2:]
            return "." + digits if token[1] == "0" else ("." + digits.rstrip("0")).rstrip(".")
        fixed: dict[str, Callable[[], str]] = {
            "2006": lambda: f"{tm.tm_year:04d}",
            "06": lambda: f"{tm.tm_year % 100:02d}",
            "January": lambda: _MONTHS.split()[tm.tm_mon - 1],
            "Jan": lambda: _MONTHS.split()[tm.tm_mon - 1][:3],
            "01": lambda: f"{tm.tm_mon:02d}",
            "1": lambda: str(tm.tm_mon),
            "Monday": lambda: _DAYS.split()[tm.tm_wday],
            "Mon": lambda: _DAYS.split()[tm.tm_wday][:3],
            "02": lambda: f"{tm.tm_mday:02d}",
            "_2": lambda: f"{tm.tm_mday:2d}",
            "2": lambda: str(tm.tm_mday),
            "15": lambda: f"{tm.tm_hour:02d}",
            "03": lambda: f"{hour12:02d}",
            "3": lambda: str(hour12),
            "04": lambda: f"{tm.tm_min:02d}",
            "4": lambda: str(tm.tm_min),
            "05": lambda: f"{tm.tm_sec:02d}",
            "5": lambda: str(tm.tm_sec),
            "PM": lambda: "PM" if tm.tm_hour >= 12 else "AM",
            "pm": lambda: "pm" if tm.tm_hour >= 12 else "am",
            "MST": lambda: tm.tm_zone or _zone(tm, False, False),
            "-0700": lambda: _zone(tm, False, False),
            "-07:00": lambda: _zone(tm, True, False),
            "-07": lambda: _zone(tm, False, False)[:3],
            "Z0700": lambda: _zone(tm, False, True),
            "Z07:00": lambda: _zone(tm, True, True),
        }
        return fixed[token]()

    return _LAYOUT.sub(element, layout)


def _date(args: list[object]) -> object:
    layout, when = args
    if not isinstance(layout, str):
        raise ValueError("the layout (argument 1) must be a string, e.g. '2006-01-02'")
    is_int = isinstance(when, int) and not isinstance(when, bool)
    return go_format(layout, float(when) if is_int else time.time())  # type: ignore[arg-type]


def _int64(value: object) -> int:
    """spf13/cast's ToInt64, as sprig's math functions use it (errors become 0)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value, 0)
        except ValueError:
            return 0
    return 0


def _div(args: list[object]) -> object:
    dividend, divisor = (_int64(a) for a in args)
    if divisor == 0:
        raise ValueError("integer divide by zero")
    quotient = abs(dividend) // abs(divisor)
    return quotient if (dividend >= 0) == (divisor >= 0) else -quotient  # Go truncates


def _b64dec(args: list[object]) -> object:
    text = args[0]
    if not isinstance(text, str):
        raise ValueError("the argument must be a string")
    try:
        return base64.b64decode(text, validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError) as err:
        return f"illegal base64 data: {err}"


def _b64enc(args: list[object]) -> object:
    text = args[0]
    if not isinstance(text, str):
        raise ValueError("the argument must be a string")
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


_MANY = 64
SPRIG_MORE: dict[str, tuple[int, int, Callable[[list[object]], object]]] = {
    "date": (2, 2, _date),
    "add": (1, _MANY, lambda a: sum(_int64(x) for x in a)),
    "sub": (2, 2, lambda a: _int64(a[0]) - _int64(a[1])),
    "mul": (1, _MANY, lambda a: _product([_int64(x) for x in a])),
    "div": (2, 2, _div),
    "max": (1, _MANY, lambda a: max(_int64(x) for x in a)),
    "min": (1, _MANY, lambda a: min(_int64(x) for x in a)),
    "b64enc": (1, 1, _b64enc),
    "b64dec": (1, 1, _b64dec),
}
"""name → (fewest arguments, most arguments, implementation)."""


def _product(values: list[int]) -> int:
    result = 1
    for value in values:
        result *= value
    return result
