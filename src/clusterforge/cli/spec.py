"""``clusterforge spec …``: check a cluster spec, and print its JSON Schema.

``validate`` is what to run before ``build`` (and in a team's CI over their
spec files): it reports every problem with its field path, or one line saying
what would be built. ``schema`` prints the JSON Schema editors use to complete
and check spec files, e.g. with a ``# yaml-language-server: $schema=…`` line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from clusterforge.cli.app import app

spec_app = typer.Typer(
    name="spec",
    help="Validate cluster specs and print their JSON Schema.",
    no_args_is_help=True,
)
app.add_typer(spec_app)


@spec_app.command("validate")
def validate(
    files: Annotated[
        list[Path], typer.Argument(help="Cluster spec files (YAML or JSON).", show_default=False)
    ],
) -> None:
    """Check spec files; print a summary of each, or every problem (exit 2)."""
    from clusterforge.errors import InvalidInput
    from clusterforge.spec import SpecError, enabled_addons, load_spec

    problems: list[str] = []
    for file in files:
        try:
            spec = load_spec(file)
        except SpecError as err:
            problems.append(str(err))
            continue
        groups = len(spec.spec.node_groups)
        addons = ", ".join(addon.name for addon in enabled_addons(spec)) or "none"
        typer.echo(
            f"{file}: valid — cluster {spec.name}, {groups} node group{'s' * (groups != 1)}, "
            f"add-ons: {addons}"
        )
    if problems:
        raise InvalidInput("\n".join(problems))


@spec_app.command("schema")
def schema() -> None:
    """Print the JSON Schema (draft 2020-12) of cluster spec files."""
    import json

    from clusterforge.spec import json_schema

    typer.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))
