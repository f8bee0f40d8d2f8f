"""The HTTP event API: builds and stages over HTTP, Argo Events sensors, live status.

``clusterforge serve`` runs :func:`create_app` under uvicorn. Builds are API
driven — ``POST /api/v1/builds`` with a cluster spec starts a full build,
``POST /api/v1/clusters/{name}/stages/{stage}`` runs one stage — and webhooks
(``POST /api/v1/events/{source}/{event}``) go through Argo Events ``Sensor``
documents that map payload fields onto workflow parameters. Unlike a bare
webhook, every answer can be acted on: 202 with the build id and the URLs to
follow it, or a 4xx naming the field (or the sensor filter) that refused the
request — and nothing is stored for a refused one.

The layer reads and writes only through the pipeline and the engine interface
(``api > stages > engine``); see docs/api.md for the endpoints and decisions.
"""

from clusterforge.api.app import BUILTIN_SENSOR_DIR, create_app
from clusterforge.api.errors import ApiError
from clusterforge.api.runner import QueuedEngine
from clusterforge.api.server import serve
from clusterforge.api.services import event_name, pipeline_event
from clusterforge.api.settings import Settings, parse_rate, parse_size

__all__ = [
    "BUILTIN_SENSOR_DIR",
    "ApiError",
    "QueuedEngine",
    "Settings",
    "create_app",
    "event_name",
    "parse_rate",
    "parse_size",
    "pipeline_event",
    "serve",
]
