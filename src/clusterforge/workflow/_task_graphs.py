"""The inside of dag and steps templates: tasks, steps, their graph and what they call.

A DAG is checked like Argo compiles it: unique, valid task names; ``depends``
or ``dependencies`` (never both in one DAG, and no ``continueOn`` with
``depends``) naming tasks that exist and parse; no dependency cycle; targets
that exist. Every task and step is then checked as a call — the template it
names, its arguments against that template's inputs, its loop and ``when`` —
and its ``{{…}}`` references are judged with what is upstream of it: the
tasks it transitively depends on, or the steps of earlier groups.
"""

from __future__ import annotations

from dataclasses import replace

from hera.workflows import models as m

from clusterforge.workflow.expressions import (
    ExpressionError,
    depends_from_dependencies,
    parse_depends,
)

from ._checker import Checker
from ._graph import ancestors, find_cycles
from ._sites import FIELD_NAME, Holder, Site, closest, dump, is_tagged, join, listing, unwrapped
from ._variables import ItemScope, NodeInfo, Scope

__all__ = ["check_dag", "check_steps", "dag_graph", "items_of", "node_info", "nodes_of_dag"]


def dag_graph(dag: m.DAGTemplate) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for task in dag.tasks:
        deps: set[str] = set()
        try:
            if task.depends:
                deps = set(parse_depends(task.depends).tasks())
            elif task.dependencies:
                deps = set(depends_from_dependencies(task.dependencies).tasks())
        except ExpressionError:
            deps = set()
        graph.setdefault(task.name, set()).update(deps)
    return graph


def nodes_of_dag(checker: Checker, site: Site) -> dict[str, NodeInfo]:
    dag = site.template.dag
    assert dag is not None
    nodes: dict[str, NodeInfo] = {}
    for task in dag.tasks:
        if task.name in nodes:
            continue
        called = checker.quiet_resolve(site, task)
        nodes[task.name] = node_info(task, called)
    return nodes


def check_dag(checker: Checker, site: Site, dag: m.DAGTemplate, scope: Scope) -> None:
    loc, base = site.location, join(site.path, "dag")
    tasks = dag.tasks
    if not tasks:
        checker.add(site, loc, "dag.tasks", "a DAG needs at least one task", "add tasks", path=base)
        return
    names = [t.name for t in tasks]
    known = set(names)
    uses_depends = [t.name for t in tasks if t.depends]
    uses_dependencies = any(t.dependencies for t in tasks)
    seen: set[str] = set()
    for i, task in enumerate(tasks):
        path = f"{base}.tasks[{i}]"
        tloc = f"{loc} › task '{task.name}'"
        if not FIELD_NAME.fullmatch(task.name):
            checker.add(
                site,
                tloc,
                "name",
                f"invalid task name {task.name!r}",
                "use letters, digits and '-', starting with a letter or digit",
                path=f"{path}.name",
            )
        elif (uses_depends or uses_dependencies) and task.name[0].isdigit():
            checker.add(
                site,
                tloc,
                "name",
                "a task name cannot start with a digit when the DAG uses depends or dependencies",
                "rename the task",
                path=f"{path}.name",
            )
        if task.name in seen:
            checker.add(
                site,
                tloc,
                "name",
                f"task name {task.name!r} is used twice in this DAG",
                "rename one of them",
                path=f"{path}.name",
            )
        seen.add(task.name)
        if uses_depends and task.dependencies:
            checker.add(
                site,
                tloc,
                "dependencies",
                "this DAG mixes dependencies with depends "
                f"(used by {', '.join(repr(n) for n in uses_depends[:3])})",
                f"write it as depends: {' && '.join(task.dependencies)!r}",
                path=f"{path}.dependencies",
            )
        if uses_depends and task.continue_on is not None:
            checker.add(
                site,
                tloc,
                "continueOn",
                "continueOn cannot be used in a DAG that uses depends",
                "say it in depends instead, e.g. depends: 'a.Succeeded || a.Failed'",
                path=f"{path}.continueOn",
            )
        task_dependencies(checker, site, task, tloc, path, names, known)
    graph = dag_graph(dag)
    for cycle in find_cycles({k: {d for d in v if d in graph} for k, v in graph.items()}):
        first = cycle[0]
        index = names.index(first)
        checker.add(
            site,
            f"{loc} › task '{first}'",
            "depends" if tasks[index].depends else "dependencies",
            f"dependency cycle: {' → '.join(cycle)} (each waits for the next)",
            "remove one of these dependencies",
            path=f"{base}.tasks[{index}]",
        )
    if dag.target and not is_tagged(dag.target):
        for target in dag.target.split():
            if target not in graph:
                checker.add(
                    site,
                    loc,
                    "dag.target",
                    f"unknown target task {target!r} (tasks: {listing(set(names))})",
                    closest(target, names) or "fix the name",
                    path=f"{base}.target",
                )
    nodes = nodes_of_dag(checker, site)
    for i, task in enumerate(tasks):
        path = f"{base}.tasks[{i}]"
        tloc = f"{loc} › task '{task.name}'"
        called = checker.resolve(site, task, tloc, path)
        checker.check_holder(site, task, tloc, path)
        task_scope = replace(
            scope,
            node_kind="tasks",
            nodes=nodes,
            upstream=frozenset(ancestors(graph, task.name)),
            current=task.name,
            items=items_of(task),
        )
        checker.check_references(
            site,
            tloc,
            task_scope,
            dump(task),
            path,
            skip=frozenset({"inline", "name", "depends", "dependencies", "hooks"}),
            arguments=True,
        )
        check_hooks(checker, site, tloc, task_scope, task, path)
        checker.check_call(site, task, called, tloc, path)


