"""``clusterforge cluster …``: local kwok clusters by hand.

The pipeline creates clusters through its workflows; these commands are for
direct use — a scratch cluster to try an add-on on, a look at what is running,
cleaning up. They go through :mod:`clusterforge.stages.clusters`, never the
provider itself.
"""

from __future__ import annotations

import time
from typing import Annotated

import typer

from clusterforge.cli.app import app

cluster_app = typer.Typer(
    name="cluster",
    help="Local clusters: a real control plane with simulated (kwok) nodes.",
    no_args_is_help=True,
)
app.add_typer(cluster_app)


@cluster_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Cluster name (a DNS-1123 label, e.g. dev-1).")],
    nodes: Annotated[int, typer.Option("--nodes", "-n", min=0, help="Number of nodes.")] = 3,
    instance_type: Annotated[
        str, typer.Option("--instance-type", "-t", help="Instance type the nodes imitate.")
    ] = "m5.large",
    api_port: Annotated[
        int | None,
        typer.Option("--api-port", help="Loopback port for the API server (default: a free one)."),
    ] = None,
) -> None:
    """Create a local cluster and wait until its nodes are Ready."""
    from rich.console import Console

    from clusterforge.stages import clusters

    console = Console(stderr=True)
    started = time.monotonic()
    with console.status(f"creating cluster {name} ({nodes} × {instance_type})…"):
        info = clusters.create(name, nodes=nodes, instance_type=instance_type, api_port=api_port)
    console.print(
        f"cluster {info.name} ready in {time.monotonic() - started:.1f}s: "
        f"{info.nodes} nodes, API {info.endpoint}",
        highlight=False,
    )
    console.print(f"kubectl --kubeconfig {info.kubeconfig} get nodes", highlight=False)


@cluster_app.command("delete")
def delete(name: Annotated[str, typer.Argument(help="Cluster to delete.")]) -> None:
    """Stop every process of the cluster and remove its directory."""
    from clusterforge.stages import clusters

    clusters.delete(name)
    typer.echo(f"cluster {name} deleted", err=True)


@cluster_app.command("list")
def list_() -> None:
    """Every local cluster: provider, API endpoint, node count and status."""
    from rich.console import Console
    from rich.table import Table

    from clusterforge.stages import clusters

    table = Table(title="local clusters")
    for column in ("name", "provider", "API endpoint", "nodes", "status"):
        table.add_column(column)
    for info in clusters.list_all():
        color = {"running": "green", "degraded": "yellow"}.get(info.state, "red")
        table.add_row(
            info.name,
            info.provider,
            info.endpoint or "-",
            "-" if info.nodes is None else str(info.nodes),
            f"[{color}]{info.state}[/]",
        )
    Console().print(table)


@cluster_app.command("kubeconfig")
def kubeconfig(
    name: Annotated[str, typer.Argument(help="Cluster name.")],
    raw: Annotated[bool, typer.Option("--raw", help="Print the file's content, not its path.")] = (
        False
    ),
) -> None:
    """Print the path of the cluster's admin kubeconfig (or its content with --raw)."""
    from clusterforge.stages import clusters

    info = clusters.get(name)
    if raw:
        typer.echo(info.kubeconfig.read_text(encoding="utf-8"), nl=False)
    else:
        typer.echo(str(info.kubeconfig))
