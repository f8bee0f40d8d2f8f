"""What the routes work with: one object per app, built by ``create_app``.

The routes stay thin — read the request, call one method here, shape the
answer — and everything that touches the engine, the pipeline or the sensors
runs in a worker thread (these calls block on SQLite and on the loader), so
the event loop only ever parses HTTP.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from clusterforge.api.errors import ApiError
from clusterforge.api.idempotency import Idempotency
from clusterforge.api.metrics import Metrics
from clusterforge.api.runner import QueuedEngine
from clusterforge.api.security import Guard
from clusterforge.api.settings import Settings
from clusterforge.api.triggers import Dispatch, Event, Fired, SensorSet
from clusterforge.engine import Submission, WorkflowView
from clusterforge.errors import InvalidInput, UserError
from clusterforge.store import WorkflowRecord

if TYPE_CHECKING:
    from clusterforge.stages import BuildRecord, Pipeline

__all__ = ["LABEL_CLUSTER", "LABEL_SENSOR", "LABEL_STAGE", "Services", "pipeline_event"]

LABEL_CLUSTER = "clusterforge.dev/cluster"
LABEL_STAGE = "clusterforge.dev/stage"
LABEL_SENSOR = "clusterforge.dev/sensor"
LABEL_TRIGGER = "clusterforge.dev/trigger"
RESERVED_SOURCE = "clusterforge"
_PENDING_SCOPE = "sensor-pending"
_NAME_ATTEMPTS = 5


class StorePending:
    """Partly matched multi-dependency sensors, kept in the state database."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def get(self, sensor: str) -> dict[str, dict[str, Any]]:
        found = self.store.kv_get(_PENDING_SCOPE, sensor)
        return dict(found or {})

    def put(self, sensor: str, events: dict[str, dict[str, Any]]) -> None:
        self.store.kv_put(_PENDING_SCOPE, sensor, events)


def pipeline_event(record: BuildRecord) -> dict[str, Any]:
    """The normalized event the built-in sensors read, for a build the pipeline made.

    The Argo backend publishes exactly this on the ``clusterforge`` event
    source (event name ``build``, ``stage-<stage>`` or ``destroy``).
    """
    return {
        "build": record.id,
        "cluster": record.cluster,
        "stage": record.stage,
        "arguments": {
            "parameters": [{"name": k, "value": v} for k, v in sorted(record.parameters.items())]
        },
    }


def event_name(stage: str) -> str:
    """The built-in event name of a pipeline stage (``build``, ``destroy``, ``stage-core``…)."""
    return stage if stage in ("build", "destroy") else f"stage-{stage}"


