"""Argo's ``synchronization.semaphores``: at most N holders, across every workflow
of one engine home, in Argo's queue order.

A semaphore is a ConfigMap key (``configMapKeyRef``) whose value is the limit,
read from the run's objects (files or cluster, read once per run). It is named
as Argo names it, ``<namespace>/ConfigMap/<name>/<key>``, and shared by all
workflows of the namespace.

Locally the holders are threads and detached processes of one engine home, so
— like :mod:`.mutexes` — the state is ``flock``s under ``<home>/locks``: slot
``i`` of a semaphore is a lock file, and a holder owns one slot. Waiters queue
as Argo's priority queue does (higher ``spec.priority`` first, then the older
workflow, then who came first): each waiter holds a lock on its own entry in
the semaphore's queue directory, entries sort by that order, and only the
front entry may take a free slot — so five steps behind a limit of two start
two at a time, oldest first. A process that dies releases its slot and its
entry with its file descriptors (a dead entry is removed by the next waiter).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SemaphoreRef", "Semaphores", "semaphore_refs"]

_POLL_SECONDS = 0.1
_PRIORITY_BIAS = 1 << 31


@dataclass(frozen=True, order=True)
class SemaphoreRef:
    """A semaphore by its ConfigMap key."""

    name: str
    key: str
    namespace: str = ""  # v4: the ConfigMap's namespace; "" for the workflow's

    def lock_name(self, namespace: str) -> str:
        """Argo's name for it (``lock_name.go``), as in its waiting messages."""
        return f"{self.namespace or namespace}/ConfigMap/{self.name}/{self.key}"


def semaphore_refs(synchronization: object) -> list[SemaphoreRef]:
    """The ConfigMap semaphores of a ``synchronization`` mapping (v4's ``semaphores``;
    the v3.7 singular ``semaphore`` is rewritten to it when the document is read)."""
    if not isinstance(synchronization, dict):
        return []
    found = set()
    for item in synchronization.get("semaphores") or []:
        ref = item.get("configMapKeyRef") if isinstance(item, dict) else None
        if isinstance(ref, dict) and ref.get("name") and ref.get("key"):
            namespace = str(item.get("namespace") or "")
            found.add(SemaphoreRef(str(ref["name"]), str(ref["key"]), namespace))
    return sorted(found)


@dataclass(frozen=True)
class Holder:
    """Who waits: its place in Argo's order, and callbacks for the limit and messages."""

    priority: int
    created: float
    limit: Callable[[SemaphoreRef], Awaitable[int]]  # raises when it cannot be read
    waiting: Callable[[str], None]


class Semaphores:
    """The semaphores of one engine home (``directory``: ``<home>/locks``)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _base(self, namespace: str, ref: SemaphoreRef) -> Path:
        digest = hashlib.sha256(ref.lock_name(namespace).encode()).hexdigest()[:32]
        return self.directory / f"semaphore-{digest}"

    @contextlib.asynccontextmanager
    async def held(
        self, namespace: str, refs: Iterable[SemaphoreRef], holder: Holder
    ) -> AsyncIterator[None]:
        """Hold a slot of every semaphore of ``refs`` (in sorted order, so two holders
        cannot deadlock). The limit is read through ``holder.limit``; an error it
        raises passes through before anything is held."""
        fds: list[int] = []
        try:
            for ref in sorted(set(refs)):
                fds.append(await self._take(namespace, ref, holder))
            yield
        finally:
            for fd in reversed(fds):
                os.close(fd)

    async def _take(self, namespace: str, ref: SemaphoreRef, holder: Holder) -> int:
        base = self._base(namespace, ref)
        queue = Path(f"{base}.queue")
        queue.mkdir(parents=True, exist_ok=True)
        entry, entry_fd = _enqueue(queue, holder)
        told = ""
        try:
            while True:
                limit = await holder.limit(ref)
                if _front(queue) == entry.name:
                    fd = _free_slot(base, limit)
                    if fd is not None:
                        return fd
                message = (
                    f"Waiting for {ref.lock_name(namespace)} lock. "
                    f"Lock status: {_free_count(base, limit)}/{limit}"
                )
                if message != told:
                    holder.waiting(message)
                    told = message
                await asyncio.sleep(_POLL_SECONDS)
        finally:
            entry.unlink(missing_ok=True)
            os.close(entry_fd)


def _enqueue(queue: Path, holder: Holder) -> tuple[Path, int]:
    """A locked entry named by Argo's order (created under a temporary name and
    renamed once locked, so no one sees it unlocked and takes it for dead)."""
    order = (
        f"{_PRIORITY_BIAS - holder.priority:011d}-{int(holder.created * 1e6):020d}-"
        f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
    )
    temporary = queue / f".{order}"
    fd = os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    entry = queue / order
    temporary.rename(entry)
    return entry, fd


def _front(queue: Path) -> str | None:
    """The first live entry of the queue (entries whose owner died are removed)."""
    for name in sorted(n for n in os.listdir(queue) if not n.startswith(".")):
        path = queue / name
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return name  # locked: its owner waits
        finally:
            os.close(fd)
        path.unlink(missing_ok=True)  # lockable: its owner is gone
    return None


def _free_slot(base: Path, limit: int) -> int | None:
    """An fd holding a free slot below ``limit``, or None."""
    for index in range(limit):
        fd = _try_slot(base, index)
        if fd is not None:
            return fd
    return None


def _free_count(base: Path, limit: int) -> int:
    """How many slots below ``limit`` are free now (for the waiting message)."""
    free = 0
    for index in range(limit):
        fd = _try_slot(base, index)
        if fd is not None:
            free += 1
            os.close(fd)
    return free


def _try_slot(base: Path, index: int) -> int | None:
    fd = os.open(f"{base}-{index}", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd
