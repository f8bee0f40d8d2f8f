"""Random ids (uuid4s, name suffixes) without a system call each.

``os.urandom`` — and so ``uuid.uuid4`` — is a ``getrandom`` system call that
releases the GIL; on a server's event loop, taking the GIL back can mean
waiting a whole switch interval (5 ms) for another busy thread. A trigger
needs three random ids, so they come from a buffer filled by one
``os.urandom`` call per few hundred ids. The bytes are the operating
system's randomness all the same; a forked child starts a buffer of its own,
so parent and child never hand out the same bytes.
"""

from __future__ import annotations

import os
import threading
import uuid

__all__ = ["random_bytes", "uuid4"]

_REFILL = 4096
_lock = threading.Lock()
_pool = b""
_used = 0


def random_bytes(count: int) -> bytes:
    """``count`` random bytes from the operating system's randomness (see module doc)."""
    global _pool, _used
    if count > _REFILL:
        return os.urandom(count)
    with _lock:
        if _used + count > len(_pool):
            _pool, _used = os.urandom(_REFILL), 0
        chunk = _pool[_used : _used + count]
        _used += count
        return chunk


def uuid4() -> uuid.UUID:
    """A random (version 4) UUID, as :func:`uuid.uuid4` makes."""
    return uuid.UUID(bytes=random_bytes(16), version=4)


def _forget() -> None:
    global _pool, _used
    _pool, _used = b"", 0


os.register_at_fork(after_in_child=_forget)
