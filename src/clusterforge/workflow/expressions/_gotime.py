"""govaluate's date strings: a quoted string that parses as a time is a number.

govaluate (the ``when`` engine Argo pins, Knetic/govaluate at 9aa4983,
parsing.go ``tryParseTime``) tries every quoted string against fourteen Go
time layouts; one that parses becomes a TIME token, which evaluates to its
Unix time in seconds as a float. So ``'2024-01-01' < '2024-06-01'`` compares
numbers, ``'2024-01-01' == '2024-01-01 00:00'`` is true, and
``'2024-01-01' =~ '2024'`` is a type error — exactly as on Argo.

Go's parser is reproduced for these layouts: month and weekday names in any
case, one- or two-digit hours, an optional fractional second after the
seconds, ranges checked (no 31 February). Times without a zone are read as UTC
(Argo reads them in the controller's local zone, which is UTC in its image).
"""

from __future__ import annotations

import re

__all__ = ["unix_seconds"]

_WEEKDAY = r"(?i:mon|tue|wed|thu|fri|sat|sun)"
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH = r"(?P<mon>(?i:" + "|".join(_MONTHS) + "))"
_CLOCK = r"(?P<h>[0-9]{1,2}):(?P<mi>[0-9]{2}):(?P<s>[0-9]{2})(?:[.,][0-9]+)?"
_DATE = r"(?P<y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})"
_COLON_ZONE = r"(?P<zsign>[+-])(?P<zh>[0-9]{2}):(?P<zm>[0-9]{2})"
_PLAIN_ZONE = r"(?P<zsign>[+-])(?P<zh>[0-9]{2})(?P<zm>[0-9]{2})"

# In govaluate's order: ANSIC, UnixDate, RubyDate, Kitchen, RFC3339, RFC3339Nano
# (the same pattern once fractions are optional), then the ISO-like layouts.
_LAYOUTS = tuple(
    re.compile(pattern)
    for pattern in (
        rf"{_WEEKDAY} {_MONTH}  ?(?P<d>[0-9]{{1,2}}) {_CLOCK} (?P<y>[0-9]{{4}})",
        rf"{_WEEKDAY} {_MONTH}  ?(?P<d>[0-9]{{1,2}}) {_CLOCK}"
        r" (?P<abbr>[A-Z]{3,5}|GMT[+-][0-9]{1,2}) (?P<y>[0-9]{4})",
        rf"{_WEEKDAY} {_MONTH} (?P<d>[0-9]{{2}}) {_CLOCK} {_PLAIN_ZONE} (?P<y>[0-9]{{4}})",
        r"(?P<h12>[0-9]{1,2}):(?P<mi>[0-9]{2})(?P<ampm>AM|PM)",
        rf"{_DATE}T{_CLOCK}(?:(?P<z>Z)|{_COLON_ZONE})",
        rf"{_DATE}",
        rf"{_DATE} (?P<h>[0-9]{{1,2}}):(?P<mi>[0-9]{{2}})",
        rf"{_DATE} {_CLOCK}",
        rf"{_DATE} {_CLOCK}{_COLON_ZONE}",
        rf"{_DATE}T(?P<h>[0-9]{{1,2}})(?:(?P<z>Z)|{_PLAIN_ZONE})",
        rf"{_DATE}T(?P<h>[0-9]{{1,2}}):(?P<mi>[0-9]{{2}})(?:(?P<z>Z)|{_PLAIN_ZONE})",
        rf"{_DATE}T{_CLOCK}(?:(?P<z>Z)|{_PLAIN_ZONE})",
    )
)


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (any year, including 0)."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _field(match: re.Match[str], name: str, default: int = 0) -> int:
    text = match.groupdict().get(name)
    return default if text is None else int(text)


def unix_seconds(text: str) -> int | None:
    """The Unix time ``text`` denotes under one of govaluate's layouts, or None."""
    for layout in _LAYOUTS:
        match = layout.fullmatch(text)
        if match is not None:
            seconds = _from_match(match)
            if seconds is not None:
                return seconds
    return None


def _from_match(match: re.Match[str]) -> int | None:
    groups = match.groupdict()
    year = _field(match, "y")
    month = _MONTHS.index(groups["mon"].lower()) + 1 if groups.get("mon") else _field(match, "m", 1)
    day = _field(match, "d", 1)
    if groups.get("h12") is not None:
        hour = _field(match, "h12")
        if hour > 12:
            return None
        hour = hour % 12 + (12 if groups["ampm"] == "PM" else 0)
    else:
        hour = _field(match, "h")
    minute = _field(match, "mi")
    second = _field(match, "s")
    if not (1 <= month <= 12 and 1 <= day <= _days_in_month(year, month)):
        return None
    if hour > 23 or minute > 59 or second > 59:
        return None
    offset = 0
    if groups.get("zsign") is not None:
        zone_hours, zone_minutes = _field(match, "zh"), _field(match, "zm")
        if zone_hours > 24 or zone_minutes > 60:
            return None
        offset = (zone_hours * 3600 + zone_minutes * 60) * (-1 if groups["zsign"] == "-" else 1)
    elif (groups.get("abbr") or "").startswith("GMT") and len(groups["abbr"]) > 3:
        offset = int(groups["abbr"][3:]) * 3600
    return _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset
