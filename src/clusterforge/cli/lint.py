"""``clusterforge lint FILE|DIR...``: check workflows without running anything.

The same checks ``run`` makes before its first step, over whole directories:
every Workflow as it would run (with ``-p`` values), every WorkflowTemplate
as a library entry. Warnings (yellow) name fields the local engine cannot
honour; errors (red) name file, line, template/task and field with the fix.
Exit code 0 when there is no error (warnings allowed), 2 otherwise — and
never a traceback, not even for a YAML syntax error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from clusterforge.cli.app import app


@app.command("lint")
def lint_command(
    paths: Annotated[
        list[Path],
        typer.Argument(
            metavar="FILE|DIR",
            help="Workflow files or directories (searched for *.yaml, *.yml).",
            show_default=False,
        ),
    ],
    template_dir: Annotated[
        list[Path] | None,
        typer.Option("--template-dir", help="WorkflowTemplate library directory (repeatable)"),
    ] = None,
    parameter: Annotated[
        list[str] | None,
        typer.Option("--parameter", "-p", help="Workflow parameter NAME=VALUE (repeatable)"),
    ] = None,
) -> None:
    """Check Argo workflows and templates; print every problem (exit 2 on errors)."""
    from rich.console import Console
    from rich.markup import escape

    from clusterforge.cli.workflows import parse_params
    from clusterforge.workflow import lint

    arguments = parse_params(parameter or [])
    report = lint(paths, template_dirs=template_dir or [], arguments=arguments)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    for problem in report.problems:
        if problem.is_error:
            err.print(f"[bold red]error:[/] {escape(str(problem))}")
        else:
            err.print(f"[yellow]warning:[/] {escape(str(problem))}")
    documents = _count(len(report.documents), "document")
    noted = f", {_count(len(report.warnings), 'warning')}" if report.warnings else ""
    if report.errors:
        err.print(f"{_count(len(report.errors), 'error')}{noted}; {documents} read")
        raise typer.Exit(2)
    typer.echo(f"{documents} OK{noted}")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"