def check_hooks(
    checker: Checker,
    site: Site,
    loc: str,
    scope: Scope,
    holder: m.DAGTask | m.WorkflowStep,
    path: str,
) -> None:
    """A task's/step's ``hooks``: they run once it completed, so besides what it
    sees they may read its own ``tasks.X.*``/``steps.X.*`` (Argo's exit hook
    arguments are resolved with the node's outputs)."""
    if not holder.hooks:
        return
    upstream = (scope.upstream or frozenset()) | {holder.name or ""}
    hook_scope = replace(scope, upstream=upstream if scope.upstream is not None else None)
    hooks = {"hooks": dump(holder)["hooks"]}
    checker.check_references(site, loc, hook_scope, hooks, path, skip=frozenset(), arguments=True)
    for name, hook in sorted(holder.hooks.items()):
        called = m.WorkflowStep(template=hook.template, template_ref=hook.template_ref)
        checker.resolve(site, called, f"{loc} › hooks.{name}", f"{path}.hooks.{name}")
    for name in sorted(set(hooks["hooks"]) - {"exit"}):
        if not (hooks["hooks"][name] or {}).get("expression"):
            checker.add(
                site,
                loc,
                f"hooks.{name}.expression",
                f"hook {name!r} has no expression: a hook other than exit runs when its "
                "expression is true",
                f'add one, e.g. expression: {scope.node_kind or "steps"}["{holder.name}"].status '
                '== "Running"; or name the hook exit to run it once the step ended',
                path=f"{path}.hooks.{name}.expression",
            )


def task_dependencies(
    checker: Checker,
    site: Site,
    task: m.DAGTask,
    tloc: str,
    path: str,
    names: list[str],
    known: set[str],
) -> None:
    def others() -> str:
        return listing(known - {task.name})

    if task.depends:
        try:
            expression = parse_depends(task.depends)
        except ExpressionError as err:
            checker.add(
                site,
                tloc,
                "depends",
                unwrapped(str(err)),
                "fix the depends expression",
                path=f"{path}.depends",
            )
        else:
            for dep in sorted(expression.tasks()):
                if dep not in known:
                    checker.add(
                        site,
                        tloc,
                        "depends",
                        f"unknown task {dep!r} (tasks in this DAG: {others()})",
                        closest(dep, names) or "fix the name or add the task",
                        path=f"{path}.depends",
                    )
    for dep in task.dependencies or []:
        if dep not in known:
            checker.add(
                site,
                tloc,
                "dependencies",
                f"unknown task {dep!r} (tasks in this DAG: {others()})",
                closest(dep, names) or "fix the name or add the task",
                path=f"{path}.dependencies",
            )


