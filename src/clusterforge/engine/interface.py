"""The one interface every engine backend implements.

Everything above the engine (stages, CLI, API, UI) drives workflows through
:class:`Engine` only — the local engine today, an Argo Workflows backend
later — the way httpx's clients speak to any transport through one method.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from clusterforge.engine.status import WorkflowView
from clusterforge.store import NodeEvent


@dataclass(frozen=True)
class Submission:
    """What to run: workflow files (or a library WorkflowTemplate), and arguments.

    ``workflow_template`` submits a WorkflowTemplate of the library by name, like
    ``argo submit --from workflowtemplate/NAME``. ``document`` is one workflow
    already as data (what a sensor's trigger renders): it is checked exactly as
    its JSON text would be, and an engine may reuse that check for documents
    that differ only in ``spec.arguments.parameters`` values.
    """

    files: tuple[Path, ...] = ()
    workflow_template: str | None = None
    text: str | None = None
    document: Mapping[str, Any] | None = None
    template_dirs: tuple[Path, ...] = ()
    arguments: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    name: str | None = None


@dataclass(frozen=True)
class LogLine:
    """One line of a step's output."""

    node_id: str
    display_name: str
    stream: str
    text: str


class Engine(Protocol):
    """Submit, observe and control workflows."""

    def submit(self, submission: Submission) -> WorkflowView: ...

    def get(self, workflow_id: str) -> WorkflowView: ...

    def list(
        self,
        *,
        phase: str | None = None,
        labels: Mapping[str, str] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[WorkflowView]: ...

    def watch(self, workflow_id: str, *, after: int = 0) -> Iterator[NodeEvent]: ...

    def logs(
        self, workflow_id: str, node: str | None = None, *, follow: bool = False
    ) -> Iterator[LogLine]: ...

    def retry(self, workflow_id: str) -> WorkflowView: ...

    def stop(self, workflow_id: str) -> WorkflowView: ...

    def wait(self, workflow_id: str, *, timeout: float | None = None) -> WorkflowView: ...
