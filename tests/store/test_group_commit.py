"""Group commit: many threads' writes in one transaction, each outcome its own.

A grouped write's future completes only once its transaction is committed
(another connection reads it at once), and a unit that fails is reported to
its own caller alone: the rest of its batch is stored, nothing of it is.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from clusterforge.store import Store, WorkflowRecord, workflow_row


def _workflow(wid: str) -> WorkflowRecord:
    return WorkflowRecord(
        id=wid, name=wid, namespace="default", uid=f"u-{wid}", manifest={"spec": {}},
        created_at=time.time(),
    )  # fmt: skip


def test_a_completed_write_is_committed(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.db")
    future = store.write_grouped(lambda: store.create_workflow(workflow_row(_workflow("a"))))
    future.result(timeout=10)
    other = sqlite3.connect(tmp_path / "state.db")
    assert other.execute("SELECT id FROM workflows").fetchall() == [("a",)]


def test_a_failing_unit_fails_alone(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.db")
    store.create_workflow(_workflow("taken"))
    gate = threading.Event()
    # hold the writer on a first unit, so the next ones queue up into one batch
    first = store.write_grouped(lambda: gate.wait(10))
    futures: dict[str, Future[Any]] = {}
    for wid in ("b", "taken", "c"):
        futures[wid] = store.write_grouped(functools.partial(store.create_workflow, _workflow(wid)))
    gate.set()
    first.result(timeout=10)
    futures["b"].result(timeout=10)
    futures["c"].result(timeout=10)
    with pytest.raises(sqlite3.IntegrityError):
        futures["taken"].result(timeout=10)
    assert sorted(w.id for w in store.list_workflows()) == ["b", "c", "taken"]
    kept = store.get_workflow("taken")
    assert kept is not None
    assert kept.uid == "u-taken"


def test_a_unit_is_atomic(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.db")

    def half() -> None:
        store.create_workflow(_workflow("half"))
        store.kv_put("scope", "key", {"v": 1})
        raise RuntimeError("broken after two writes")

    with pytest.raises(RuntimeError):
        store.write_grouped(half).result(timeout=10)
    assert store.get_workflow("half") is None
    assert store.kv_get("scope", "key") is None
    # the writer goes on
    store.write_grouped(lambda: store.kv_put("scope", "key", {"v": 2})).result(timeout=10)
    assert store.kv_get("scope", "key") == {"v": 2}


def test_many_threads_all_stored(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.db")
    futures = []
    lock = threading.Lock()

    def client(index: int) -> None:
        for n in range(50):
            row = workflow_row(_workflow(f"w-{index}-{n}"))
            future = store.write_grouped(functools.partial(store.create_workflow, row))
            with lock:
                futures.append(future)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for future in futures:
        future.result(timeout=30)
    assert len(store.list_workflows()) == 400
