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
