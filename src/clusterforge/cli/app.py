"""The one Typer application every command module registers on.

Command modules import only what they need inside their functions, so that
``clusterforge step …`` (run once per workflow step) starts fast.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="clusterforge",
    help="Build tested Kubernetes clusters with Argo-dialect workflows.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """Build tested Kubernetes clusters with Argo-dialect workflows."""


@app.command()
def version() -> None:
    """Print clusterforge's version."""
    from clusterforge import __version__

    typer.echo(__version__)
