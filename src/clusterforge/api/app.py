"""The application factory: settings in, a FastAPI app out.

``create_app`` wires the layers once: the local engine behind a bounded run
queue, the pipeline on top of it, the built-in and user sensors, the token
guard, the body limit, and the error handlers that give every failure one
JSON shape. Sensors are compiled here, so a broken sensor stops the server at
start with the file and field named — not on the first event.

The engine's workers start (and interrupted workflows are taken back) in the
app's lifespan, so importing or building an app has no side effects until it
serves.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig

from clusterforge import __version__
from clusterforge.api.errors import install_error_handlers
from clusterforge.api.limits import BodyLimit
from clusterforge.api.runner import QueuedEngine
from clusterforge.api.security import Guard
from clusterforge.api.services import Services, StorePending
from clusterforge.api.serving import ServerEngine, WatchingEngine
from clusterforge.api.settings import Settings
from clusterforge.api.triggers import SensorSet, load_sensor_files
from clusterforge.engine import (
    HostedEngine,
    WorkflowView,
    engine_kind,
    open_argo_engine,
    open_hosted_engine,
)

__all__ = ["BUILTIN_SENSOR_DIR", "create_app"]

#: The Sensor documents behind the build, stage and destroy endpoints.
BUILTIN_SENSOR_DIR = Path(__file__).parent / "sensors"

log = logging.getLogger("clusterforge.api")


def _telemetry() -> TelemetryConfig:
    """FastAPI's OpenTelemetry hooks: on when asked for (``FASTAPI_OTEL_AUTO_CONFIGURE=true``,
    FastAPI's own switch), else off — nothing here sets up a provider, and looking
    for one on every request cost about 3 % of a webhook trigger's CPU."""
    wanted = os.environ.get("FASTAPI_OTEL_AUTO_CONFIGURE", "").lower() == "true"
    return {"tracing": wanted, "metrics": wanted, "logs": wanted}


def _finished(services: Services, view: WorkflowView) -> None:
    """A workflow ended: count it, and publish a build's reports and logs."""
    from clusterforge.api.routes_artifacts import publish_finished

    services.metrics.finished(view)
    publish_finished(services, view)


def _server_engine(
    settings: Settings, engine: HostedEngine | None, finished: Callable[[WorkflowView], None]
) -> ServerEngine:
    """The local engine behind the run queue, or (``settings.engine == "argo"``)
    the Argo backend followed by one watch."""
    if engine is None and engine_kind(settings.engine) == "argo":
        argo = open_argo_engine(settings.kubeconfig, settings.namespace, home=settings.data_dir)
        return WatchingEngine(argo, on_finished=finished)
    return QueuedEngine(
        engine or open_hosted_engine(settings.data_dir, settings.kubeconfig),
        # an acceptor of a multi-process server hands every workflow to its controller
        workers=0 if settings.hand_to else settings.workers,
        on_finished=finished,
        hand_to=settings.hand_to,
    )


def create_app(settings: Settings, engine: HostedEngine | None = None) -> FastAPI:
    """A configured API app; ``engine`` defaults to the backend ``settings.engine``
    names (the hosted engine on ``settings.data_dir`` unless ``argo``)."""
    from clusterforge.stages import Pipeline

    holder: dict[str, Services] = {}
    queued = _server_engine(settings, engine, lambda view: _finished(holder["services"], view))
    builtin = SensorSet(load_sensor_files([BUILTIN_SENSOR_DIR]))
    sensors = SensorSet(load_sensor_files(settings.sensor_dirs), StorePending(queued.records))
    guard = Guard(
        settings.all_tokens(),
        public_reads=settings.public_reads,
        rate=settings.rate_limit,
        burst=settings.burst,
        shared=settings.rate_limit_file,
        roles=settings.token_roles(),
    )
    services = Services(settings, queued, Pipeline(queued), sensors, builtin, guard)
    holder["services"] = services
    for warning in sensors.warnings():
        log.warning("%s", warning)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        queued.start()
        try:
            yield
        finally:
            queued.close(timeout=1.0)

    app = FastAPI(
        title="clusterforge",
        version=__version__,
        description=(
            "Kubernetes clusters, built by workflows: start builds and single stages, "
            "deliver webhook events to Argo Events sensors, follow builds live."
        ),
        lifespan=lifespan,
        telemetry=_telemetry(),
    )
    app.state.services = services
    app.state.metrics = services.metrics
    install_error_handlers(app)
    from clusterforge.api.routes_events import EventIntake

    app.add_middleware(EventIntake)  # inside the body limit (added after it: outside)
    app.add_middleware(
        BodyLimit,
        limit=settings.max_body,
        on_reject=lambda path: services.metrics.rejected_path(path, "too_large"),
    )

    from clusterforge.api import (
        routes_artifacts,
        routes_builds,
        routes_events,
        routes_health,
        routes_reports,
        routes_session,
        routes_streams,
    )

    app.include_router(routes_builds.router)
    app.include_router(routes_artifacts.router)
    app.include_router(routes_events.router)
    app.include_router(routes_streams.router)
    app.include_router(routes_health.router)
    from clusterforge.api import argo_server

    app.include_router(argo_server.router)
    app.include_router(routes_session.router)
    app.include_router(routes_reports.router)
    for mount in settings.mounts:
        mount(app)
    return app
