"""Argo's ``synchronization.mutexes``, held across every workflow of one engine home.

Argo's mutexes are named per namespace and shared by all workflows in it: a
template-level mutex is held by the node while its pod runs, a workflow-level
one for the whole run, and whoever waits is Pending with "Waiting for …
lock". Locally the workflows of one engine home run in threads and detached
processes, so an asyncio lock would not do: each mutex is an ``flock`` on a
file under ``<home>/locks`` (the file named by a hash of namespace and mutex
name, so no user text reaches a path), polled without blocking the event loop.
A process that dies releases its locks with its file descriptors.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path

__all__ = ["Mutexes", "mutex_names"]

_POLL_SECONDS = 0.1


def mutex_names(synchronization: object) -> list[str]:
    """The mutex names of a ``synchronization`` mapping (v4's ``mutexes``; the v3.7
    singular ``mutex`` is rewritten to it when the document is read)."""
    if not isinstance(synchronization, dict):
        return []
    found = [m.get("name") for m in synchronization.get("mutexes") or [] if isinstance(m, dict)]
    return sorted({str(name) for name in found if name})


class Mutexes:
    """The mutexes of one engine home (``directory``: ``<home>/locks``)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, namespace: str, name: str) -> Path:
        digest = hashlib.sha256(f"{namespace}/{name}".encode()).hexdigest()[:32]
        return self.directory / f"mutex-{digest}"

    @contextlib.asynccontextmanager
    async def held(
        self, namespace: str, names: Iterable[str], waiting: Callable[[str], None]
    ) -> AsyncIterator[None]:
        """Hold every mutex of ``names`` (in sorted order, so two holders cannot deadlock);
        ``waiting(message)`` is called once for each mutex found taken."""
        fds: list[int] = []
        try:
            for name in sorted(set(names)):
                fds.append(await self._take(namespace, name, waiting))
            yield
        finally:
            for fd in reversed(fds):
                os.close(fd)  # closing releases the flock

    async def _take(self, namespace: str, name: str, waiting: Callable[[str], None]) -> int:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path(namespace, name), os.O_RDWR | os.O_CREAT, 0o600)
        told = False
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return fd
                except BlockingIOError:
                    if not told:
                        waiting(f"Waiting for {namespace}/Mutex/{name} lock")
                        told = True
                    await asyncio.sleep(_POLL_SECONDS)
        except BaseException:
            os.close(fd)
            raise
