"""``Idempotency-Key``: the same request, sent again, gets the same answer.

A client that timed out does not know whether its build started; it sends the
request again with the same ``Idempotency-Key`` header and gets the answer of
the first one (same build id) instead of a second build. Keys are scoped to
the caller's token and the endpoint, remembered in the state database (scope
``idempotency``) *before* the first answer is sent, and checked against a
fingerprint of the body: reusing a key for a different request is a 422.

Two concurrent requests with one key run once, also when they reach
different processes of one server: within a process they queue on a lock
per key; across processes the database decides. A webhook event's answer is
*created* (never overwritten) in the same transaction as its builds, so of
two racing events one commits and the other finds the key taken, stores
nothing and replays the winner's answer (:class:`KeyTaken`). A build or
stage request claims its key in the database before it starts, so a twin
arriving meanwhile in another process gets 409 and retries after a second.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from clusterforge.api.errors import ApiError
from clusterforge.engine import Records

__all__ = ["Idempotency", "KeyTaken", "Slot"]

_SCOPE = "idempotency"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_CLAIM_EXPIRES = 60.0  # a claim without an answer this old belongs to a request that died


class KeyTaken(Exception):
    """Another process stored an answer under this key first (nothing of ours is stored)."""


@dataclass
class Slot:
    """What a request found under its key (``answer``), and where to keep its own."""

    key: str | None
    fingerprint: str
    answer: dict[str, Any] | None = None
    status: int = 202
    _store: Records | None = field(default=None, repr=False)
    claimed: bool = field(default=False, repr=False)
    saved: bool = field(default=False, repr=False)

    def save(self, answer: dict[str, Any], status: int = 202) -> None:
        """Keep the answer under the key: it replaces this request's claim, or is
        created — :class:`KeyTaken` if the key has one already (inside a grouped
        write, that undoes the transaction's other writes too)."""
        if self.key is None or self._store is None:
            return
        record = {"fingerprint": self.fingerprint, "status": status, "answer": answer}
        if self.claimed:
            self._store.kv_put(_SCOPE, self.key, record)
        elif not self._store.kv_create(_SCOPE, self.key, record):
            raise KeyTaken(self.key)
        self.saved = True


class Idempotency:
    def __init__(self, store: Records) -> None:
        self.store = store
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._async_locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextmanager
    def slot(self, header: str | None, scope: str, body: bytes) -> Iterator[Slot]:
        """Hold the key (if any) while the request runs; yields any earlier answer.

        A slot without an answer is claimed in the database until the request
        calls ``Slot.save`` (which then replaces the claim) or fails (the claim
        is dropped, so the client's retry runs)."""
        fingerprint = hashlib.sha256(body).hexdigest()
        if header is None:
            yield Slot(None, fingerprint)
            return
        key = self._key(header, scope)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            slot = self._claimed(key, fingerprint)
            try:
                yield slot
            finally:
                if slot.claimed and not slot.saved:
                    self.store.kv_delete(_SCOPE, key)
        with self._guard:
            if not lock.locked():
                self._locks.pop(key, None)

    def _claimed(self, key: str, fingerprint: str) -> Slot:
        """The key's answer, or the key claimed for this request (409 while another
        process's request holds it)."""
        claim = {"fingerprint": fingerprint, "claimed": time.time()}
        for _attempt in range(3):
            if self.store.kv_create(_SCOPE, key, claim):
                return Slot(key, fingerprint, _store=self.store, claimed=True)
            found = self.store.kv_get(_SCOPE, key) or {}
            slot = self._found(key, fingerprint, found)
            if slot.answer is not None:
                return slot
            if time.time() - float(found.get("claimed", 0)) > _CLAIM_EXPIRES:
                self.store.kv_delete(_SCOPE, key)  # its request died; take the key over
                continue
            break
        raise ApiError(
            409,
            "idempotency_key_in_use",
            "a request with this Idempotency-Key is still being processed; "
            "retry in a second to get its answer",
            field="Idempotency-Key",
            headers={"Retry-After": "1"},
        )

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

    def _found(self, key: str, fingerprint: str, found: Any = None) -> Slot:
        """The slot of ``key``, with the answer stored under it (if any); ``found``:
        the key's record when the caller has read it already."""
        if found is None:
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
        if found is not None and found.get("answer") is not None:
            slot.answer = found["answer"]
            slot.status = int(found.get("status", 202))
        return slot

    def replay(self, slot: Slot) -> tuple[dict[str, Any], int]:
        """The answer stored under ``slot``'s key by the request that beat this one
        (after :class:`KeyTaken`), marked as replayed."""
        assert slot.key is not None
        found = self._found(slot.key, slot.fingerprint)
        assert found.answer is not None  # KeyTaken means an answer exists
        return {**found.answer, "replayed": True}, found.status
