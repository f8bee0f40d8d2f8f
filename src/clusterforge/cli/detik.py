"""``clusterforge detik`` and ``clusterforge detik-lib``: DETIK from the shell.

``detik`` evaluates one sentence against a cluster and exits with DETIK's
code (0 ok, 1 empty sentence, 2 syntax error, 3 failed check), so scripts and
the shipped bash library can treat it exactly like bats-detik's ``verify`` and
``try``. ``detik-lib`` prints the path of that bash library for ``.bats``
files to ``load``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from clusterforge.cli.app import app


class _Keyword(StrEnum):
    verify = "verify"
    try_ = "try"


@app.command("detik")
def detik(
    sentence: Annotated[
        list[str] | None,
        typer.Argument(
            help="The DETIK sentence; several words are joined with spaces, as bats-detik does.",
            show_default=False,
        ),
    ] = None,
    kubeconfig: Annotated[
        str | None,
        typer.Option("--kubeconfig", help="Kubeconfig of the cluster (default: $KUBECONFIG)."),
    ] = None,
    namespace: Annotated[
        str | None,
        typer.Option(
            "--namespace", "-n", help="Namespace to look in (default: $DETIK_CLIENT_NAMESPACE)."
        ),
    ] = None,
    all_namespaces: Annotated[
        bool,
        typer.Option(
            "--all-namespaces",
            "-A",
            help="Look in all namespaces (default: $DETIK_CLIENT_NAMESPACE_ALL=true).",
        ),
    ] = False,
    keyword: Annotated[
        _Keyword | None,
        typer.Option(
            "--keyword",
            help="Accept only the sentences of DETIK's verify or try function.",
            case_sensitive=False,
        ),
    ] = None,
) -> None:
    """Check a DETIK sentence against a cluster; exit 0 ok, 1 empty, 2 syntax error, 3 failed.

    Examples: "there are 2 pods named 'coredns'", "'status' is 'running' for pods
    named 'coredns'", "at most 5 times every 10s to find 2 pods named 'coredns'
    with 'status' being 'running'". The client is $DETIK_CLIENT_NAME (default kubectl).
    """
    from clusterforge.checks import detik as detik_checks

    result = detik_checks.verify(
        " ".join(sentence or []),
        kubeconfig=kubeconfig,
        namespace=namespace,
        all_namespaces=all_namespaces,
        keyword=None if keyword is None else keyword.value,
    )
    typer.echo(result.describe(), err=not result.ok)
    raise typer.Exit(int(result.exit_code))


@app.command("detik-lib")
def detik_lib() -> None:
    """Print the path of the bash library for .bats files: load "$(clusterforge detik-lib)"."""
    from clusterforge.checks.detik import library_path

    typer.echo(str(library_path()))
