"""The store's own promises: a DAG's children come back complete and in order
although the engine does not rewrite the DAG's row for each child, a stop
request is readable without decoding the workflow, and the write-ahead log is
copied into the database by the background checkpointer (not by writers)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from clusterforge.store import NodeRecord, Store, WorkflowRecord, event_of


def _workflow(wid: str = "wf-1") -> WorkflowRecord:
    return WorkflowRecord(
        id=wid,
        name=wid,
        namespace="default",
        uid="u-1",
        manifest={"spec": {"templates": [{"name": "t"}] * 50}},
        templates={},
        arguments={},
        labels={},
        phase="Running",
        message="",
        created_at=time.time(),
    )


def _node(nid: str, parent: str = "", children: list[str] | None = None) -> NodeRecord:
    return NodeRecord(
        workflow_id="wf-1",
        id=nid,
        name=nid,
        display_name=nid,
        type="Pod" if parent else "DAG",
        template_name="t",
        phase="Running",
        message="",
        boundary_id="",
        parent_id=parent,
        children=children or [],
    )


def test_children_come_from_parent_ids_in_creation_order(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.db")
    store.create_workflow(_workflow())
    store.put_nodes([_node("dag")])  # written once, with no children
    kids = [_node(f"task-{i}", parent="dag") for i in (3, 1, 2)]
    store.put_nodes(kids, [event_of(k) for k in kids])
    assert store.get_nodes("wf-1")["dag"].children == ["task-3", "task-1", "task-2"]
    # the DAG's own list (written when it finishes) is kept, and not doubled
    store.put_nodes([_node("dag", children=["task-3", "task-1"])])
    assert store.get_nodes("wf-1")["dag"].children == ["task-3", "task-1", "task-2"]


def test_a_stop_request_is_read_without_the_snapshot(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.db")
    store.create_workflow(_workflow())
    assert store.shutdown_requested("wf-1") is None
    store.update_workflow("wf-1", shutdown="Terminate")
    assert store.shutdown_requested("wf-1") == "Terminate"
    assert store.shutdown_requested("no-such-workflow") is None


def test_stop_requests_and_heartbeats_of_many_runs_in_one_call(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.db")
    ids = [f"wf-{i}" for i in range(1200)]  # more than one IN (...) list holds
    for wid in ids:
        store.create_workflow(_workflow(wid))
    assert store.shutdowns_requested(ids) == {}
    store.update_workflow("wf-7", shutdown="Stop")
    store.update_workflow("wf-1100", shutdown="Terminate")
    store.update_workflow("wf-3", shutdown="Stop")  # asked for, but not among those polled
    polled = [i for i in ids if i != "wf-3"] + ["no-such-workflow"]
    assert store.shutdowns_requested(polled) == {"wf-7": "Stop", "wf-1100": "Terminate"}
    before = time.time()
    store.heartbeat(ids[:1000])
    beats = {}
    for wid in ("wf-0", "wf-999", "wf-1000"):
        record = store.get_workflow(wid)
        assert record is not None
        beats[wid] = record.heartbeat or 0.0
    assert beats["wf-0"] >= before
    assert beats["wf-999"] >= before
    assert beats["wf-1000"] == 0.0  # not among those stamped
    store.heartbeat([])  # nothing to stamp: no transaction, no error


def test_writers_leave_checkpoints_to_the_checkpointer(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = Store(path)
    store.create_workflow(_workflow())
    before = path.stat().st_size
    for i in range(300):  # well past SQLite's automatic 1,000-page checkpoint
        store.put_nodes([_node(f"task-{i}", parent="dag")])
    reader = sqlite3.connect(path)
    assert reader.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000  # a new connection
    writer_setting = store._conn().execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    assert writer_setting == 0
    deadline = time.monotonic() + 30
    while path.stat().st_size == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path.stat().st_size > before  # pages reached the database file
    assert len(store.get_nodes("wf-1")) == 300
