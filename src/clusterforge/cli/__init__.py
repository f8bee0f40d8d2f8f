"""Command-line front end: one Typer app over every package.

Each command group lives in its own module and registers itself on
:data:`clusterforge.cli.app.app` when imported. :func:`main` turns a
:class:`~clusterforge.errors.UserError` into one message on stderr and its exit
code, so a user never sees a traceback for a mistake they can fix.
"""

from __future__ import annotations

import importlib
import sys

from clusterforge.cli.app import app
from clusterforge.errors import UserError

# Command modules, imported for their registrations (order = help order).
_COMMAND_MODULES: tuple[str, ...] = (
    "clusterforge.cli.build",
    "clusterforge.cli.workflows",
    "clusterforge.cli.lint",
    "clusterforge.cli.spec",
    "clusterforge.cli.detik",
    "clusterforge.cli.tools",
    "clusterforge.cli.artifacts",
    "clusterforge.cli.cluster",
    "clusterforge.cli.aws",
    "clusterforge.cli.step",
    "clusterforge.cli.serve",
    "clusterforge.cli.argo",
)

for _name in _COMMAND_MODULES:
    importlib.import_module(_name)


def main() -> None:
    """Entry point of the ``clusterforge`` console script."""
    try:
        app()
    except UserError as err:
        from rich.console import Console
        from rich.markup import escape

        Console(stderr=True).print(
            f"[bold red]error:[/] {escape(str(err))}", highlight=False, soft_wrap=True
        )
        sys.exit(err.exit_code)


__all__ = ["app", "main"]
