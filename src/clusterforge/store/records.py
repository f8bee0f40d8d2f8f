"""The rows the store keeps, as plain typed records.

A workflow row holds everything needed to run it again without the original
files: the workflow manifest and every WorkflowTemplate it references, as JSON
snapshots taken at submit time. A node row is one node of Argo's status tree
(DAG, Steps, StepGroup, TaskGroup, Retry, Pod, Skipped); a Pod node is one
attempt of a step and points at its log files. Events are the append-only
journal of node phase changes that watchers (CLI, SSE, UI) follow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


@dataclass
class WorkflowRecord:
    """One submitted workflow and its overall state."""

    id: str
    name: str
    namespace: str
    uid: str
    manifest: JSON
    templates: dict[str, JSON] = field(default_factory=dict)
    arguments: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    phase: str = "Pending"
    message: str = ""
    created_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    owner: str | None = None
    heartbeat: float | None = None
    shutdown: str | None = None
    outputs: JSON = field(default_factory=dict)


@dataclass
class NodeRecord:
    """One node of a workflow's status tree (Argo's ``status.nodes`` entry)."""

    workflow_id: str
    id: str
    name: str
    display_name: str
    type: str
    template_name: str = ""
    phase: str = "Pending"
    message: str = ""
    boundary_id: str = ""
    parent_id: str = ""
    children: list[str] = field(default_factory=list)
    started_at: float | None = None
    finished_at: float | None = None
    inputs: JSON = field(default_factory=dict)
    outputs: JSON = field(default_factory=dict)
    exit_code: int | None = None
    pid: int | None = None
    log_dir: str | None = None
    attempt: int | None = None
    image: str | None = None


@dataclass(frozen=True)
class NodeEvent:
    """A node changed phase (or was created); ``seq`` orders events per store."""

    seq: int
    workflow_id: str
    node_id: str
    node_name: str
    display_name: str
    type: str
    phase: str
    message: str
    at: float
