"""Render a workflow as a Rich tree: phase, name, template, duration, message.

Used for the live view of ``run``/``get``/``build`` (refreshed while the
workflow runs) and for the final summary.
"""

from __future__ import annotations

import time
from collections import defaultdict

from rich.text import Text
from rich.tree import Tree

from clusterforge.engine import WorkflowView
from clusterforge.store import NodeRecord

_ICONS = {
    "Succeeded": ("✔", "green"),
    "Failed": ("✖", "red"),
    "Error": ("⚠", "red"),
    "Running": ("●", "cyan"),
    "Pending": ("◌", "yellow"),
    "Skipped": ("○", "dim"),
    "Omitted": ("○", "dim"),
}


def _duration(node: NodeRecord) -> str:
    if not node.started_at:
        return ""
    end = node.finished_at or time.time()
    seconds = max(end - node.started_at, 0.0)
    if seconds < 60:
        return f"{seconds:.1f}s"
    return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


def _label(node: NodeRecord) -> Text:
    icon, style = _ICONS.get(node.phase, ("?", "white"))
    text = Text()
    text.append(f"{icon} ", style=style)
    text.append(node.display_name, style="bold" if node.type in ("DAG", "Steps") else "")
    if node.template_name and node.template_name != node.display_name:
        text.append(f"  {node.template_name}", style="dim")
    text.append(f"  {node.phase}", style=style)
    duration = _duration(node)
    if duration:
        text.append(f"  {duration}", style="dim")
    if node.type == "Retry":
        attempts = len(node.children)
        text.append(f"  attempts: {attempts}", style="magenta")
    if node.message:
        text.append(f"  {node.message}", style="italic dim" if node.phase != "Failed" else "red")
    return text


def render(view: WorkflowView) -> Tree:
    """The workflow's node tree (by creating parent), root first."""
    wf = view.record
    header = Text()
    icon, style = _ICONS.get(wf.phase, ("?", "white"))
    header.append(f"{icon} {wf.name}", style=f"bold {style}")
    header.append(f"  {wf.phase}", style=style)
    header.append(f"  progress {view.progress()}", style="dim")
    if wf.message:
        header.append(f"  {wf.message}", style="red")
    tree = Tree(header)
    by_parent: dict[str, list[NodeRecord]] = defaultdict(list)
    for node in view.nodes.values():
        by_parent[node.parent_id].append(node)

    def add(branch: Tree, parent_id: str) -> None:
        for child in by_parent.get(parent_id, []):
            sub = branch.add(_label(child))
            add(sub, child.id)

    add(tree, "")
    return tree
