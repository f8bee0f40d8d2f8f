"""SQLite persistence for workflows, nodes and their event journal.

Why SQLite in WAL mode: one file, no server, crash-safe commits, and many
readers (CLI, API, UI) alongside one writer (the engine) across processes.
Every write is its own short transaction, so a SIGKILL of the engine loses at
most the transition it was writing; everything committed before is the truth a
restarted engine resumes from.

Only this module issues SQL. Each thread gets its own connection.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from clusterforge.store.checkpoint import checkpointer
from clusterforge.store.group import GroupCommit
from clusterforge.store.records import NodeEvent, NodeRecord, WorkflowRecord

_SCHEMA = """
CREATE TABLE IF NOT EXISTS workflows (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    namespace   TEXT NOT NULL,
    uid         TEXT NOT NULL,
    manifest    TEXT NOT NULL,
    templates   TEXT NOT NULL,
    arguments   TEXT NOT NULL,
    labels      TEXT NOT NULL,
    phase       TEXT NOT NULL,
    message     TEXT NOT NULL,
    created_at  REAL NOT NULL,
    started_at  REAL,
    finished_at REAL,
    owner       TEXT,
    heartbeat   REAL,
    shutdown    TEXT,
    outputs     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS workflows_created ON workflows (created_at);
CREATE INDEX IF NOT EXISTS workflows_owner ON workflows (owner);
CREATE TABLE IF NOT EXISTS nodes (
    workflow_id  TEXT NOT NULL,
    id           TEXT NOT NULL,
    name         TEXT NOT NULL,
    display_name TEXT NOT NULL,
    type         TEXT NOT NULL,
    template_name TEXT NOT NULL,
    phase        TEXT NOT NULL,
    message      TEXT NOT NULL,
    boundary_id  TEXT NOT NULL,
    parent_id    TEXT NOT NULL,
    children     TEXT NOT NULL,
    started_at   REAL,
    finished_at  REAL,
    inputs       TEXT NOT NULL,
    outputs      TEXT NOT NULL,
    exit_code    INTEGER,
    pid          INTEGER,
    log_dir      TEXT,
    attempt      INTEGER,
    image        TEXT,
    PRIMARY KEY (workflow_id, id)
);
CREATE TABLE IF NOT EXISTS events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    workflow_id  TEXT NOT NULL,
    node_id      TEXT NOT NULL,
    node_name    TEXT NOT NULL,
    display_name TEXT NOT NULL,
    type         TEXT NOT NULL,
    phase        TEXT NOT NULL,
    message      TEXT NOT NULL,
    at           REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS events_workflow ON events (workflow_id, seq);
CREATE TABLE IF NOT EXISTS kv (
    scope TEXT NOT NULL,
    key   TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);
"""

_WF_JSON = ("manifest", "templates", "arguments", "labels", "outputs")
_NODE_JSON = ("children", "inputs", "outputs")
_WF_COLUMNS = tuple(WorkflowRecord.__dataclass_fields__)
_NODE_COLUMNS = tuple(NodeRecord.__dataclass_fields__)
_SELECT_NODES = f"SELECT {','.join(_NODE_COLUMNS)} FROM nodes WHERE workflow_id=? ORDER BY rowid"  # noqa: S608 — our own constants
_NODE_JSON_AT = tuple(_NODE_COLUMNS.index(c) for c in _NODE_JSON)
_UPSERT_NODE = (
    f"INSERT INTO nodes ({','.join(_NODE_COLUMNS)}) VALUES ({','.join('?' for _ in _NODE_COLUMNS)})"  # noqa: S608 — our own constants
    " ON CONFLICT (workflow_id, id) DO UPDATE SET "
    + ",".join(f"{c}=excluded.{c}" for c in _NODE_COLUMNS if c not in ("workflow_id", "id"))
)


_IDS_PER_QUERY = 500
"""Ids per ``IN (…)`` list (far below SQLite's limit on bound parameters)."""

EventRow = tuple[str, str, str, str, str, str, str, float]
T = TypeVar("T")

# One write lock per database file per process (several Store objects may share a file).
_WRITE_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


class _ProcessLock:
    """An exclusive ``flock`` on ``<database>.lock``, held around each write transaction.

    Why: writers in several processes (a multi-process server) would otherwise
    meet in SQLite's busy handler, which sleeps 1, 2, 5, 10… ms between tries;
    a blocked ``flock`` wakes the moment the holder lets go. SQLite still
    guarantees correctness; this only makes the wait short. Reopened after a
    fork (a forked child must not share its parent's lock).
    """

    def __init__(self, path: str) -> None:
        self.path = path + ".lock"
        self._fd = -1
        self._pid = -1

    def acquire(self) -> None:
        if self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def release(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)


_PROCESS_LOCKS: dict[str, _ProcessLock] = {}


def event_of(node: NodeRecord) -> EventRow:
    """The journal row for ``node``'s current phase, stamped now."""
    return (
        node.workflow_id,
        node.id,
        node.name,
        node.display_name,
        node.type,
        node.phase,
        node.message,
        time.time(),
    )


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


_INSERT_WORKFLOW = (
    f"INSERT INTO workflows ({','.join(_WF_COLUMNS)}) VALUES ({','.join('?' for _ in _WF_COLUMNS)})"  # noqa: S608 — our own constants
)


@dataclass(frozen=True)
class WorkflowRow:
    """A workflow as the database stores it (JSON columns encoded)."""

    id: str
    values: tuple[Any, ...]


def workflow_row(wf: WorkflowRecord) -> WorkflowRow:
    """Encode a workflow for :meth:`Store.create_workflow` — in the caller's thread, so
    a group-commit writer (:meth:`Store.write_grouped`) spends its time in SQLite."""
    return WorkflowRow(
        wf.id,
        tuple(_dumps(getattr(wf, c)) if c in _WF_JSON else getattr(wf, c) for c in _WF_COLUMNS),
    )


class Store:
    """The state database. Safe to share between threads (one connection each)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        resolved = str(path.resolve())
        with _LOCKS_GUARD:
            self._write_lock = _WRITE_LOCKS.setdefault(resolved, threading.Lock())
            self._process_lock = _PROCESS_LOCKS.setdefault(resolved, _ProcessLock(resolved))
        self._checkpointer = checkpointer(resolved)
        self._group: GroupCommit | None = None
        self._conn().executescript(_SCHEMA)  # executescript manages its own transaction

    # -- connection handling -------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA wal_autocheckpoint=0")  # see store/checkpoint.py
            conn.row_factory = sqlite3.Row
            self._local.conn = conn
        return conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        db = self._conn()
        if db.in_transaction:  # nested: the outer transaction commits
            yield db
            return
        # Threads of one process queue on a lock, processes on a file lock, instead
        # of on SQLite's busy handler, which sleeps in steps of milliseconds and
        # would make a busy server's writes slow.
        with self._write_lock:
            self._process_lock.acquire()
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                    db.execute("COMMIT")
                except BaseException:
                    if db.in_transaction:  # also when COMMIT itself failed: never leave it open
                        db.execute("ROLLBACK")
                    raise
            finally:
                self._process_lock.release()
        self._checkpointer.wrote()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group several writes into one commit (faster, and atomic)."""
        with self._tx():
            yield

    def write_grouped(self, work: Callable[[], T]) -> Future[T]:
        """Run ``work()`` — writes through this store — in a transaction shared with
        other threads' grouped writes; the future completes when it is committed
        (or fails with ``work``'s own error, nothing of it stored). See
        :mod:`clusterforge.store.group`."""
        if self._group is None:
            with _LOCKS_GUARD:
                if self._group is None:
                    self._group = GroupCommit(self)
        return self._group.submit(work)

    def close(self) -> None:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- workflows -----------------------------------------------------------

    def create_workflow(self, wf: WorkflowRecord | WorkflowRow) -> None:
        """Insert a workflow (or the row :func:`workflow_row` made of one beforehand);
        an id already taken raises :class:`sqlite3.IntegrityError`, nothing stored."""
        row = wf if isinstance(wf, WorkflowRow) else workflow_row(wf)
        with self._tx() as db:
            db.execute(_INSERT_WORKFLOW, row.values)

    def update_workflow(self, workflow_id: str, **fields: Any) -> None:
        if not fields:
            return
        unknown = set(fields) - set(_WF_COLUMNS)
        if unknown:
            raise ValueError(f"unknown workflow columns: {sorted(unknown)}")
        sets = ",".join(f"{k}=?" for k in fields)
        values = [_dumps(v) if k in _WF_JSON else v for k, v in fields.items()]
        with self._tx() as db:
            db.execute(f"UPDATE workflows SET {sets} WHERE id=?", [*values, workflow_id])  # noqa: S608 — columns checked above

    def get_workflow(self, workflow_id: str) -> WorkflowRecord | None:
        row = self._conn().execute("SELECT * FROM workflows WHERE id=?", (workflow_id,)).fetchone()
        return _workflow(row) if row else None

    def delete_workflow(self, workflow_id: str) -> bool:
        """Remove a workflow with its nodes and events; False if there was none."""
        with self._tx() as db:
            db.execute("DELETE FROM events WHERE workflow_id=?", (workflow_id,))
            db.execute("DELETE FROM nodes WHERE workflow_id=?", (workflow_id,))
            gone = db.execute("DELETE FROM workflows WHERE id=?", (workflow_id,))
        return gone.rowcount > 0

    def shutdown_requested(self, workflow_id: str) -> str | None:
        """The stop/terminate strategy asked for, if any — without decoding the
        workflow's snapshot (a running engine polls this several times a second)."""
        row = (
            self._conn()
            .execute("SELECT shutdown FROM workflows WHERE id=?", (workflow_id,))
            .fetchone()
        )
        return row[0] if row and row[0] else None

    def shutdowns_requested(self, workflow_ids: Iterable[str]) -> dict[str, str]:
        """The stop/terminate strategies asked for among ``workflow_ids`` — one query
        for every run an engine process hosts (polled several times a second)."""
        found: dict[str, str] = {}
        ids = list(workflow_ids)
        db = self._conn()
        for at in range(0, len(ids), _IDS_PER_QUERY):
            chunk = ids[at : at + _IDS_PER_QUERY]
            marks = ",".join("?" for _ in chunk)
            rows = db.execute(
                f"SELECT id, shutdown FROM workflows WHERE shutdown IS NOT NULL AND shutdown != ''"  # noqa: S608 — only placeholders
                f" AND id IN ({marks})",
                chunk,
            )
            found.update((str(r[0]), str(r[1])) for r in rows)
        return found

    def heartbeat(self, workflow_ids: Iterable[str]) -> None:
        """Their owner is alive: stamp every one of ``workflow_ids`` now, in one
        transaction."""
        ids = list(workflow_ids)
        if not ids:
            return
        now = time.time()
        with self._tx() as db:
            for at in range(0, len(ids), _IDS_PER_QUERY):
                chunk = ids[at : at + _IDS_PER_QUERY]
                marks = ",".join("?" for _ in chunk)
                db.execute(
                    f"UPDATE workflows SET heartbeat=? WHERE id IN ({marks})",  # noqa: S608 — only placeholders
                    [now, *chunk],
                )

    def list_workflows(
        self,
        *,
        phase: str | None = None,
        labels: dict[str, str] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[WorkflowRecord]:
        """Workflows newest first, filtered and paginated in SQL."""
        where: list[str] = []
        args: list[Any] = []
        if phase:
            where.append("phase=?")
            args.append(phase)
        for key, value in (labels or {}).items():
            where.append("json_extract(labels, ?)=?")
            args.extend([f'$."{key}"', value])
        sql = "SELECT * FROM workflows"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?"
        args.extend([-1 if limit is None else limit, offset])
        return [_workflow(r) for r in self._conn().execute(sql, args)]

    def claim_workflow(self, workflow_id: str, owner: str, *, unless_alive: Iterable[str]) -> bool:
        """Atomically take ownership unless a live owner (one of ``unless_alive``) holds it."""
        alive = set(unless_alive)
        with self._tx() as db:
            row = db.execute("SELECT owner FROM workflows WHERE id=?", (workflow_id,)).fetchone()
            if row is None:
                return False
            current = row["owner"]
            if current and current != owner and current in alive:
                return False
            db.execute(
                "UPDATE workflows SET owner=?, heartbeat=? WHERE id=?",
                (owner, time.time(), workflow_id),
            )
            return True

    def take_handed_off(self, marker: str, owner: str) -> list[str]:
        """Take every workflow stored with owner ``marker`` (handed to a server's
        controller by another process) for ``owner``, oldest first; one transaction,
        so each workflow is taken by exactly one caller."""
        with self._tx() as db:
            rows = db.execute(
                "UPDATE workflows SET owner=?, heartbeat=? WHERE owner=? RETURNING id, created_at",
                (owner, time.time(), marker),
            ).fetchall()
        return [r["id"] for r in sorted(rows, key=lambda r: (r["created_at"], r["id"]))]

    def count_owned(self, owner: str) -> int:
        """How many workflows ``owner`` holds (an index lookup)."""
        row = self._conn().execute("SELECT count(*) FROM workflows WHERE owner=?", (owner,))
        return int(row.fetchone()[0])

    # -- nodes ---------------------------------------------------------------

    def put_node(self, node: NodeRecord, *, event: bool = True) -> None:
        """Insert or update a node; record an event when asked (phase change)."""
        self.put_nodes([node], [event_of(node)] if event else [])

    def put_nodes(self, nodes: Iterable[NodeRecord], events: Iterable[EventRow] = ()) -> None:
        """Write node states and events (in order) in one transaction.

        An update keeps the node's row, and so its place in creation order.
        """
        rows = [_node_row(node) for node in nodes]
        event_rows = list(events)
        if not rows and not event_rows:
            return
        with self._tx() as db:
            if rows:
                db.executemany(_UPSERT_NODE, rows)
            if event_rows:
                db.executemany(
                    "INSERT INTO events (workflow_id, node_id, node_name, display_name, type,"
                    " phase, message, at) VALUES (?,?,?,?,?,?,?,?)",
                    event_rows,
                )

    def get_nodes(self, workflow_id: str) -> dict[str, NodeRecord]:
        """All nodes of a workflow by node id, in creation order.

        A node's ``children`` are its stored list plus every node naming it as
        ``parent_id``, in creation order: the engine does not rewrite a DAG's
        row (with its thousand children) each time a child is added, only
        when the DAG itself changes.
        """
        cursor = self._conn().cursor()
        cursor.row_factory = None  # plain tuples, in _NODE_COLUMNS order: no per-row dict
        cursor.execute(_SELECT_NODES, (workflow_id,))
        nodes = {node.id: node for node in map(_node_of_values, cursor)}
        known: dict[str, set[str]] = {}
        for node in nodes.values():
            parent = nodes.get(node.parent_id) if node.parent_id else None
            if parent is None:
                continue
            listed = known.get(parent.id)
            if listed is None:
                listed = known[parent.id] = set(parent.children)
            if node.id not in listed:
                listed.add(node.id)
                parent.children.append(node.id)
        return nodes

    def delete_nodes(self, workflow_id: str, node_ids: Iterable[str]) -> None:
        with self._tx() as db:
            db.executemany(
                "DELETE FROM nodes WHERE workflow_id=? AND id=?",
                [(workflow_id, n) for n in node_ids],
            )

    # -- events --------------------------------------------------------------

    def events(self, workflow_id: str, *, after: int = 0) -> list[NodeEvent]:
        rows = self._conn().execute(
            "SELECT * FROM events WHERE workflow_id=? AND seq>? ORDER BY seq",
            (workflow_id, after),
        )
        return [NodeEvent(**dict(r)) for r in rows]

    def append_changed(self, workflow_id: str, events: Iterable[EventRow]) -> int:
        """Journal, in order, each event whose node's phase differs from that node's
        last journaled phase; how many were new.

        For a journal of what someone else runs (the Argo backend observing
        Argo's controller): the comparison and the insert are one write
        transaction, so two processes observing the same change journal it once.
        """
        with self._tx() as db:
            last = dict(
                db.execute(
                    "SELECT node_id, phase FROM events WHERE workflow_id=? ORDER BY seq",
                    (workflow_id,),
                ).fetchall()
            )
            fresh = [e for e in events if last.get(e[1]) != e[5]]
            if fresh:
                db.executemany(
                    "INSERT INTO events (workflow_id, node_id, node_name, display_name, type,"
                    " phase, message, at) VALUES (?,?,?,?,?,?,?,?)",
                    fresh,
                )
        return len(fresh)

    def latest_event(self) -> int:
        """The sequence number of the newest event (0: none yet)."""
        row = self._conn().execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()
        return int(row[0])

    def changed_since(self, after: int, *, limit: int = 10_000) -> tuple[int, list[str]]:
        """The last sequence number read, and the workflows with events after ``after``
        (in order of their first such event) — what a live list needs to refresh."""
        rows = (
            self._conn()
            .execute(
                "SELECT seq, workflow_id FROM events WHERE seq>? ORDER BY seq LIMIT ?",
                (after, limit),
            )
            .fetchall()
        )
        latest = int(rows[-1][0]) if rows else after
        return latest, list(dict.fromkeys(str(r[1]) for r in rows))

    # -- small key/value space for other layers (idempotency keys, builds) ----

    def kv_put(self, scope: str, key: str, value: Any) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO kv (scope, key, value) VALUES (?,?,?)",
                (scope, key, _dumps(value)),
            )

    def kv_create(self, scope: str, key: str, value: Any) -> bool:
        """Store ``value`` under a key not used yet; False (nothing written) if it is —
        a first-writer-wins claim that holds across processes."""
        with self._tx() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO kv (scope, key, value) VALUES (?,?,?)",
                (scope, key, _dumps(value)),
            )
            return cursor.rowcount == 1

    def kv_delete(self, scope: str, key: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM kv WHERE scope=? AND key=?", (scope, key))

    def kv_get(self, scope: str, key: str) -> Any:
        row = (
            self._conn()
            .execute("SELECT value FROM kv WHERE scope=? AND key=?", (scope, key))
            .fetchone()
        )
        return json.loads(row["value"]) if row else None

    def kv_items(self, scope: str) -> list[tuple[str, Any]]:
        rows = self._conn().execute(
            "SELECT key, value FROM kv WHERE scope=? ORDER BY key", (scope,)
        )
        return [(r["key"], json.loads(r["value"])) for r in rows]


def _json_text(value: Any) -> str:
    # most nodes have no children, inputs or outputs: skip the encoder for those
    if not value:
        return (
            "[]" if isinstance(value, list) else "{}" if isinstance(value, dict) else _dumps(value)
        )
    return _dumps(value)


def _node_row(node: NodeRecord) -> list[Any]:
    """A node's column values, JSON columns encoded (the engine writes thousands a second)."""
    row = [getattr(node, c) for c in _NODE_COLUMNS]
    for at in _NODE_JSON_AT:
        row[at] = _json_text(row[at])
    return row


def _workflow(row: sqlite3.Row) -> WorkflowRecord:
    data = dict(row)
    for key in _WF_JSON:
        data[key] = json.loads(data[key])
    return WorkflowRecord(**data)


def _json_column(text: str) -> Any:
    # most nodes have no children, inputs or outputs: skip the decoder for those
    return [] if text == "[]" else {} if text == "{}" else json.loads(text)


def _node_of_values(row: tuple[Any, ...]) -> NodeRecord:
    """A node from a row selected as ``_NODE_COLUMNS`` — the bulk read of a workflow's
    tree (a 5,000-node build page), where building a dict per row costs more than
    the decoding."""
    values = list(row)
    for at in _NODE_JSON_AT:
        values[at] = _json_column(values[at])
    return NodeRecord(*values)
