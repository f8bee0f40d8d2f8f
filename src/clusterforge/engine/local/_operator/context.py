"""What travels down the walk: a template call, what a node inherits from its
caller, the run's stop flags, and the one callback every composite node uses
to run its children (:class:`Executes`, implemented by :mod:`execute`, so the
DAG, steps and retry modules never import the dispatcher above them)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from clusterforge.engine.local._operator.templates import Scope
from clusterforge.engine.phases import WORKFLOW_DEADLINE_MESSAGE, shutdown_message
from clusterforge.store import NodeRecord

JSON = dict[str, Any]


@dataclass
class Call:
    """A resolved template call: the template, its scope, and its arguments."""

    template: JSON
    scope: Scope
    arguments: dict[str, str]
    artifacts: list[JSON] = field(default_factory=list)  # arguments.artifacts, resolved


@dataclass
class Context:
    """What a node inherits from its caller."""

    boundary_id: str
    parent_id: str
    semaphores: tuple[asyncio.Semaphore, ...] = ()
    extra_vars: dict[str, str] = field(default_factory=dict)

    def child(self, parent_id: str, **extra: str) -> Context:
        """The context of a node's children: same boundary, ``parent_id`` as parent."""
        return Context(self.boundary_id, parent_id, self.semaphores, {**self.extra_vars, **extra})

    def inside(self, node_id: str, template: Mapping[str, Any]) -> Context:
        """The context of a DAG's or steps' children: the node is their boundary,
        and the template's ``parallelism`` bounds them (only them: the node itself
        holds its caller's slot while it runs)."""
        parallelism = template.get("parallelism")
        own = (asyncio.Semaphore(int(parallelism)),) if parallelism else ()
        return Context(node_id, node_id, own, self.extra_vars)


@dataclass
class RunFlags:
    """Why the run is ending early, if it is: a stop/terminate request or the deadline."""

    shutdown: str | None = None
    deadline_hit: bool = False

    def cancel_reason(self) -> str:
        """The message a node cancelled mid-run ends with."""
        if self.shutdown:
            return shutdown_message(self.shutdown)
        if self.deadline_hit:
            return WORKFLOW_DEADLINE_MESSAGE
        return "cancelled"


class Executes(Protocol):
    """Runs (or returns the already-fulfilled) node ``name`` for a template call."""

    async def execute(
        self,
        name: str,
        display: str,
        call: Call,
        ctx: Context,
        *,
        retry_attempt: int | None = None,
    ) -> NodeRecord: ...
