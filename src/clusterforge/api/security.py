"""Who may call, and how often.

Bearer tokens: every mutating endpoint needs ``Authorization: Bearer <token>``
with one of the configured tokens; reads need one too unless the server runs
with ``--public-reads``. A presented token is compared with *every* configured
token by :func:`hmac.compare_digest`, so neither the comparison nor the number
of tokens tried depends on how much of a guess was right.

Rate limit: on the mutating endpoints, a token bucket per token refills at
``rate`` per second up to ``burst``. An empty bucket
answers 429 with ``Retry-After`` — the whole seconds until one request is
allowed again — and nothing behind it runs.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from fastapi import Request

from clusterforge.api.errors import ApiError

__all__ = ["Caller", "Guard", "TokenBucket"]

_MAX_BUCKETS = 10_000


@dataclass(frozen=True)
class Caller:
    """An authenticated (or anonymous) caller; ``key`` identifies it without the secret."""

    key: str
    authenticated: bool


class TokenBucket:
    """Token buckets by key, each refilling at ``rate`` per second up to ``burst``."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str, now: float | None = None) -> float:
        """Take one token; 0.0 when allowed, else the seconds until one is available."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        with self._lock:
            level, stamp = self._buckets.pop(key, (self.burst, now))
            level = min(self.burst, level + (now - stamp) * self.rate)
            if level >= 1.0:
                self._buckets[key] = (level - 1.0, now)
                wait = 0.0
            else:
                self._buckets[key] = (level, now)
                wait = (1.0 - level) / self.rate
            while len(self._buckets) > _MAX_BUCKETS:
                self._buckets.popitem(last=False)
            return wait


class Guard:
    """Authentication and rate limiting, as FastAPI dependencies."""

    def __init__(
        self, tokens: tuple[str, ...], *, public_reads: bool, rate: float, burst: float
    ) -> None:
        self._tokens = [t.encode() for t in tokens]
        self._keys = [hashlib.sha256(t).hexdigest()[:12] for t in self._tokens]
        self.public_reads = public_reads
        self.bucket = TokenBucket(rate, burst)

    def identify(self, request: Request) -> Caller | None:
        header = request.headers.get("authorization", "")
        scheme, _, presented = header.partition(" ")
        if scheme.lower() != "bearer" or not presented:
            return None
        given = presented.strip().encode()
        match = -1
        for index, token in enumerate(self._tokens):
            if hmac.compare_digest(given, token) and match < 0:
                match = index
        return Caller(self._keys[match], True) if match >= 0 else None

    def _unauthorized(self, request: Request) -> ApiError:
        had = bool(request.headers.get("authorization"))
        reason = (
            "the bearer token is not valid"
            if had
            else "this endpoint needs 'Authorization: Bearer <token>'"
        )
        return ApiError(
            401,
            "unauthorized",
            f"{reason} (tokens come from the server's --token-file or CLUSTERFORGE_TOKENS)",
            headers={"WWW-Authenticate": 'Bearer realm="clusterforge"'},
        )

    def _limit(self, request: Request, caller: Caller) -> None:
        wait = self.bucket.take(caller.key)
        if wait > 0:
            retry = max(1, math.ceil(wait))
            request.app.state.metrics.rejected(request, "rate_limited")
            raise ApiError(
                429,
                "rate_limited",
                f"too many requests for this token; retry in {retry}s",
                headers={"Retry-After": str(retry)},
            )

    def write(self, request: Request) -> Caller:
        """Dependency of every mutating endpoint: a valid token, within its rate."""
        caller = self.identify(request)
        if caller is None:
            request.app.state.metrics.rejected(request, "unauthorized")
            raise self._unauthorized(request)
        self._limit(request, caller)
        return caller

    def read(self, request: Request) -> Caller:
        """Dependency of every read endpoint: a valid token unless reads are public."""
        caller = self.identify(request)
        if caller is not None:
            return caller
        if self.public_reads:
            host = request.client.host if request.client else "unknown"
            return Caller(f"anon:{host}", False)
        raise self._unauthorized(request)
