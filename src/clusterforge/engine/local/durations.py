"""Argo's duration strings (``"30s"``, ``"2m"``, ``"1h30m"``, ``"500ms"``, ``"10"``).

Backoff durations and caps arrive as strings or integers in Argo manifests; a
bare number means seconds.
"""

from __future__ import annotations

import re
from typing import Any

from clusterforge.errors import InvalidInput

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: object, *, field: str) -> float:
    """Seconds for an Argo duration; ``field`` names the manifest field in errors."""
    text = str(value).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    pos = 0
    total = 0.0
    for match in _PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise InvalidInput(
            f"{field}: {text!r} is not a duration; use seconds ('30') or units like "
            "'500ms', '30s', '2m', '1h30m'"
        )
    return total


def backoff_delay(backoff: dict[str, Any], retry_number: int) -> float:
    """Seconds to wait before retry ``retry_number`` (1-based): duration * factor^(n-1), capped."""
    if not backoff or backoff.get("duration") in (None, ""):
        return 0.0
    base = parse_duration(backoff["duration"], field="retryStrategy.backoff.duration")
    factor_raw = backoff.get("factor")
    factor = float(str(factor_raw)) if factor_raw not in (None, "") else 1.0
    delay = base * factor ** (retry_number - 1)
    cap = backoff.get("cap")
    if cap:
        delay = min(delay, parse_duration(cap, field="retryStrategy.backoff.cap"))
    return delay
