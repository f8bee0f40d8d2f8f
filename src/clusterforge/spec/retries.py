"""How often, and how far apart, a check is retried.

Preflight checks and validation checks share the shape — a limit and an
interval — because both become an Argo ``retryStrategy`` on their step (and
DETIK's ``try at most <N> times every <N>s``). Caps keep a hostile or mistaken
spec from parking a build for days: at most 100 retries, at most 10 minutes
apart.
"""

from __future__ import annotations

from pydantic import Field

from clusterforge.spec._base import SpecModel
from clusterforge.spec.durations import RetryInterval, duration_seconds

MAX_RETRIES = 100


class RetryPolicy(SpecModel):
    """How many times a failing check is retried, and how long to wait in between."""

    limit: int = Field(
        5,
        ge=0,
        le=MAX_RETRIES,
        description="Retries after the first attempt (0-100); 0 means one attempt only.",
    )
    interval: RetryInterval = Field(
        "5s", description="Wait between attempts, e.g. '5s', '1m' (1s to 10m)."
    )

    @property
    def interval_seconds(self) -> int:
        """The interval in whole seconds."""
        return duration_seconds(self.interval)
