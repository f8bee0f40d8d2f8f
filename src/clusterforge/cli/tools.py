"""``clusterforge tools …``: install, inspect and expose the pinned toolchain.

``install`` is what ``make setup`` runs: with a full cache it only reads the
records and returns in well under a second; cold, it downloads or builds each
tool (``--jobs`` at a time) and shows what each one is doing. ``status`` is
the table to look at when something is off, and ``path`` prints the directory
of symlinks that steps and tests put first on PATH.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer

from clusterforge.cli.app import app

if TYPE_CHECKING:
    from rich.console import Console

    from clusterforge.tools import Outcome, Reporter, Toolchain, ToolStatus

tools_app = typer.Typer(
    name="tools",
    help="The pinned Kubernetes toolchain (kubectl, control plane, etcd, kwok, helm, argo).",
    no_args_is_help=True,
)
app.add_typer(tools_app)


@tools_app.command("install")
def install(
    names: Annotated[
        list[str] | None,
        typer.Argument(help="Tools to install (default: all).", show_default=False),
    ] = None,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs", "-j", min=1, help="Builds in parallel (tools of one Go source build in turn)."
        ),
    ] = 2,
) -> None:
    """Find, download or build the pinned tools, and record how each was obtained."""
    from rich.console import Console

    from clusterforge.tools import Toolchain

    # Long paths and go's error lines stay whole in logs (soft_wrap).
    console = Console(stderr=True, soft_wrap=True)
    toolchain = Toolchain()
    wanted = names or []
    for name in wanted:
        toolchain.manifest.tool(name)  # an unknown name fails before any work
    started = time.monotonic()
    if console.is_terminal:
        outcomes = _install_live(toolchain, wanted, jobs, console)
    else:
        outcomes = toolchain.install(wanted, jobs=jobs, report=_log_reporter(console, started))
    _print_outcomes(outcomes, console)
    missing = [o for o in outcomes if not o.ok and (o.required or o.name in wanted)]
    console.print(
        f"{sum(o.ok for o in outcomes)}/{len(outcomes)} tools ready in "
        f"{time.monotonic() - started:.1f}s; bin directory: {toolchain.cache.bin_dir}",
        highlight=False,
    )
    if missing:
        raise typer.Exit(1)


def _log_reporter(console: Console, started: float) -> Reporter:
    """One line per event for logs; a lane's compile count at most every 15 s."""
    last_count: dict[str, float] = {}

    def report(name: str, message: str) -> None:
        now = time.monotonic()
        if message.startswith("compiling "):
            if now - last_count.get(name, float("-inf")) < 15.0:
                return
            last_count[name] = now
        console.print(f"[{now - started:6.1f}s] {name}: {message}", highlight=False, markup=False)

    return report


def _install_live(
    toolchain: Toolchain, wanted: list[str], jobs: int, console: Console
) -> list[Outcome]:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    names = wanted or list(toolchain.manifest.tools)
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.fields[tool]:<24}"),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        tasks = {name: progress.add_task("waiting", tool=name, total=1) for name in names}

        def report(name: str, message: str) -> None:
            done = message.startswith(("ready", "found", "failed", "unavailable"))
            progress.update(tasks[name], description=message, completed=1 if done else 0)

        return toolchain.install(wanted, jobs=jobs, report=report)


def _print_outcomes(outcomes: list[Outcome], console: Console) -> None:
    from rich.markup import escape

    for outcome in outcomes:
        if outcome.ok:
            how = "already there" if outcome.reused else f"in {outcome.duration:.0f}s"
            console.print(
                f"[green]✓[/] {outcome.name} {outcome.version} ({outcome.source}, {how})",
                highlight=False,
            )
            continue
        label = "[red]✗[/]" if outcome.required else "[yellow]–[/] (optional)"
        console.print(f"{label} {outcome.name} {outcome.version}", highlight=False)
        if outcome.refused is not None:
            refused = outcome.refused
            console.print(
                f"    refused module: {escape(refused.module)} {escape(refused.version)}\n"
                f"    error: {escape(refused.error)}",
                highlight=False,
            )
        elif outcome.error:
            console.print(f"    error: {escape(outcome.error)}", highlight=False)
        for note in outcome.notes:
            console.print(f"    {escape(note)}", highlight=False)


@tools_app.command("status")
def status() -> None:
    """Show each tool's pinned version, the version found, its path and source."""
    from rich.console import Console
    from rich.table import Table

    from clusterforge.tools import Toolchain

    rows = Toolchain().status()
    table = Table(title="clusterforge toolchain")
    for column in ("tool", "pinned", "found", "path", "source"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            row.name + ("" if row.required else " (optional)"),
            row.pinned,
            _found_cell(row),
            str(row.path) if row.path else "-",
            row.source or "-",
        )
    console = Console()
    console.print(table)
    for row in rows:
        if row.problem and not row.ok:
            console.print(f"{row.name}: {row.problem}", highlight=False, markup=False)
    if any(not row.ok and row.required for row in rows):
        console.print("Run `clusterforge tools install` to obtain the missing tools.")
        raise typer.Exit(1)


def _found_cell(row: ToolStatus) -> str:
    if row.ok:
        return f"[green]{row.found}[/]"
    if row.found:
        return f"[red]{row.found}[/]"
    return "[red]missing[/]" if row.required else "[yellow]unavailable[/]"


@tools_app.command("path")
def path() -> None:
    """Print a directory of symlinks to every resolved tool (for PATH)."""
    from clusterforge.tools import bin_dir

    typer.echo(str(bin_dir()))
