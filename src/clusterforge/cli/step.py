"""``clusterforge step …``: the commands the stage templates run.

Not meant for people (though they work by hand with CLUSTERFORGE_SPEC set):
each reads the spec from its environment, does one idempotent thing, prints
what it did, and exits 0 on success.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from clusterforge.cli.app import app

if TYPE_CHECKING:
    from clusterforge.stages.steps import StepContext

step_app = typer.Typer(
    help="Steps of the stage templates (run by workflows).", no_args_is_help=True
)
app.add_typer(step_app, name="step")


def _ctx() -> StepContext:
    from clusterforge.stages.steps import context_from_env

    return context_from_env()


@step_app.command("preflight")
def preflight(
    check: Annotated[str, typer.Argument(help="tools, ports, memory, disk, cluster-name, …")],
) -> None:
    """A built-in preflight check."""
    from clusterforge.stages.steps import run_check

    typer.echo(run_check(_ctx(), check))


@step_app.command("preflight-extra")
def preflight_extra(
    name: Annotated[str, typer.Argument(help="A check of spec.preflight.checks")],
) -> None:
    """One of the spec's own preflight checks."""
    from clusterforge.stages.steps import run_extra

    raise typer.Exit(run_extra(_ctx(), name))


@step_app.command("control-plane")
def control_plane() -> None:
    """Start (or find running) the control plane."""
    from clusterforge.stages.steps import control_plane as run

    typer.echo(run(_ctx()))


@step_app.command("node-group")
def node_group(name: Annotated[str, typer.Argument(help="Node group name")]) -> None:
    """Converge one node group."""
    from clusterforge.stages.steps import node_group_step

    typer.echo(node_group_step(_ctx(), name))


@step_app.command("addon")
def addon(name: Annotated[str, typer.Argument(help="Catalog add-on name")]) -> None:
    """Install (or converge) one catalog add-on."""
    from clusterforge.stages.steps import install_catalog

    typer.echo(install_catalog(_ctx(), name))


@step_app.command("user-addon")
def user_addon(name: Annotated[str, typer.Argument(help="The spec's own add-on")]) -> None:
    """Install (or converge) one of the spec's own add-ons."""
    from clusterforge.stages.steps import install_user

    typer.echo(install_user(_ctx(), name))


@step_app.command("validate")
def validate(
    kind: Annotated[str, typer.Argument(help="core, addon, user-addons, sentence or bats")],
    target: Annotated[str, typer.Argument(help="What to check")],
) -> None:
    """Run one validation check and record its result."""
    from clusterforge.stages.steps import run_validation

    result = run_validation(_ctx(), kind, target)
    typer.echo(f"{'ok' if result.ok else 'FAILED'}: {result.name}: {result.message}")
    raise typer.Exit(0 if result.ok else 1)


@step_app.command("report")
def report() -> None:
    """Summarise the validation checks (JUnit XML, TAP); fail if any failed."""
    from clusterforge.stages.steps import report as run

    raise typer.Exit(0 if run(_ctx()) else 1)


@step_app.command("destroy")
def destroy() -> None:
    """Delete the cluster and everything it runs."""
    from clusterforge.stages.steps import destroy as run

    typer.echo(run(_ctx()))
