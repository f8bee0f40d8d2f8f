"""The journal of observed Argo node changes: fixed ids, each change once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clusterforge.engine.argo._journal import ObservedJournal


def _workflow(phases: dict[str, str], phase: str = "Running") -> dict[str, Any]:
    nodes = {
        node_id: {
            "id": node_id,
            "name": f"wf.{node_id}",
            "displayName": node_id,
            "type": "Pod",
            "phase": node_phase,
            "startedAt": f"2026-12-04T10:00:0{index}Z",
        }
        for index, (node_id, node_phase) in enumerate(phases.items())
    }
    return {
        "metadata": {"name": "wf", "namespace": "default"},
        "spec": {},
        "status": {"phase": phase, "nodes": nodes},
    }


def test_each_observed_phase_change_is_journaled_once_in_order(tmp_path: Path) -> None:
    journal = ObservedJournal(tmp_path, "https://127.0.0.1:6443", "default")
    assert journal.observe(_workflow({"a": "Running", "b": "Pending"})) == 2
    assert journal.observe(_workflow({"a": "Running", "b": "Pending"})) == 0  # nothing new
    # another process observing the same cluster shares the journal: no double entries
    twin = ObservedJournal(tmp_path, "https://127.0.0.1:6443", "default")
    assert twin.observe(_workflow({"a": "Succeeded", "b": "Running"})) == 2
    assert journal.observe(_workflow({"a": "Succeeded", "b": "Running"})) == 0
    events = journal.events("wf")
    assert [(e.node_id, e.phase) for e in events] == [
        ("a", "Running"),
        ("b", "Pending"),
        ("a", "Succeeded"),
        ("b", "Running"),
    ]
    seqs = [e.seq for e in events]
    assert seqs == sorted(set(seqs))
    assert [e.seq for e in journal.events("wf", after=seqs[1])] == seqs[2:]
    latest, changed = journal.changes(seqs[0])
    assert (latest, changed) == (seqs[-1], ["wf"])
    assert journal.changes(None) == (seqs[-1], [])


def test_another_cluster_or_namespace_has_its_own_journal(tmp_path: Path) -> None:
    ours = ObservedJournal(tmp_path, "https://127.0.0.1:6443", "default")
    theirs = ObservedJournal(tmp_path, "https://127.0.0.1:6443", "builds")
    ours.observe(_workflow({"a": "Running"}))
    assert theirs.events("wf") == []
    ours.forget("wf")
    assert ours.events("wf") == []
