"""Who may call, and how often.

Bearer tokens: every mutating endpoint needs ``Authorization: Bearer <token>``
with one of the configured tokens; reads need one too unless the server runs
with ``--public-reads``. A presented token is compared with *every* configured
token by :func:`hmac.compare_digest`, so neither the comparison nor the number
of tokens tried depends on how much of a guess was right.

Browsers: a session cookie from ``POST /api/v1/session`` stands for the token
it was made from; a mutating request made with it alone also needs its CSRF
header (see :mod:`.sessions`).

Rate limit: on the mutating endpoints, a token bucket per token refills at
``rate`` per second up to ``burst``. An empty bucket
answers 429 with ``Retry-After`` — the whole seconds until one request is
allowed again — and nothing behind it runs. The processes of a
multi-process server (``serve --processes N``) share one bucket per token
through a small table in a file every acceptor maps (:class:`SharedBuckets`),
so N processes do not give a token N times its rate.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import math
import mmap
import os
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from fastapi import Request

from clusterforge.api.errors import ApiError
from clusterforge.api.roles import check_role
from clusterforge.api.sessions import COOKIE, CSRF_HEADER, Session, SessionSigner

__all__ = ["Caller", "Guard", "SharedBuckets", "TokenBucket"]

_MAX_BUCKETS = 10_000
_SLOT = struct.Struct("<8sdd")  # key hash, level, time of the last take (monotonic)
_PROBES = 64  # slots looked at per key before the oldest of them is reused
_FREE = bytes(8)  # the key hash of a slot never used (zero-filled by ftruncate)

_State = tuple[float, float]  # a bucket: its level, and when it was last taken from
_T = TypeVar("_T")


@dataclass(frozen=True)
class Caller:
    """An authenticated (or anonymous) caller; ``key`` identifies it without the secret."""

    key: str
    authenticated: bool
    role: str = "admin"


class SharedBuckets:
    """Token-bucket state shared by processes: a table of slots in a mapped file.

    Several server processes (``serve --processes N``) open the same file, so
    a token has one bucket however many processes answer it. Each slot holds
    an 8-byte hash of the key, the bucket's level and the time of its last
    take (``time.monotonic``: on Linux one clock for every process on the
    machine, so stamps written by one process are comparable in another).
    A key lives in the first free or matching slot of the ``_PROBES`` after
    its hash (linear probing; slots are never emptied, so a probe chain never
    breaks). When they are all taken by other keys, the least recently used
    of them is reused — that forgotten bucket simply starts full again, which
    errs towards allowing, never towards refusing a token it has not seen.

    Updates hold an exclusive ``flock`` on the file for one read-modify-write
    of one slot. ``slots`` sizes the table when this open creates it; an
    existing table keeps its size, so every process agrees on where a key is.
    """

    def __init__(self, path: Path, slots: int = 4096) -> None:
        if slots < 1:
            raise ValueError(f"slots must be at least 1, not {slots}")
        self.path = path
        self._wanted = slots
        self._open()

    def _open(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            # sized under the lock, so two first opens cannot size it differently
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                slots = os.fstat(fd).st_size // _SLOT.size
                if slots == 0:
                    slots = self._wanted
                    os.ftruncate(fd, slots * _SLOT.size)  # zero-filled: every slot free
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
            self._map = mmap.mmap(fd, slots * _SLOT.size)
        except BaseException:
            os.close(fd)
            raise
        self.slots = slots
        self._fd = fd
        # A flock belongs to the open file description, which a forked child
        # shares with its parent: their locks would not exclude each other.
        self._pid = os.getpid()

    def close(self) -> None:
        """Unmap the table and close the file (the file and its buckets stay)."""
        if self._fd >= 0:
            self._map.close()
            os.close(self._fd)
            self._fd = -1

    def update(self, key: str, change: Callable[[_State | None], tuple[_State, _T]]) -> _T:
        """Store ``change(current state or None)[0]`` for ``key``; return its ``[1]``."""
        if self._pid != os.getpid():  # forked: get a description (and lock) of our own
            self._map.close()
            os.close(self._fd)
            self._open()
        digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
        start = int.from_bytes(digest, "little") % self.slots
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            chosen, current, oldest = -1, None, (math.inf, start)
            for step in range(min(_PROBES, self.slots)):
                index = (start + step) % self.slots
                held, level, stamp = _SLOT.unpack_from(self._map, index * _SLOT.size)
                if held == digest:
                    chosen, current = index, (level, stamp)
                    break
                if held == _FREE:
                    chosen = index
                    break
                oldest = min(oldest, (stamp, index))
            if chosen < 0:
                chosen = oldest[1]
            state, result = change(current)
            _SLOT.pack_into(self._map, chosen * _SLOT.size, digest, *state)
            return result
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)


class TokenBucket:
    """Token buckets by key, each refilling at ``rate`` per second up to ``burst``.

    Kept in this process (an LRU of at most ``_MAX_BUCKETS`` keys), or, with
    ``shared``, in a file that several processes map (:class:`SharedBuckets`
    with ``slots`` slots), so they all draw from one bucket per key.
    """

    def __init__(
        self, rate: float, burst: float, shared: Path | None = None, *, slots: int = 4096
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: OrderedDict[str, _State] = OrderedDict()
        self._lock = threading.Lock()  # threads of one process; flock is per process
        self._shared = SharedBuckets(shared, slots) if shared is not None and rate > 0 else None

    def close(self) -> None:
        """Release the shared file, if any."""
        if self._shared is not None:
            self._shared.close()

    def _take(self, now: float | None, found: _State | None) -> tuple[_State, float]:
        """The (level, stamp) after one take at ``now``, and the wait (0.0: allowed).

        The one formula for both stores. ``now`` is read here, under the
        caller's lock, so a take that waited for the lock does not stamp an
        older time over a newer one; elapsed time never counts as negative
        (a stamp from the future, e.g. a table kept across a reboot, only
        stops refilling until the next take).
        """
        now = time.monotonic() if now is None else now
        level, stamp = found or (self.burst, now)
        level = min(self.burst, level + max(0.0, now - stamp) * self.rate)
        if level >= 1.0:
            return (level - 1.0, now), 0.0
        return (level, now), (1.0 - level) / self.rate

    def take(self, key: str, now: float | None = None) -> float:
        """Take one token; 0.0 when allowed, else the seconds until one is available."""
        if self.rate <= 0:
            return 0.0
        with self._lock:
            if self._shared is not None:
                return self._shared.update(key, lambda found: self._take(now, found))
            state, wait = self._take(now, self._buckets.pop(key, None))
            self._buckets[key] = state
            while len(self._buckets) > _MAX_BUCKETS:
                self._buckets.popitem(last=False)
            return wait


class Guard:
    """Authentication and rate limiting, as FastAPI dependencies."""

    def __init__(
        self,
        tokens: tuple[str, ...],
        *,
        public_reads: bool,
        rate: float,
        burst: float,
        shared: Path | None = None,
        roles: Mapping[str, str] | None = None,
    ) -> None:
        self._tokens = [t.encode() for t in tokens]
        self._keys = [hashlib.sha256(t).hexdigest()[:12] for t in self._tokens]
        self._roles = {
            key: (roles or {}).get(token, "admin")
            for key, token in zip(self._keys, tokens, strict=True)
        }
        self.sessions = SessionSigner(self._tokens, self._keys)
        self.public_reads = public_reads
        self.bucket = TokenBucket(rate, burst, shared)

    def key_of(self, presented: str) -> str | None:
        """The key of the configured token ``presented`` is, or None; constant-time."""
        given = presented.strip().encode()
        match = -1
        for index, token in enumerate(self._tokens):
            if hmac.compare_digest(given, token) and match < 0:
                match = index
        return self._keys[match] if match >= 0 else None

    def role_of(self, key: str) -> str:
        """The role of the configured token whose key is ``key`` (see roles.py)."""
        return self._roles.get(key, "read")

    def session(self, request: Request) -> Session | None:
        """The browser session the request's cookie stands for, if any (see sessions.py)."""
        value = request.cookies.get(COOKIE)
        return self.sessions.verify(value) if value else None

    def identify(self, request: Request) -> Caller | None:
        header = request.headers.get("authorization", "")
        scheme, _, presented = header.partition(" ")
        if scheme.lower() != "bearer" or not presented:
            return None
        key = self.key_of(presented)
        return Caller(key, True, self.role_of(key)) if key is not None else None

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

    def _from_session(self, request: Request, *, writing: bool) -> Caller | None:
        """The caller a session cookie stands for; a write also needs its CSRF token."""
        session = self.session(request)
        if session is None:
            return None
        if writing and not self.sessions.csrf_ok(session, request.headers.get(CSRF_HEADER)):
            request.app.state.metrics.rejected(request, "csrf")
            raise ApiError(
                403,
                "forbidden",
                "a request made with a session cookie needs the session's "
                "X-CSRF-Token header (GET /api/v1/session gives it)",
                field="X-CSRF-Token",
            )
        return Caller(session.key, True, self.role_of(session.key))

    def write(self, request: Request) -> Caller:
        """Dependency of every mutating endpoint: a valid token, within its rate."""
        caller = self.identify(request) or self._from_session(request, writing=True)
        if caller is None:
            request.app.state.metrics.rejected(request, "unauthorized")
            raise self._unauthorized(request)
        check_role(caller.role, "build")
        self._limit(request, caller)
        return caller

    def read(self, request: Request) -> Caller:
        """Dependency of every read endpoint: a valid token unless reads are public."""
        caller = self.identify(request) or self._from_session(request, writing=False)
        if caller is not None:
            return caller
        if self.public_reads:
            host = request.client.host if request.client else "unknown"
            return Caller(f"anon:{host}", False)
        raise self._unauthorized(request)
