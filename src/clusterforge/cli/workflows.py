"""Workflow commands: run, list, get, logs, retry, stop, resume, resume-node.

They mirror the ``argo`` CLI so Argo users feel at home, and go through the
:class:`~clusterforge.engine.Engine` interface only.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from clusterforge.cli.app import app
from clusterforge.errors import InvalidInput

if TYPE_CHECKING:
    from rich.console import Console

    from clusterforge.engine import Engine, WorkflowView

OutputOpt = Annotated[str | None, typer.Option("--output", "-o", help="tree, json, yaml, or name")]


ServerOpt = Annotated[
    str | None,
    typer.Option(
        "--server",
        envvar="CLUSTERFORGE_SERVER",
        help="Talk to a `clusterforge serve` at this URL (token: CLUSTERFORGE_TOKEN)",
    ),
]


EngineOpt = Annotated[
    str | None,
    typer.Option(
        "--engine",
        envvar="CLUSTERFORGE_ENGINE",
        help="Engine backend that runs the workflows (default: local)",
    ),
]


def _into_environment(variable: str) -> Callable[[str | None], str | None]:
    """An option callback that hands the value to the engine factory, which reads
    ``variable`` (the same setting then works as a flag or from the environment)."""

    def remember(value: str | None) -> str | None:
        if value:
            os.environ[variable] = value
        return value

    return remember


KubeconfigOpt = Annotated[
    str | None,
    typer.Option(
        "--kubeconfig",
        help="The cluster's kubeconfig: the one workflows run against (resource templates, "
        "ConfigMaps), or with --engine argo the management cluster (or "
        "CLUSTERFORGE_KUBECONFIG). Read by path, never stored.",
        callback=_into_environment("CLUSTERFORGE_KUBECONFIG"),
    ),
]
NamespaceOpt = Annotated[
    str | None,
    typer.Option(
        "--namespace",
        help="The namespace the workflows run in (default: the workflow's "
        "metadata.namespace, else default)",
        callback=_into_environment("CLUSTERFORGE_NAMESPACE"),
    ),
]


def open_cli_engine(server: str | None = None, kind: str | None = None) -> Engine:
    """The engine a command talks to: a server's (``--server``), else the backend named."""
    from clusterforge.cli.remote import from_env
    from clusterforge.engine import open_engine

    remote = from_env(server)
    if remote is not None:
        return remote
    return open_engine(kind)


def parse_params(values: list[str]) -> dict[str, str]:
    """``NAME=VALUE`` pairs from ``-p`` flags."""
    params: dict[str, str] = {}
    for raw in values:
        name, sep, value = raw.partition("=")
        if not sep or not name:
            raise InvalidInput(f"-p {raw!r}: expected NAME=VALUE, e.g. -p message=hello")
        params[name] = value
    return params


def _print(view: WorkflowView, output: str | None) -> None:
    from rich.console import Console

    if output in (None, "tree", "wide"):
        from clusterforge.cli.tree import render

        Console().print(render(view))
    elif output == "json":
        sys.stdout.write(json.dumps(view.to_argo(), indent=2) + "\n")
    elif output == "yaml":
        import yaml

        sys.stdout.write(yaml.safe_dump(view.to_argo(), sort_keys=False))
    elif output == "name":
        sys.stdout.write(view.id + "\n")
    else:
        raise InvalidInput(f"--output {output!r}: use tree, json, yaml or name")


def follow_live(engine: Engine, workflow_id: str) -> WorkflowView:
    """Show the live tree until the workflow ends (on a terminal); return the final view."""
    from rich.console import Console
    from rich.live import Live

    from clusterforge.cli.tree import render

    console = Console(stderr=True)
    if not console.is_terminal:
        seen: set[tuple[str, str]] = set()
        while True:
            view = engine.get(workflow_id)
            for node in view.nodes.values():
                key = (node.id, node.phase)
                if key not in seen and node.type in ("Pod", "Skipped"):
                    seen.add(key)
                    msg = f" — {node.message}" if node.message else ""
                    console.print(f"{node.phase:<9} {node.display_name}{msg}", highlight=False)
            if view.done:
                return view
            time.sleep(0.3)
    with Live(render(engine.get(workflow_id)), console=console, refresh_per_second=4) as live:
        while True:
            view = engine.get(workflow_id)
            live.update(render(view))
            if view.done:
                return view
            time.sleep(0.25)


