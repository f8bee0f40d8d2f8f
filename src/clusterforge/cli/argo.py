"""``clusterforge argo render|lint``: the stage library for a real Argo.

``render`` writes what a management cluster runs — every WorkflowTemplate,
the built-in Sensors (with ``k8s`` triggers) and their webhook EventSource,
plus a Helm chart of the same — and, given a cluster spec, the Workflow a
build submits. ``lint`` checks manifests offline with Argo's JSON schema and
Argo's own Go validator; each problem names file and line, and the exit code
is 2 when there is one.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from clusterforge.cli.app import app

argo_app = typer.Typer(
    name="argo",
    help="Argo Workflows / Argo Events: render and lint manifests; a local management cluster.",
    no_args_is_help=True,
)
app.add_typer(argo_app)


@argo_app.command("render")
def render_command(
    spec: Annotated[
        Path | None,
        typer.Argument(
            help="A cluster spec: also write the Workflow that builds it.", show_default=False
        ),
    ] = None,
    templates: Annotated[
        bool, typer.Option("--templates", help="Only the templates, sensors and chart (no spec).")
    ] = False,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Directory to write into (created).")
    ] = Path("argo-manifests"),
    worker_image: Annotated[
        str | None, typer.Option("--worker-image", help="Image the steps run in.")
    ] = None,
) -> None:
    """Write plain manifests under OUTPUT/manifests and a Helm chart under OUTPUT/chart."""
    from clusterforge.api.app import BUILTIN_SENSOR_DIR
    from clusterforge.errors import InvalidInput
    from clusterforge.spec.loading import load_spec
    from clusterforge.stages.argo import render, write_chart
    from clusterforge.stages.parameters import WORKER_IMAGE

    if (spec is not None) == templates:
        raise InvalidInput("name a cluster SPEC or pass --templates (one of the two)")
    image = worker_image or WORKER_IMAGE
    if not _IMAGE.match(image):
        raise InvalidInput(f"--worker-image {image!r} is not an image reference (repo/name:tag)")
    cluster = load_spec(spec) if spec is not None else None
    rendered = render(sorted(BUILTIN_SENSOR_DIR.glob("*.yaml")), cluster, worker_image=image)
    written = rendered.write(output / "manifests")
    chart = write_chart(rendered, output / "chart")
    for path in written:
        typer.echo(f"wrote {path}")
    typer.echo(f"wrote the Helm chart {chart} (helm install clusterforge {chart} -n NAMESPACE)")


@argo_app.command("lint")
def lint_command(
    paths: Annotated[
        list[Path],
        typer.Argument(
            metavar="FILE|DIR", help="Manifests or directories (*.yaml, *.yml).", show_default=False
        ),
    ],
    output: Annotated[str, typer.Option("--output", "-o", help="text or json")] = "text",
) -> None:
    """Check manifests with Argo's JSON schema and Argo's Go validator (exit 2 on problems)."""
    import json

    from rich.console import Console
    from rich.markup import escape

    from clusterforge.errors import InvalidInput
    from clusterforge.stages.argo import lint_manifests

    if output not in ("text", "json"):
        raise InvalidInput(f"--output {output!r}: use text or json")
    report = lint_manifests(paths)
    if output == "json":
        typer.echo(
            json.dumps(
                {
                    "argo_workflows": report.workflows_version,
                    "argo_events": report.events_version,
                    "files": [str(path) for path in report.files],
                    "checked": report.checked,
                    "problems": [
                        {
                            "file": p.source,
                            "line": p.line,
                            "object": p.location,
                            "field": p.field,
                            "message": p.message,
                        }
                        for p in report.problems
                    ],
                },
                indent=2,
            )
        )
    else:
        err = Console(stderr=True, highlight=False, soft_wrap=True)
        for problem in report.problems:
            err.print(f"[bold red]error:[/] {escape(str(problem))}")
        typer.echo(
            f"{report.checked} Argo documents in {len(report.files)} files checked against "
            f"argo-workflows {report.workflows_version} and argo-events {report.events_version}: "
            f"{len(report.problems)} problems"
        )
    if report.problems:
        raise typer.Exit(2)


_IMAGE = re.compile(r"^[a-z0-9][a-z0-9._\-/]*(:[A-Za-z0-9._\-]+)?(@sha256:[a-f0-9]{64})?$")


_NAME_OPTION = typer.Option("--name", help="The management cluster's name.")


@argo_app.command("up")
def up_command(name: Annotated[str, _NAME_OPTION] = "local") -> None:
    """Start a local management cluster: kwok, Argo's CRDs and the real workflow-controller."""
    from clusterforge.stages.argo import up

    state = up(name, report=lambda message: typer.echo(f"argo up: {message}", err=True))
    typer.echo(f"management cluster {state.name} is up; controller pid {state.pid}")
    typer.echo(state.kubeconfig)


@argo_app.command("down")
def down_command(name: Annotated[str, _NAME_OPTION] = "local") -> None:
    """Stop the controller and delete the management cluster's kwok cluster."""
    from clusterforge.stages.argo import down

    down(name, report=lambda message: typer.echo(f"argo down: {message}", err=True))
    typer.echo(f"management cluster {name} removed")


@argo_app.command("status")
def status_command() -> None:
    """The local management clusters, their kubeconfig and whether the controller runs."""
    from clusterforge.stages.argo import status

    found = status()
    if not found:
        typer.echo("no management cluster; start one with `clusterforge argo up`")
    for state in found:
        running = "running" if state.controller_running else "NOT running"
        typer.echo(
            f"{state.name}: controller pid {state.pid} {running}, metrics "
            f"127.0.0.1:{state.metrics_port}, kubeconfig {state.kubeconfig}, log {state.log}"
        )
        executor = "running" if state.executor_running else "NOT running"
        typer.echo(
            f"{state.name}: host executor pid {state.executor_pid} {executor}, "
            f"steps {state.steps_dir}, log {state.executor_log}"
        )


@argo_app.command("install")
def install_command(
    kubeconfig: Annotated[
        Path, typer.Option("--kubeconfig", help="The cluster to install into.", show_default=False)
    ],
    namespace: Annotated[
        str, typer.Option("--namespace", help="Where the templates and workflows live.")
    ] = "default",
    worker_image: Annotated[
        str | None, typer.Option("--worker-image", help="Image the steps run in.")
    ] = None,
    events: Annotated[
        bool | None,
        typer.Option(
            "--events/--no-events",
            help="Argo Events' sensors and EventSource (default: when the cluster has its CRDs).",
        ),
    ] = None,
) -> None:
    """Apply Argo's CRDs (server-side), the controller ConfigMap and our chart to a cluster."""
    from clusterforge.api.app import BUILTIN_SENSOR_DIR
    from clusterforge.errors import InvalidInput
    from clusterforge.stages.argo import install
    from clusterforge.stages.parameters import WORKER_IMAGE

    image = worker_image or WORKER_IMAGE
    if not _IMAGE.match(image):
        raise InvalidInput(f"--worker-image {image!r} is not an image reference (repo/name:tag)")
    done = install(
        kubeconfig,
        namespace,
        sensor_files=sorted(BUILTIN_SENSOR_DIR.glob("*.yaml")),
        worker_image=image,
        events=events,
        report=lambda message: typer.echo(f"argo install: {message}", err=True),
    )
    extra = "with" if done.events else "without"
    typer.echo(
        f"installed {done.crds} Argo CRDs and release {done.release} in namespace "
        f"{done.namespace} ({extra} Argo Events objects)"
    )
