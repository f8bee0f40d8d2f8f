"""Resuming a suspended node: the request an operator waits for.

A ``suspend`` template's node waits (Running) until its ``duration`` passes
or someone resumes it, as ``argo resume`` does. The request travels through
the engine's :class:`~clusterforge.engine.interface.Records`, which the
running workflow polls, so it works across processes (a detached run, the
API server) without a channel of its own: :func:`resume_node` writes it,
the operator reads and deletes it. The request may carry values for the
template's ``outputs.parameters`` with ``valueFrom.supplied`` (Argo sets them
with ``argo node set`` before resuming; here they come with the resume).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from clusterforge.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from clusterforge.engine.interface import Engine

RESUME_SCOPE = "resume-node"
"""The records scope of resume requests; the key is ``WORKFLOW_ID/NODE_ID``."""


def resume_key(workflow_id: str, node_id: str) -> str:
    return f"{workflow_id}/{node_id}"


def resume_node(
    engine: Engine, workflow: str, node: str, parameters: Mapping[str, str] | None = None
) -> str:
    """Ask the run of ``workflow`` to resume its suspended ``node`` (id, name or
    display name); the node's id. Refused when there is no such node, or it is
    not a suspend node that is waiting."""
    view = engine.get(workflow)
    found = view.node(node)
    if found is None:
        raise NotFound(f"workflow {workflow!r} has no node {node!r}")
    if found.type != "Suspend":
        raise InvalidInput(
            f"node {node!r} is a {found.type} node, not a suspend node; "
            "only a suspend template's node can be resumed"
        )
    if found.phase != "Running":
        raise InvalidInput(f"node {node!r} is {found.phase}, not waiting to be resumed")
    engine.records.kv_put(
        RESUME_SCOPE, resume_key(view.id, found.id), {"parameters": dict(parameters or {})}
    )
    return found.id