@app.command()
def run(
    files: Annotated[
        list[Path],
        typer.Argument(help="Workflow file(s); WorkflowTemplates in them join the library."),
    ],
    param: Annotated[
        list[str], typer.Option("--parameter", "-p", help="NAME=VALUE (repeatable)")
    ] = [],  # noqa: B006
    template_dir: Annotated[
        list[Path],
        typer.Option("--template-dir", help="WorkflowTemplate library directory (repeatable)"),
    ] = [],  # noqa: B006
    wait: Annotated[
        bool, typer.Option("--wait", "-w", help="Wait for the workflow to finish")
    ] = False,
    output: OutputOpt = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Workflow name (default: generated)")
    ] = None,
    engine_kind: EngineOpt = None,
    kubeconfig: KubeconfigOpt = None,
    namespace: NamespaceOpt = None,
    objects: Annotated[
        list[str],
        typer.Option(
            "--objects",
            help="A file (or directory) of ConfigMap and Secret manifests the workflow reads "
            "(configMapKeyRef, secretKeyRef, envFrom, configMap/secret volumes, semaphores); "
            "repeatable. Default: objects.yaml in the data directory, if present. Read by "
            "path, never stored.",
        ),
    ] = [],  # noqa: B006
) -> None:
    """Run an Argo workflow on this machine."""
    from rich.console import Console

    from clusterforge.engine import Submission

    engine = open_cli_engine(kind=engine_kind)
    if objects and engine.kind != "local":
        raise InvalidInput(
            f"--objects: only the local engine reads ConfigMaps and Secrets from files; on "
            f"{engine.kind} the workflow reads them from its namespace (create them there)"
        )
    submission = Submission(
        files=tuple(files),
        template_dirs=tuple(template_dir),
        arguments=parse_params(param),
        name=name,
        # the local engine runs against this cluster; Argo's runs inside it (--engine argo)
        kubeconfig=kubeconfig if engine.kind == "local" else None,
        namespace=namespace if engine.kind == "local" else None,
        objects=tuple(objects) if engine.kind == "local" else (),
    )
    view = engine.submit(submission, detach=not wait)
    err = Console(stderr=True)
    for warning in engine.warnings:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False)
    if not wait:
        if output in (None, "name"):
            typer.echo(view.id)
        else:
            _print(view, output)
        return
    try:
        final = _wait_for(engine, view.id, output)
    except KeyboardInterrupt:
        final = _stop_after_interrupt(engine, view.id, err)
    raise typer.Exit(0 if final.phase == "Succeeded" else 1)


def _wait_for(engine: Engine, workflow_id: str, output: str | None) -> WorkflowView:
    if output in (None, "tree"):
        final = follow_live(engine, workflow_id)
        _print(final, "tree")
        return final
    final = engine.wait(workflow_id)
    _print(final, output)
    return final


def _stop_after_interrupt(engine: Engine, workflow_id: str, err: Console) -> WorkflowView:
    """Ctrl-C on ``run --wait``: this process is the workflow's engine, so the workflow
    is stopped (exit handlers run) rather than left with steps and no engine."""
    err.print(
        f"interrupted: stopping workflow {workflow_id} (running steps are stopped, exit "
        "handlers run; press Ctrl-C again to leave at once). To keep a workflow running "
        "without this terminal, start it without --wait.",
        highlight=False,
        soft_wrap=True,
    )
    try:
        engine.stop(workflow_id)
        final = engine.wait(workflow_id)
    except KeyboardInterrupt:
        err.print(
            f"left at once: workflow {workflow_id} has no engine now; "
            f"`clusterforge resume {workflow_id}` finishes stopping it",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(130) from None
    err.print(f"workflow {workflow_id} stopped: {final.phase}", highlight=False, soft_wrap=True)
    return final


@app.command("list")
def list_workflows(
    phase: Annotated[str | None, typer.Option(help="Only workflows in this phase")] = None,
    limit: Annotated[int, typer.Option(help="At most this many")] = 50,
    output: OutputOpt = None,
    server: ServerOpt = None,
    engine_kind: EngineOpt = None,
    kubeconfig: KubeconfigOpt = None,
    namespace: NamespaceOpt = None,
) -> None:
    """List workflows, newest first."""
    from rich.console import Console
    from rich.table import Table

    engine = open_cli_engine(server, engine_kind)
    views = engine.list(phase=phase, limit=limit)
    if output == "json":
        typer.echo(
            json.dumps([v.to_argo()["metadata"] | {"phase": v.phase} for v in views], indent=2)
        )
        return
    if output == "name":
        for v in views:
            typer.echo(v.id)
        return
    table = Table("NAME", "STATUS", "AGE", "DURATION", "MESSAGE")
    now = time.time()
    for v in views:
        r = v.record
        age = f"{int(now - r.created_at)}s"
        dur = f"{(r.finished_at or now) - r.started_at:.1f}s" if r.started_at else ""
        table.add_row(r.name, r.phase, age, dur, r.message)
    Console().print(table)


@app.command()
def get(
    workflow: Annotated[str, typer.Argument(help="Workflow name")],
    output: OutputOpt = None,
    watch: Annotated[bool, typer.Option("--watch", help="Keep showing it until it ends")] = False,
    server: ServerOpt = None,
    engine_kind: EngineOpt = None,
    kubeconfig: KubeconfigOpt = None,
    namespace: NamespaceOpt = None,
) -> None:
    """Show a workflow: its node tree, or the Argo object as JSON/YAML."""
    engine = open_cli_engine(server, engine_kind)
    view = engine.get(workflow)
    if watch and not view.done:
        view = follow_live(engine, workflow)
    _print(view, output)


@app.command()
def logs(
    workflow: Annotated[str, typer.Argument(help="Workflow name")],
    node: Annotated[str | None, typer.Argument(help="Node id, name or display name")] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Stream until the workflow ends")
    ] = False,
    server: ServerOpt = None,
    engine_kind: EngineOpt = None,
    kubeconfig: KubeconfigOpt = None,
    namespace: NamespaceOpt = None,
) -> None:
    """Print step logs (stdout and stderr of every attempt)."""
    engine = open_cli_engine(server, engine_kind)
    for line in engine.logs(workflow, node, follow=follow):
        typer.echo(f"{line.display_name}: {line.text}")


