"""Argo's duration strings (``"30s"``, ``"2m"``, ``"1h30m"``, ``"500ms"``, ``"10"``).

Backoff durations and caps arrive as strings or integers in Argo manifests; a
bare number means seconds.
"""

from __future__ import annotations

import math
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


class DeadlinePassed(Exception):
    """Too little of a template's ``timeout`` is left to start its pod."""


def pod_deadline(active: float | None, timeout: float | None, elapsed: float) -> float | None:
    """A pod's deadline in seconds from its start, as Argo's ``createWorkflowPod`` sets
    its ``activeDeadlineSeconds``; None without one.

    ``active`` is the template's ``activeDeadlineSeconds``, which the kubelet counts
    from the pod's start. ``timeout`` counts from the node's creation
    (``checkTemplateTimeout``: ``node.StartedAt + timeout``), so ``elapsed`` — the
    seconds since then, a wait for a lock included — is taken off it, and what is
    left becomes the pod's deadline in whole seconds: Go's ``int64(….Seconds())``
    truncates, and the node was made a moment before the pod, so a ``10s`` timeout
    gives the pod 9 s (the whole seconds strictly below what is left, the same
    however fast the engine is). With one second or less, Argo does not create
    the pod: :class:`DeadlinePassed`.
    Local choice: with both, the tighter wins (Argo lets ``timeout`` replace a
    shorter ``activeDeadlineSeconds``).
    """
    if timeout is None:
        return active
    left = math.ceil(timeout - elapsed) - 1
    if left <= 1:
        raise DeadlinePassed
    return float(left) if active is None else min(float(left), active)
