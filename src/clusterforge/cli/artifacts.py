"""``clusterforge artifacts ls|get BUILD [NODE]``: a build's reports, logs and spec.

The same commands work on this machine (reading the configured artifact
repository directly) and against a server (``--server``/``CLUSTERFORGE_SERVER``,
through ``GET /api/v1/builds/{id}/artifacts``). ``get`` streams each object to
``<dir>/<path>``; paths come back checked, so nothing lands outside ``<dir>``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated

import typer

from clusterforge.cli.app import app
from clusterforge.cli.workflows import ServerOpt

if TYPE_CHECKING:
    from clusterforge.stages.build_artifacts import BuildArtifacts

artifacts_app = typer.Typer(
    help="A build's stored artifacts: reports, logs, spec.", no_args_is_help=True
)
app.add_typer(artifacts_app, name="artifacts")

BuildArg = Annotated[str, typer.Argument(help="Build id", show_default=False)]
NodeArg = Annotated[
    str | None, typer.Argument(help="One node (id, name or display name)", show_default=False)
]


def _local() -> BuildArtifacts:
    from clusterforge.engine import LocalEngine
    from clusterforge.stages import Pipeline
    from clusterforge.stages.build_artifacts import BuildArtifacts

    return BuildArtifacts(Pipeline(LocalEngine()))


def _listing(
    build: str, node: str | None, server: str | None, local: BuildArtifacts | None = None
) -> list[tuple[str, int]]:
    from clusterforge.cli.remote import from_env

    remote = from_env(server)
    if remote is not None:
        return [(str(a["path"]), int(a["size"])) for a in remote.artifacts(build, node)]
    prefix = f"{build}/"
    return [(o.key.removeprefix(prefix), o.size) for o in (local or _local()).list(build, node)]


@artifacts_app.command("ls")
def list_artifacts(build: BuildArg, node: NodeArg = None, server: ServerOpt = None) -> None:
    """List a build's artifacts (or one node's): path and size."""
    from rich.console import Console
    from rich.table import Table

    rows = _listing(build, node, server)
    table = Table("PATH", "SIZE", box=None, pad_edge=False)
    for path, size in rows:
        table.add_row(path, str(size))
    Console().print(table)
    if not rows:
        typer.echo(f"build {build} has no artifacts", err=True)


@artifacts_app.command("get")
def get_artifacts(
    build: BuildArg,
    node: NodeArg = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Directory to write into")
    ] = Path(),
    path: Annotated[str | None, typer.Option("--path", help="Only this artifact")] = None,
    server: ServerOpt = None,
) -> None:
    """Download a build's artifacts (or one node's) into a directory."""
    from clusterforge.cli.remote import from_env
    from clusterforge.engine.artifacts import checked_key

    remote = from_env(server)
    local = _local() if remote is None else None  # one repository client for every object
    wanted = [path] if path else [p for p, _ in _listing(build, node, server, local)]
    for item in wanted:
        target = output / build / checked_key(item, "path")
        if local is None:
            assert remote is not None
            with remote.artifact(build, item) as chunks:
                _write(target, chunks)
        else:
            with local.reader(build, item) as stream:
                _write(target, _read_chunks(stream))
        typer.echo(str(target))


def _read_chunks(stream: IO[bytes]) -> Iterator[bytes]:
    while chunk := stream.read(1 << 20):
        yield chunk


def _write(target: Path, chunks: Iterator[bytes]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.part")
    try:
        with partial.open("wb") as out:
            for chunk in chunks:
                out.write(chunk)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
