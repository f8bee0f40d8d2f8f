"""The dependency graph of a DAG template: cycles and ancestry.

A DAG whose tasks wait on each other in a circle never starts; Argo refuses it
at validation and so do we, naming the circle. Each strongly connected
component of the "depends on" graph (Tarjan's algorithm, iterative so a long
chain cannot exhaust Python's stack) is reported once, as the shortest cycle
through its first task — ``a → b → c → a`` reads "a depends on b, which
depends on c, which depends on a". A task that depends on itself is a cycle
of one.

:func:`ancestors` gives every task a task transitively depends on: the tasks
whose outputs are certain to exist when it runs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence

__all__ = ["ancestors", "find_cycles"]

Graph = Mapping[str, Iterable[str]]


def find_cycles(graph: Graph) -> list[list[str]]:
    """One cycle per circular group of tasks, each closed (``[a, b, a]``); [] if acyclic.

    ``graph`` maps a task to the tasks it depends on; names it mentions that
    are not keys are leaves.
    """
    adjacency = {node: sorted(set(deps)) for node, deps in graph.items()}
    cycles: list[list[str]] = []
    for component in _components(adjacency):
        members = set(component)
        start = min(component)
        if len(component) == 1 and start not in adjacency.get(start, ()):
            continue
        cycles.append(_cycle_through(adjacency, start, members))
    return sorted(cycles)


def _components(graph: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan), iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    nodes = sorted(set(graph) | {d for deps in graph.values() for d in deps})
    for root in nodes:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, position = work.pop()
            if position == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            successors = graph.get(node, ())
            recurse = False
            for i in range(position, len(successors)):
                nxt = successors[i]
                if nxt not in index:
                    work.append((node, i + 1))
                    work.append((nxt, 0))
                    recurse = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if recurse:
                continue
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return components


def _cycle_through(graph: Mapping[str, Sequence[str]], start: str, members: set[str]) -> list[str]:
    """The shortest path ``start → … → start`` inside one component (breadth first)."""
    parent: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in graph.get(node, ()):
            if nxt not in members:
                continue
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return [start, *reversed(path[:-1]), start]
            if nxt not in parent:
                parent[nxt] = node
                queue.append(nxt)
    raise AssertionError(f"no cycle through {start!r} in its own component")  # pragma: no cover


def ancestors(graph: Graph, task: str) -> set[str]:
    """Every task ``task`` depends on, directly or through others (itself only via a cycle)."""
    seen: set[str] = set()
    queue = deque(graph.get(task, ()))
    while queue:
        node = queue.popleft()
        if node in seen:
            continue
        seen.add(node)
        queue.extend(graph.get(node, ()))
    return seen
