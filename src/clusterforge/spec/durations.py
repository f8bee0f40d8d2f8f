"""Durations in the spec: ``"5s"``, ``"1m"``, ``"1m30s"``, ``"2h"``.

They become Argo ``retryStrategy.backoff.duration`` values and DETIK's
``every <N>s``, so the spec accepts the subset both understand — whole seconds,
minutes and hours, largest unit first — and hands steps the seconds as an
integer too. A bare number is refused: in YAML ``interval: 5`` is easy to write
and its unit is anyone's guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator

from clusterforge.spec._base import JsonSchemaHint, problem, show

_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
DURATION_PATTERN = r"^([0-9]+h)?([0-9]+m)?([0-9]+s)?$"


def duration_seconds(text: str) -> int:
    """Seconds in a spec duration; raises ``ValueError`` if ``text`` is not one."""
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        raise ValueError(text)
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def _bounded(min_seconds: int, max_seconds: int) -> Callable[[str], str]:
    def check(value: str) -> str:
        try:
            seconds = duration_seconds(value)
        except ValueError:
            raise problem(
                f"{show(value)} is not a duration; write whole hours, minutes or seconds "
                "such as '5s', '1m', '1m30s' or '1h'"
            ) from None
        if not min_seconds <= seconds <= max_seconds:
            raise problem(
                f"{show(value)} is out of range; allowed: {_human(min_seconds)} to "
                f"{_human(max_seconds)}"
            )
        return value

    return check


def _human(seconds: int) -> str:
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _schema(description: str) -> JsonSchemaHint:
    return JsonSchemaHint({"pattern": DURATION_PATTERN, "description": description})


#: How long to wait between two attempts of a check.
RetryInterval = Annotated[
    str,
    AfterValidator(_bounded(1, 600)),
    _schema("A duration between 1s and 10m, e.g. '5s', '1m', '1m30s'."),
]
#: How long one attempt of a command may run.
Timeout = Annotated[
    str,
    AfterValidator(_bounded(1, 3600)),
    _schema("A duration between 1s and 1h, e.g. '30s', '5m'."),
]
