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

import hashlib
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
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

    @contextmanager
    def slot(self, header: str | None, scope: str, body: bytes) -> Iterator[Slot]:
        """Hold the key (if any) while the request runs; yields any earlier answer."""
        fingerprint = hashlib.sha256(body).hexdigest()
        if header is None:
            yield Slot(None, fingerprint)
            return
        if not _KEY.match(header):
            raise ApiError(
                400,
                "invalid_idempotency_key",
                "Idempotency-Key must be 1-255 visible ASCII characters",
                field="Idempotency-Key",
            )
        key = hashlib.sha256(f"{scope}\n{header}".encode()).hexdigest()
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
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
            yield slot
        with self._guard:
            if not lock.locked():
                self._locks.pop(key, None)
