"""Node and workflow phases, and the messages Argo gives them.

Every backend reports Argo's phases and Argo's own wording (a tool written for
Argo greps for "Stopped with strategy 'Stop'"), so the sets and the messages
live here once: the local operator decides with them, :mod:`status` shows them,
the planner and the CLI read them.
"""

from __future__ import annotations

FULFILLED = frozenset({"Succeeded", "Failed", "Error", "Skipped", "Omitted"})
"""A node in one of these phases is final: a resume returns it, never runs it again."""
COMPLETED = frozenset({"Succeeded", "Failed", "Error"})
"""Phases of a node that ran (as opposed to being skipped or omitted)."""
FAILED = frozenset({"Failed", "Error"})
WORKFLOW_DONE = COMPLETED
"""A workflow ends in one of these."""

STOP_MESSAGE = "Stopped with strategy 'Stop'"
TERMINATE_MESSAGE = "Stopped with strategy 'Terminate'"
DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline"
WORKFLOW_DEADLINE_MESSAGE = "Max duration limit exceeded"
RETRY_DEADLINE_MESSAGE = "Max duration limit exceeded for retries"
TEMPLATE_TIMEOUT_MESSAGE = "timeout"
"""Argo's ``ErrTimeout``: a node still Pending (waiting for a lock) past its ``timeout``."""
INTERRUPTED = "engine restarted while this attempt was running (pid {pid}); attempt abandoned"


def shutdown_message(strategy: str) -> str:
    """Argo's message for a node ended by ``argo stop`` / ``argo terminate``."""
    return TERMINATE_MESSAGE if strategy == "Terminate" else STOP_MESSAGE


def pod_deadline_passed(node_name: str) -> str:
    """Argo's message when too little of a ``timeout`` is left to create the pod."""
    return f"{node_name} exceeded its deadline"


__all__ = [
    "COMPLETED",
    "DEADLINE_MESSAGE",
    "FAILED",
    "FULFILLED",
    "INTERRUPTED",
    "RETRY_DEADLINE_MESSAGE",
    "STOP_MESSAGE",
    "TEMPLATE_TIMEOUT_MESSAGE",
    "TERMINATE_MESSAGE",
    "WORKFLOW_DEADLINE_MESSAGE",
    "WORKFLOW_DONE",
    "pod_deadline_passed",
    "shutdown_message",
]
