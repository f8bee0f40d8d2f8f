"""``Idempotency-Key``: the same request, sent again, gets the same answer.

A client that timed out does not know whether its build started; it sends the
request again with the same ``Idempotency-Key`` header and gets the answer of
the first one (same build id) instead of a second build. Keys are scoped to
the caller's token and the endpoint, remembered in the state database (scope
``idempotency``) *before* the first answer is sent, and checked against a
fingerprint of the body: reusing a key for a different request is a 422.
Two concurrent requests with one key are serialized, so only one runs.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from clusterforge.api.errors import ApiError
from clusterforge.store import Store

__all__ = ["Idempotency", "Slot"]

_SCOPE = "idempotency"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


@dataclass
class Slot:
    """What a request found under its key (``answer``), and where to keep its own."""

    key: str | None
    fingerprint: str
    answer: dict[str, Any] | None = None
    status: int = 202
    _store: Store | None = field(default=None, repr=False)

    def save(self, answer: dict[str, Any], status: int = 202) -> None:
        if self.key is not None and self._store is not None:
            record = {"fingerprint": self.fingerprint, "status": status, "answer": answer}
            self._store.kv_put(_SCOPE, self.key, record)


class Idempotency:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._async_locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextmanager
    def slot(self, header: str | None, scope: str, body: bytes) -> Iterator[Slot]:
        """Hold the key (if any) while the request runs; yields any earlier answer."""
        fingerprint = hashlib.sha256(body).hexdigest()
        if header is None:
            yield Slot(None, fingerprint)
            return
        key = self._key(header, scope)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            yield self._found(key, fingerprint)
        with self._guard:
            if not lock.locked():
                self._locks.pop(key, None)

    @asynccontextmanager
    async def claim(self, header: str | None, scope: str, body: bytes) -> AsyncIterator[Slot]:
        """:meth:`slot` for a request served on the event loop: the key is held by an
        asyncio lock, and ``Slot.save`` belongs in the request's grouped write."""
        fingerprint = hashlib.sha256(body).hexdigest()
        if header is None:
            yield Slot(None, fingerprint)
            return
        key = self._key(header, scope)
        lock, users = self._async_locks.get(key, (asyncio.Lock(), 0))
        self._async_locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield self._found(key, fingerprint)
        finally:
            lock, users = self._async_locks[key]
            if users == 1:
                del self._async_locks[key]
            else:
                self._async_locks[key] = (lock, users - 1)

    def _key(self, header: str, scope: str) -> str:
        if not _KEY.match(header):
            raise ApiError(
                400,
                "invalid_idempotency_key",
                "Idempotency-Key must be 1-255 visible ASCII characters",
                field="Idempotency-Key",
            )
        return hashlib.sha256(f"{scope}\n{header}".encode()).hexdigest()

    def _found(self, key: str, fingerprint: str) -> Slot:
        """The slot of ``key``, with the answer stored under it (if any)."""
        found = self.store.kv_get(_SCOPE, key)
        if found is not None and found.get("fingerprint") != fingerprint:
            raise ApiError(
                422,
                "idempotency_key_reused",
                "this Idempotency-Key was used for a different request body; "
                "use a new key for a new request",
                field="Idempotency-Key",
            )
        slot = Slot(key, fingerprint, _store=self.store)
        if found is not None:
            slot.answer = found["answer"]
            slot.status = int(found.get("status", 202))
        return slot
