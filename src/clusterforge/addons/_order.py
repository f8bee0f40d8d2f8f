"""Install order: add-ons in dependency levels, each level installable in parallel.

Only the add-ons asked for are ordered; a dependency that is not asked for
counts as satisfied (the cluster may already have it — EKS ships CoreDNS),
but the order it implies still holds: if ingress-nginx needs cert-manager
and cert-manager needs CoreDNS, ingress-nginx and CoreDNS asked for together
still install CoreDNS first. Every name and every dependency must be known,
and a dependency cycle is an error naming the cycle — found before anything
is installed, the way a workflow is validated before its first step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from graphlib import CycleError, TopologicalSorter

from clusterforge.addons._catalog import CATALOG
from clusterforge.addons._user import UserAddon
from clusterforge.errors import InvalidInput

__all__ = ["install_order"]


def install_order(
    names: Iterable[str], *, user_addons: Iterable[UserAddon] = ()
) -> list[list[str]]:
    """The add-ons ``names`` as levels: each level depends only on earlier ones.

    ``user_addons`` makes users' own add-ons (and their ``depends_on``) known
    next to the catalog. Names within a level are sorted. Unknown names,
    unknown dependencies and cycles raise InvalidInput.
    """
    graph: dict[str, tuple[str, ...]] = {name: a.depends_on for name, a in CATALOG.items()}
    for user in user_addons:
        if user.name in graph:
            where = "a catalog add-on" if user.name in CATALOG else "another user add-on"
            raise InvalidInput(f"user add-on {user.name!r} has the same name as {where}; rename it")
        graph[user.name] = user.depends_on
    wanted = list(dict.fromkeys(names))
    unknown = [name for name in wanted if name not in graph]
    if unknown:
        raise InvalidInput(
            f"unknown add-on{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
            f"known add-ons: {', '.join(sorted(graph))}"
        )
    _check_graph(graph, wanted)
    reach = _reachability(graph, wanted)
    chosen = set(wanted)
    sorter: TopologicalSorter[str] = TopologicalSorter(
        {name: sorted(reach[name] & chosen) for name in wanted}
    )
    sorter.prepare()
    levels: list[list[str]] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        levels.append(ready)
        sorter.done(*ready)
    return levels


def _check_graph(graph: Mapping[str, tuple[str, ...]], roots: list[str]) -> None:
    """Unknown dependencies and cycles among everything ``roots`` lead to."""
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        for dep in graph[name]:
            if dep not in graph:
                raise InvalidInput(
                    f"add-on {name!r} depends on {dep!r}, which is neither in the catalog nor "
                    "one of your add-ons; fix depends_on"
                )
            stack.append(dep)
    try:
        TopologicalSorter({name: graph[name] for name in seen}).prepare()
    except CycleError as err:
        cycle = list(reversed(err.args[1]))
        raise InvalidInput(
            f"add-on dependencies form a cycle: {' → '.join(cycle)}; remove one of these "
            "dependencies"
        ) from None


def _reachability(graph: Mapping[str, tuple[str, ...]], roots: list[str]) -> dict[str, set[str]]:
    """For each root, every add-on it depends on directly or through others."""
    memo: dict[str, set[str]] = {}

    def below(name: str) -> set[str]:
        if name not in memo:
            found: set[str] = set()
            for dep in graph[name]:
                found.add(dep)
                found |= below(dep)
            memo[name] = found
        return memo[name]

    return {name: below(name) for name in roots}
