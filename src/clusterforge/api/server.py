"""Serving the app with uvicorn: one process, or several behind one port.

One process by default: the run queue and the workflows it runs live in the
server, and SQLite serializes writers anyway. ``--processes N`` runs N
accepting processes and a controller under a supervisor (see
:mod:`.supervisor`) for when one core cannot take the triggers. uvicorn's C
parser (httptools) and uvloop are used when installed, which roughly doubles
the triggers a core can accept.
"""

from __future__ import annotations

import logging

from clusterforge.api.app import create_app
from clusterforge.api.collector import quiet_collector
from clusterforge.api.settings import Settings
from clusterforge.engine import engine_kind
from clusterforge.errors import InvalidInput

__all__ = ["quiet_collector", "serve"]


def serve(settings: Settings, *, log_level: str = "info") -> None:
    """Run the API server until interrupted (SystemExit if a multi-process server fails)."""
    import uvicorn

    logging.basicConfig(level=log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    if settings.processes > 1 and engine_kind(settings.engine) == "argo":
        raise InvalidInput(
            "--processes: a server on --engine argo runs in one process (Argo's "
            "controller runs the workflows); drop --processes"
        )
    if settings.processes > 1:
        from clusterforge.api.supervisor import serve_processes

        code = serve_processes(settings, log_level=log_level)
        if code:
            raise SystemExit(code)
        return
    from clusterforge.api.supervisor import listen

    # The port first, as the supervisor does: uvicorn binds only after the app's
    # lifespan has started, and that takes back the interrupted workflows — a
    # server on a taken port ran them until it exited on the bind error.
    listening = listen(settings.host, settings.port, share=False)
    app = create_app(settings)
    quiet_collector()
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        access_log=log_level == "debug",
        server_header=False,
        timeout_graceful_shutdown=5,
        backlog=4096,
    )
    uvicorn.Server(config).run(sockets=[listening])
