"""The main job: ``build`` a cluster from a spec, run one ``stage``, ``plan``,
``destroy``, and list the fleet with ``clusters``.

``build`` shows the live stage tree while it runs and ends with the kubeconfig
path and a one-line kubectl hint; its exit code is the build's result.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from clusterforge.cli.app import app
from clusterforge.cli.workflows import EngineOpt, KubeconfigOpt, NamespaceOpt, ServerOpt

if TYPE_CHECKING:
    from collections.abc import Callable

    from clusterforge.cli.remote import RemoteEngine
    from clusterforge.engine import Engine, PlannedNode
    from clusterforge.spec import ClusterSpec
    from clusterforge.stages import BuildRecord, Pipeline

SpecArg = Annotated[Path, typer.Argument(help="Cluster spec (YAML or JSON)", show_default=False)]


def _pipeline(kind: str | None = None) -> tuple[Engine, Pipeline]:
    from clusterforge.engine import open_engine
    from clusterforge.stages import Pipeline

    engine = open_engine(kind)
    return engine, Pipeline(engine)


def _remote_finish(server: str | None, answer: dict[str, object]) -> None:
    """Follow a build started on a server, and exit with its result."""
    from rich.console import Console

    from clusterforge.cli.remote import from_env
    from clusterforge.cli.tree import render
    from clusterforge.cli.workflows import follow_live

    remote = from_env(server)
    assert remote is not None
    build_id = str(answer["id"])
    typer.echo(
        f"build {build_id} accepted by {remote.server} for cluster {answer.get('cluster')}",
        err=True,
    )
    view = follow_live(remote, build_id)
    Console().print(render(view))
    typer.echo(
        f"build {build_id}: {view.phase}"
        + (f" — {view.record.message}" if view.record.message else "")
    )
    raise typer.Exit(0 if view.phase == "Succeeded" else 1)


def _remote(server: str | None) -> RemoteEngine | None:
    from clusterforge.cli.remote import from_env

    return from_env(server)


def _finish(engine: Engine, pipeline: Pipeline, record: BuildRecord) -> None:
    """Follow a build live, print its summary, exit with its result."""
    from rich.console import Console

    from clusterforge.cli.tree import render
    from clusterforge.cli.workflows import follow_live
    from clusterforge.stages import build_summary

    follow_live(engine, record.id)
    view = engine.wait(record.id)
    console = Console()
    console.print(render(view))
    for line in build_summary(pipeline, record.id):
        console.print(line, highlight=False)
    _publish(pipeline, record.id)
    raise typer.Exit(0 if view.phase == "Succeeded" else 1)


def _publish(pipeline: Pipeline, build_id: str) -> None:
    """Reports, logs and spec to the artifact repository; a failure warns, the build stands."""
    from clusterforge.errors import UserError
    from clusterforge.stages import BuildArtifacts

    try:
        artifacts = BuildArtifacts(pipeline)
        artifacts.publish(build_id)
    except UserError as err:
        typer.echo(f"warning: artifacts not published: {err}", err=True)
        return
    typer.echo(
        f"artifacts: {artifacts.repo.describe()} ({build_id}/); "
        f"`clusterforge artifacts ls {build_id}`",
        err=True,
    )


def _start(
    spec: Path,
    server: str | None,
    engine_kind: str | None,
    stage: str,
    on_server: Callable[[RemoteEngine, ClusterSpec], dict[str, object]],
) -> None:
    """Start ``stage`` of the spec's cluster (on a server, or on the engine named),
    follow it and exit with its result."""
    from clusterforge.spec import load_spec

    cluster = load_spec(spec)
    remote = _remote(server)
    if remote is not None:
        _remote_finish(server, on_server(remote, cluster))
    engine, pipeline = _pipeline(engine_kind)
    record = pipeline.start(cluster, stage)
    if record.stage == "build":
        typer.echo(f"build {record.id} started for cluster {record.cluster}", err=True)
    else:
        typer.echo(f"stage {record.stage} ({record.id}) started for {record.cluster}", err=True)
    _finish(engine, pipeline, record)


@app.command()
def build(
    spec: SpecArg,
    server: ServerOpt = None,
    engine_kind: EngineOpt = None,
    kubeconfig: KubeconfigOpt = None,
    namespace: NamespaceOpt = None,
) -> None:
    """Build a tested cluster: preflight → control plane → node groups → add-ons → validation."""
    _start(spec, server, engine_kind, "build", lambda remote, _cluster: remote.build(spec))


@app.command()
def stage(
    name: Annotated[str, typer.Argument(help="preflight, core, addons or validate")],
    spec: SpecArg,
    server: ServerOpt = None,
    engine_kind: EngineOpt = None,
    kubeconfig: KubeconfigOpt = None,
    namespace: NamespaceOpt = None,
) -> None:
    """Run one stage against the cluster named in the spec."""
    _start(
        spec, server, engine_kind, name, lambda remote, cluster: remote.stage(cluster.name, name)
    )


@app.command()
def destroy(
    spec: SpecArg,
    server: ServerOpt = None,
    engine_kind: EngineOpt = None,
    kubeconfig: KubeconfigOpt = None,
    namespace: NamespaceOpt = None,
) -> None:
    """Tear down the cluster named in the spec (the teardown workflow)."""
    _start(
        spec, server, engine_kind, "destroy", lambda remote, cluster: remote.destroy(cluster.name)
    )


def _plan_lines(node: PlannedNode) -> list[str]:
    marks = {"run": "▶ run ", "skip": "⏭ skip", "runtime": "? later"}
    lines = []
    for depth, item in node.walk():
        reason = f"  — {item.reason}" if item.reason else ""
        template = (
            f" [{item.template}]" if item.template and item.template != item.display_name else ""
        )
        lines.append(f"{'  ' * depth}{marks[item.decision]} {item.display_name}{template}{reason}")
    return lines


@app.command()
def plan(
    spec: SpecArg,
    stage_name: Annotated[
        str, typer.Option("--stage", help="build (default) or one stage")
    ] = "build",
    engine_kind: EngineOpt = None,
    kubeconfig: KubeconfigOpt = None,
    namespace: NamespaceOpt = None,
) -> None:
    """Show every stage, task and check a build would run or skip, and why (runs nothing)."""
    from clusterforge.spec import load_spec

    cluster = load_spec(spec)
    _engine, pipeline = _pipeline(engine_kind)
    for line in _plan_lines(pipeline.plan(cluster, stage_name)):
        typer.echo(line)
    if cluster.spec.provider.type == "aws" and stage_name in ("build", "core"):
        from clusterforge.stages.clusters import aws_plan

        for line in aws_plan(cluster):
            typer.echo(line)


@app.command()
def clusters(
    server: ServerOpt = None,
    engine_kind: EngineOpt = None,
    kubeconfig: KubeconfigOpt = None,
    namespace: NamespaceOpt = None,
) -> None:
    """The fleet: every cluster, its last build and its last validation."""
    from types import SimpleNamespace

    from rich.console import Console
    from rich.table import Table

    remote = _remote(server)
    if remote is not None:
        fleet = [SimpleNamespace(**c) for c in remote.clusters()]
    else:
        _engine, pipeline = _pipeline(engine_kind)
        fleet = pipeline.clusters()  # type: ignore[assignment]
    table = Table("NAME", "PROVIDER", "VERSION", "NODE GROUPS", "LAST BUILD", "PHASE", "VALIDATION")
    for c in fleet:
        table.add_row(
            c.name,
            c.provider,
            c.kubernetes_version,
            ", ".join(c.node_groups),
            c.last_build,
            c.last_build_phase,
            f"{c.last_validation_result} ({c.last_validation})" if c.last_validation else "-",
        )
    Console().print(table)
