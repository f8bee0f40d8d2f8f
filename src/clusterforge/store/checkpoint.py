"""Copy the write-ahead log into the database file off the writers' path.

SQLite's default in WAL mode is that the commit which pushes the log past
1,000 pages also checkpoints it — and a checkpoint ends with an ``fsync`` of
the log and the database. On a virtual disk that is tens of milliseconds,
paid by whichever writer was unlucky: the engine's event loop between two
steps, or an API request between receiving a trigger and answering it.

So our connections turn automatic checkpoints off, and one thread per
database file per process checkpoints instead (passive: it never blocks a
writer or a reader), shortly after writes happen. It stops when writes stop,
and starts again with the next write. If the process dies, nothing is lost:
committed transactions are in the log, and the next connection to close
last (or the next checkpointer) moves them into the database.
"""

from __future__ import annotations

import sqlite3
import threading

DELAY_SECONDS = 0.2
"""How long writes accumulate before a checkpoint (one fsync per batch)."""

IDLE_SECONDS = 10.0
"""A checkpointer with no writes for this long ends its thread."""

_CHECKPOINTERS: dict[str, Checkpointer] = {}
_GUARD = threading.Lock()


class Checkpointer:
    """The background checkpoints of one database file in this process."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._written = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def wrote(self) -> None:
        """Note a commit; a checkpoint follows within :data:`DELAY_SECONDS`."""
        self._written.set()
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="clusterforge-checkpoint", daemon=True
                    )
                    self._thread.start()

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        try:
            while True:
                if not self._written.wait(IDLE_SECONDS):
                    with self._lock:
                        if not self._written.is_set():
                            self._thread = None
                            return
                self._written.wait(DELAY_SECONDS)  # let a burst of commits finish
                self._written.clear()
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    continue  # busy or locked: the next write brings us back
        finally:
            conn.close()


def checkpointer(path: str) -> Checkpointer:
    """The process-wide checkpointer of the database at ``path`` (resolved)."""
    with _GUARD:
        found = _CHECKPOINTERS.get(path)
        if found is None:
            found = _CHECKPOINTERS[path] = Checkpointer(path)
        return found