def check_steps(
    checker: Checker, site: Site, groups: list[m.ParallelSteps], scope: Scope
) -> dict[str, NodeInfo]:
    loc, base = site.location, join(site.path, "steps")
    nodes: dict[str, NodeInfo] = {}
    for g, group in enumerate(groups):
        for k, step in enumerate(group.root):
            path = f"{base}[{g}][{k}]"
            sloc = f"{loc} › step '{step.name}'"
            if not step.name:
                checker.add(
                    site,
                    loc,
                    f"steps[{g}][{k}].name",
                    "a step needs a name",
                    "add name: …",
                    path=path,
                )
                continue
            if not FIELD_NAME.fullmatch(step.name):
                checker.add(
                    site,
                    sloc,
                    "name",
                    f"invalid step name {step.name!r}",
                    "use letters, digits and '-', starting with a letter or digit",
                    path=f"{path}.name",
                )
            if step.name in nodes:
                checker.add(
                    site,
                    sloc,
                    "name",
                    f"step name {step.name!r} is used twice in this template",
                    "rename one of them",
                    path=f"{path}.name",
                )
                continue
            nodes[step.name] = replace(node_info(step, checker.quiet_resolve(site, step)), group=g)
    for g, group in enumerate(groups):
        for k, step in enumerate(group.root):
            if not step.name:
                continue
            path = f"{base}[{g}][{k}]"
            sloc = f"{loc} › step '{step.name}'"
            called = checker.resolve(site, step, sloc, path)
            checker.check_holder(site, step, sloc, path)
            step_scope = replace(
                scope,
                node_kind="steps",
                nodes=nodes,
                upstream=frozenset(n for n, info in nodes.items() if info.group < g),
                current=step.name,
                current_group=g,
                items=items_of(step),
            )
            checker.check_references(
                site,
                sloc,
                step_scope,
                dump(step),
                path,
                skip=frozenset({"inline", "name", "hooks"}),
                arguments=True,
            )
            check_hooks(checker, site, sloc, step_scope, step, path)
            checker.check_call(site, step, called, sloc, path)
    return nodes


def items_of(holder: Holder) -> ItemScope | None:
    if holder.with_param is not None:
        return ItemScope("param")
    if holder.with_sequence is not None:
        return ItemScope("sequence")
    if holder.with_items is None:
        return None
    scalar = False
    keys: set[str] = set()
    length = 0
    for item in holder.with_items:
        value = item.root
        if isinstance(value, dict):
            keys.update(str(k) for k in value)
        elif isinstance(value, list):
            length = max(length, len(value))
        else:
            scalar = True
    return ItemScope("items", scalar=scalar, keys=frozenset(keys), list_length=length)


def node_info(holder: Holder, called: Site | None) -> NodeInfo:
    looped = (
        holder.with_items is not None
        or holder.with_param is not None
        or holder.with_sequence is not None
    )
    if called is None:
        return NodeInfo(template=holder.template or "?", aggregate=looped)
    tmpl = called.template
    outputs = tmpl.outputs
    return NodeInfo(
        template=called.name,
        outputs=frozenset(p.name for p in (outputs.parameters if outputs else None) or []),
        artifacts=frozenset(a.name for a in (outputs.artifacts if outputs else None) or []),
        has_result=tmpl.container is not None
        or tmpl.script is not None
        or tmpl.container_set is not None
        or tmpl.http is not None
        or tmpl.data is not None,
        aggregate=looped,
        daemon=bool(tmpl.daemon),
    )