class Services:
    """The engine, pipeline, sensors and guards of one server."""

    def __init__(
        self,
        settings: Settings,
        engine: QueuedEngine,
        pipeline: Pipeline,
        sensors: SensorSet,
        builtin: SensorSet,
        guard: Guard,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.pipeline = pipeline
        self.sensors = sensors
        self.builtin = builtin
        self.guard = guard
        self.idempotency = Idempotency(engine.store)
        self.metrics = Metrics(engine.store, lambda: (engine.queued, engine.running))
        self.metrics.event_sources = {s for s, _e in sensors.sources()}

    # -- answers -----------------------------------------------------------------

    @staticmethod
    def answer(base: str, view: WorkflowView | BuildRecord, **extra: Any) -> dict[str, Any]:
        """The 202 body: the build id, its cluster, and where to follow it."""
        if isinstance(view, WorkflowView):
            labels = view.record.labels
            wid, phase = view.id, view.phase
            cluster, stage = labels.get(LABEL_CLUSTER), labels.get(LABEL_STAGE)
        else:
            wid, phase, cluster, stage = view.id, view.phase, view.cluster, view.stage
        root = f"{base}/api/v1/builds/{wid}"
        return {
            "id": wid,
            "cluster": cluster,
            "stage": stage,
            "phase": phase,
            "urls": {"status": root, "logs": f"{root}/logs", "events": f"{root}/events"},
            **extra,
        }

    # -- pipeline ----------------------------------------------------------------

    def build(self, data: Any) -> BuildRecord:
        from clusterforge.spec import parse_spec

        spec = parse_spec(data, source="request body")
        return self.pipeline.build(spec)

    def stage(self, cluster: str, stage: str, overrides: Mapping[str, Any] | None) -> BuildRecord:
        return self.pipeline.stage(cluster, stage, overrides)

    def destroy(self, cluster: str) -> BuildRecord:
        return self.pipeline.destroy(cluster)

    # -- sensors -----------------------------------------------------------------

    def event(
        self, source: str, name: str, body: Any, headers: Mapping[str, list[str]]
    ) -> tuple[Dispatch, list[WorkflowView]]:
        """Dispatch a webhook event; store and queue every workflow it fires."""
        if source == RESERVED_SOURCE:
            raise ApiError(
                403,
                "reserved_event_source",
                "event source 'clusterforge' is reserved for the built-in sensors; use "
                "POST /api/v1/builds or POST /api/v1/clusters/{name}/stages/{stage}",
                field="source",
            )
        event = Event(source, name, uuid.uuid4().hex, body, headers)
        result = self.sensors.dispatch(event)
        if result.listeners == 0:
            known = sorted(f"{s}/{e}" for s, e in self.sensors.sources())
            raise ApiError(
                404,
                "no_sensor",
                f"no sensor listens to {source}/{name}"
                + (f"; sensors listen to: {', '.join(known)}" if known else "; no sensors loaded"),
            )
        if not result.fired and not result.waiting:
            raise ApiError(
                422,
                "event_rejected",
                "no sensor accepted the event: " + "; ".join(result.rejected),
                extra={"reasons": result.rejected},
            )
        prepared = []
        for fired in result.fired:
            labels = {LABEL_SENSOR: fired.sensor, LABEL_TRIGGER: fired.trigger}
            submission = Submission(document=fired.workflow, labels=labels)
            generated = not fired.workflow.get("metadata", {}).get("name")
            prepared.append((submission, generated, self._prepare(submission, generated, fired)))
        views = [self._enqueue(*item) for item in prepared]
        self.sensors.commit(result)
        return result, views

    def _prepare(self, submission: Submission, generated: bool, fired: Fired) -> WorkflowRecord:
        """Check a sensor's workflow; a clash of generated names is retried, as Argo does."""
        for attempt in range(_NAME_ATTEMPTS):
            try:
                return self.engine.prepare(submission)
            except UserError as err:
                clash = generated and "already exists" in str(err)
                if clash and attempt + 1 < _NAME_ATTEMPTS:
                    continue
                raise ApiError(
                    422,
                    "invalid_workflow",
                    f"sensor {fired.sensor}, trigger {fired.trigger}: the workflow it "
                    f"makes from this event is not valid: {err}",
                ) from None
        raise AssertionError("unreachable")

    def _enqueue(
        self, submission: Submission, generated: bool, record: WorkflowRecord
    ) -> WorkflowView:
        """Store and queue; a generated name taken meanwhile by another request gets a new one."""
        for _attempt in range(_NAME_ATTEMPTS):
            try:
                return self.engine.enqueue(record)
            except Exception:
                if not generated or self.engine.store.get_workflow(record.id) is None:
                    raise
                record = self.engine.prepare(submission)  # the name was taken: draw another
        raise ApiError(409, "conflict", "could not find a free workflow name; try again")

    def sensor_list(self) -> list[dict[str, Any]]:
        out = []
        for builtin, group in ((True, self.builtin), (False, self.sensors)):
            for sensor in group.sensors.values():
                out.append(
                    {
                        "name": sensor.name,
                        "builtin": builtin,
                        "dependencies": [
                            {"name": d.name, "eventSourceName": d.source, "eventName": d.event}
                            for d in sensor.dependencies
                        ],
                        "triggers": [t.name for t in sensor.triggers],
                        "warnings": list(sensor.warnings),
                    }
                )
        return out

    # -- control -----------------------------------------------------------------

    def retry(self, workflow_id: str) -> WorkflowView:
        try:
            return self.engine.retry(workflow_id)
        except InvalidInput as err:
            raise ApiError(409, "conflict", str(err)) from None

    def stop(self, workflow_id: str) -> WorkflowView:
        try:
            return self.engine.stop(workflow_id)
        except InvalidInput as err:
            raise ApiError(409, "conflict", str(err)) from None

    def clusters(self) -> list[dict[str, Any]]:
        return [asdict(c) for c in self.pipeline.clusters()]