@app.command()
def retry(
    workflow: Annotated[str, typer.Argument(help="Workflow name")],
    wait: Annotated[bool, typer.Option("--wait", "-w")] = False,
    output: OutputOpt = None,
    server: ServerOpt = None,
    engine_kind: EngineOpt = None,
    kubeconfig: KubeconfigOpt = None,
    namespace: NamespaceOpt = None,
) -> None:
    """Re-run a workflow's failed nodes (and what they gate); keep succeeded ones."""
    engine = open_cli_engine(server, engine_kind)
    view = engine.retry(workflow, detach=not wait)
    if not wait:
        typer.echo(view.id)
        return
    final = follow_live(engine, workflow) if output in (None, "tree") else engine.wait(workflow)
    _print(final, output)
    raise typer.Exit(0 if final.phase == "Succeeded" else 1)


@app.command()
def stop(
    workflow: Annotated[str, typer.Argument(help="Workflow name")],
    server: ServerOpt = None,
    engine_kind: EngineOpt = None,
    kubeconfig: KubeconfigOpt = None,
    namespace: NamespaceOpt = None,
) -> None:
    """Stop a running workflow: running steps are terminated, exit handlers run."""
    engine = open_cli_engine(server, engine_kind)
    engine.stop(workflow)
    typer.echo(f"{workflow} stopping")


@app.command("resume-node")
def resume_node_command(
    workflow: Annotated[str, typer.Argument(help="Workflow name")],
    node: Annotated[str, typer.Argument(help="The suspended node: id, name or display name")],
    param: Annotated[
        list[str],
        typer.Option(
            "--parameter", "-p", help="NAME=VALUE for an output parameter with valueFrom.supplied"
        ),
    ] = [],  # noqa: B006
    server: ServerOpt = None,
    engine_kind: EngineOpt = None,
    kubeconfig: KubeconfigOpt = None,
    namespace: NamespaceOpt = None,
) -> None:
    """Resume a suspended node (a `suspend` template), as `argo resume` does."""
    from clusterforge.engine.suspension import resume_node

    engine = open_cli_engine(server, engine_kind)
    node_id = resume_node(engine, workflow, node, parse_params(param))
    typer.echo(f"{workflow}: {node_id} resumed")


@app.command()
def resume(
    workflows: Annotated[
        list[str], typer.Argument(help="Workflow names (default: all interrupted)")
    ] = [],  # noqa: B006
    wait: Annotated[bool, typer.Option("--wait", "-w")] = True,
    engine_kind: EngineOpt = None,
    kubeconfig: KubeconfigOpt = None,
    namespace: NamespaceOpt = None,
) -> None:
    """Continue workflows whose engine died (after a crash or reboot)."""
    engine = open_cli_engine(kind=engine_kind)
    started = engine.resume(list(workflows) or None)
    if not started:
        typer.echo("nothing to resume")
        return
    failed = False
    for wid in started:
        typer.echo(f"resuming {wid}", err=True)
        if wait:
            failed |= engine.wait(wid).phase != "Succeeded"
    raise typer.Exit(1 if failed else 0)
