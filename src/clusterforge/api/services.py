"""What the routes work with: one object per app, built by ``create_app``.

The routes stay thin — read the request, call one method here, shape the
answer. The pipeline's calls run in a worker thread (they block on SQLite and
on the loader). Webhook events, the path that must take a thousand a second,
do not: dispatching to the sensors and checking the fired workflows is pure
computation on cached, compiled objects, which the event loop does itself,
and storing goes to the store's group-commit writer, awaited — so a trigger
costs no thread hop and no queueing for the write lock, and its 202 still
leaves only after its workflows are committed.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from clusterforge import ids
from clusterforge.api.errors import ApiError
from clusterforge.api.idempotency import Idempotency
from clusterforge.api.metrics import Metrics
from clusterforge.api.security import Guard
from clusterforge.api.serving import ServerEngine
from clusterforge.api.settings import Settings
from clusterforge.api.triggers import Dispatch, Event, Fired, SensorSet
from clusterforge.engine import Submission, WorkflowView
from clusterforge.errors import AlreadyExists, InvalidInput, UserError
from clusterforge.labels import LABEL_CLUSTER, LABEL_STAGE
from clusterforge.store import WorkflowRecord

if TYPE_CHECKING:
    from clusterforge.stages import BuildRecord, Pipeline

__all__ = ["LABEL_CLUSTER", "LABEL_SENSOR", "LABEL_STAGE", "Services", "pipeline_event"]

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


@dataclass
class _Prepared:
    """A workflow an event fired, checked and named, not yet stored."""

    submission: Submission
    generated: bool
    fired: Fired
    record: WorkflowRecord


class Services:
    """The engine, pipeline, sensors and guards of one server."""

    def __init__(
        self,
        settings: Settings,
        engine: ServerEngine,
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
        self.idempotency = Idempotency(engine.records)
        self.metrics = Metrics(
            lambda: [view.phase for view in engine.list()],
            lambda: (engine.queued, engine.running),
            multiprocess_dir=settings.metrics_dir,
        )
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

    def dispatch(
        self, source: str, name: str, body: Any, headers: Mapping[str, list[str]]
    ) -> tuple[Dispatch, list[_Prepared]]:
        """What a webhook event does: every workflow it fires, checked (nothing stored).

        Pure computation on the compiled sensors and the engine's cached
        checks, so the event loop runs it itself; raises :class:`ApiError`
        when nothing may be stored.
        """
        if source == RESERVED_SOURCE:
            raise ApiError(
                403,
                "reserved_event_source",
                "event source 'clusterforge' is reserved for the built-in sensors; use "
                "POST /api/v1/builds or POST /api/v1/clusters/{name}/stages/{stage}",
                field="source",
            )
        event = Event(source, name, ids.uuid4().hex, body, headers)
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
            prepared.append(
                _Prepared(submission, generated, fired, self._prepare(submission, generated, fired))
            )
        return result, prepared

    async def accept(
        self,
        result: Dispatch,
        prepared: list[_Prepared],
        answer: Callable[[list[WorkflowView]], dict[str, Any]],
        keep: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Store what :meth:`dispatch` fired, then queue it to run; returns ``answer(views)``.

        The engine's :meth:`~clusterforge.api.serving.ServerEngine.admit`
        stores the workflows, the sensors' partial matches and what ``keep``
        writes of the answer (an idempotency record) before this returns (on
        the local engine as one grouped transaction). A generated name that
        another request took meanwhile is drawn again.
        """
        for _attempt in range(_NAME_ATTEMPTS):
            records = [p.record for p in prepared]
            out = answer([WorkflowView(r, {}) for r in records])
            then = functools.partial(self._commit_event, result, out, keep)
            try:
                await asyncio.wrap_future(self.engine.admit(records, then))
            except Exception:
                taken = [p for p in prepared if p.generated and self.engine.exists(p.record.id)]
                if not taken:
                    raise
                for p in taken:  # the name was taken: draw another
                    p.record = self._prepare(p.submission, p.generated, p.fired)
                continue
            return out
        raise ApiError(409, "conflict", "could not find a free workflow name; try again")

    def _commit_event(
        self,
        result: Dispatch,
        out: dict[str, Any],
        keep: Callable[[dict[str, Any]], None] | None,
    ) -> None:
        """What an accepted event leaves besides its workflows (written with them)."""
        self.sensors.commit(result)
        if keep is not None:
            keep(out)

    def _prepare(self, submission: Submission, generated: bool, fired: Fired) -> WorkflowRecord:
        """Check a sensor's workflow; a clash of generated names is retried, as Argo does."""
        for attempt in range(_NAME_ATTEMPTS):
            try:
                return self.engine.prepare(submission, check_generated=False)
            except UserError as err:
                clash = generated and isinstance(err, AlreadyExists)
                if clash and attempt + 1 < _NAME_ATTEMPTS:
                    continue
                raise ApiError(
                    422,
                    "invalid_workflow",
                    f"sensor {fired.sensor}, trigger {fired.trigger}: the workflow it "
                    f"makes from this event is not valid: {err}",
                ) from None
        raise AssertionError("unreachable")

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
