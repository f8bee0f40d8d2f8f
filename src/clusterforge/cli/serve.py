"""``clusterforge serve``: the HTTP event API (see docs/api.md).

Flags override the environment (``CLUSTERFORGE_HOST``, ``CLUSTERFORGE_PORT``,
``CLUSTERFORGE_TOKEN_FILE``, ``CLUSTERFORGE_TOKENS``, ``CLUSTERFORGE_HOME``,
``CLUSTERFORGE_PUBLIC_READS``, ``CLUSTERFORGE_RATE_LIMIT``,
``CLUSTERFORGE_MAX_BODY``, ``CLUSTERFORGE_SENSOR_DIRS``,
``CLUSTERFORGE_WORKERS``, ``CLUSTERFORGE_PROCESSES``, ``CLUSTERFORGE_ENGINE``,
``CLUSTERFORGE_KUBECONFIG``, ``CLUSTERFORGE_NAMESPACE``), which override the defaults.
With ``--engine argo`` the API submits to Argo's controller and follows its
workflows through one Kubernetes watch (docs/argo.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from clusterforge.cli.app import app
from clusterforge.cli.workflows import EngineOpt, KubeconfigOpt, NamespaceOpt


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on [127.0.0.1]")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on [8080]")] = None,
    token_file: Annotated[
        Path | None,
        typer.Option(help="File of bearer tokens, one per line [<data-dir>/api-tokens]"),
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="State directory (CLUSTERFORGE_HOME)")
    ] = None,
    public_reads: Annotated[
        bool | None,
        typer.Option("--public-reads/--no-public-reads", help="Allow reads without a token"),
    ] = None,
    rate_limit: Annotated[
        str | None, typer.Option(help="Requests per token, e.g. 50/s or 600/min; 0 = off [50/s]")
    ] = None,
    max_body: Annotated[
        str | None, typer.Option(help="Largest request body, e.g. 1MiB [1MiB]")
    ] = None,
    sensor_dir: Annotated[
        list[Path] | None,
        typer.Option(help="Directory (or file) of Argo Events Sensor YAML (repeatable)"),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=0, help="Workflows run at once; more wait Pending; 0 = accept only [4]"),
    ] = None,
    processes: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Processes accepting requests; over 1 adds a controller process that runs "
            "the workflows (use one per core for the most triggers/s) [1]",
        ),
    ] = None,
    engine_kind: EngineOpt = None,
    kubeconfig: KubeconfigOpt = None,
    namespace: NamespaceOpt = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error")] = "info",
) -> None:
    """Serve the web UI and the HTTP event API: builds, stages, webhook sensors, live status."""
    import os

    from clusterforge.api import Settings, parse_rate, parse_size, serve
    from clusterforge.ui import mount as mount_ui

    settings = Settings.from_env()
    settings.mounts = (mount_ui,)
    if data_dir is not None:
        settings.data_dir = data_dir
        os.environ["CLUSTERFORGE_HOME"] = str(data_dir)  # steps and the pipeline agree
    if host is not None:
        settings.host = host
    if port is not None:
        settings.port = port
    if token_file is not None:
        settings.token_file = token_file
    if public_reads is not None:
        settings.public_reads = public_reads
    if rate_limit is not None:
        settings.rate_limit = parse_rate(rate_limit)
    if max_body is not None:
        settings.max_body = parse_size(max_body)
    if sensor_dir:
        settings.sensor_dirs = tuple(sensor_dir)
    if workers is not None:
        settings.workers = workers
    if processes is not None:
        settings.processes = processes
    if engine_kind is not None:
        settings.engine = engine_kind
    settings.kubeconfig = kubeconfig or settings.kubeconfig
    settings.namespace = namespace or settings.namespace
    tokens = settings.all_tokens()
    where = settings.token_file or "CLUSTERFORGE_TOKENS"
    typer.echo(
        f"clusterforge web UI and API on http://{settings.host}:{settings.port}/ "
        f"({len(tokens)} token(s) from {where}; docs at /docs"
        + (f"; {settings.processes} processes" if settings.processes > 1 else "")
        + ("; workflows run on Argo" if settings.engine == "argo" else "")
        + ")",
        err=True,
    )
    serve(settings, log_level=log_level)
