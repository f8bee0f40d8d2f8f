"""All loaded sensors, and what one event does to them.

:meth:`SensorSet.dispatch` answers for one event: the workflows to submit,
the sensors now waiting for more of their dependencies, and — when nothing
accepted it — every reason it was turned away. It submits nothing itself:
the caller stores what it returns, so a rejected event leaves no trace.

Sensors with several dependencies remember the events that resolved some of
them (in a :class:`PendingEvents` store, the state database when served) until
their trigger ``conditions`` are met; then the trigger fires with all of them
and the sensor starts over, as in Argo Events. Several requests (or server
processes) may dispatch to one such sensor at once, so :meth:`SensorSet.commit`
— run inside the caller's write transaction — first checks that the partial
state is still what the dispatch read; if not, :class:`PendingChanged` undoes
the transaction and the caller dispatches the event again on the new state.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from clusterforge.api.triggers._params import ParameterError
from clusterforge.api.triggers._sensor import CompiledSensor, Event, SensorError, compile_sensor
from clusterforge.errors import UserError
from clusterforge.safety import LimitExceeded, load_yaml_documents, read_text

__all__ = [
    "Dispatch",
    "Fired",
    "MemoryPending",
    "PendingChanged",
    "PendingEvents",
    "SensorSet",
    "load_sensor_files",
]


class PendingEvents(Protocol):
    """Where a multi-dependency sensor keeps the events that resolved part of it."""

    def get(self, sensor: str) -> dict[str, dict[str, Any]]: ...

    def put(self, sensor: str, events: dict[str, dict[str, Any]]) -> None: ...


class MemoryPending:
    def __init__(self) -> None:
        self._data: dict[str, dict[str, dict[str, Any]]] = {}

    def get(self, sensor: str) -> dict[str, dict[str, Any]]:
        return dict(self._data.get(sensor, {}))

    def put(self, sensor: str, events: dict[str, dict[str, Any]]) -> None:
        self._data[sensor] = dict(events)


class PendingChanged(Exception):
    """A multi-dependency sensor's partial state changed after the dispatch read it."""


@dataclass(frozen=True)
class Fired:
    """A trigger that fired: the workflow it submits."""

    sensor: str
    trigger: str
    workflow: dict[str, Any]


@dataclass
class Dispatch:
    fired: list[Fired] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    listeners: int = 0
    updates: list[tuple[str, dict[str, dict[str, Any]]]] = field(default_factory=list)
    seen: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    """The partial state of each multi-dependency sensor as the dispatch read it."""


def _event_record(event: Event) -> dict[str, Any]:
    return {"source": event.source, "name": event.name, "id": event.id, "body": event.body,
            "header": dict(event.header), "at": event.at}  # fmt: skip


def _event_from(record: Mapping[str, Any]) -> Event:
    return Event(record["source"], record["name"], record["id"], record["body"],
                 record.get("header", {}), record.get("at", 0.0))  # fmt: skip


def load_sensor_files(paths: Iterable[Path]) -> list[CompiledSensor]:
    """Every Sensor in the given files and directories (``*.yaml``/``*.yml``)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml")))
        elif path.is_file():
            files.append(path)
        else:
            raise SensorError(f"{path}: no such sensor file or directory")
    sensors: list[CompiledSensor] = []
    for file in files:
        try:
            docs = [d for d in load_yaml_documents(read_text(file), str(file)) if d is not None]
        except (yaml.YAMLError, UnicodeDecodeError) as err:
            raise SensorError(f"{file}: not valid YAML: {err}") from None
        except LimitExceeded as err:
            raise SensorError(str(err)) from None
        for index, doc in enumerate(docs):
            where = str(file) if len(docs) == 1 else f"{file}[{index}]"
            sensors.append(compile_sensor(doc, where))
    return sensors


class SensorSet:
    """Sensors by name; dispatches events to the ones listening."""

    def __init__(self, sensors: Iterable[CompiledSensor], pending: PendingEvents | None = None):
        self.sensors: dict[str, CompiledSensor] = {}
        for sensor in sensors:
            if sensor.name in self.sensors:
                raise SensorError(
                    f"{sensor.source}: sensor {sensor.name!r} is already defined in "
                    f"{self.sensors[sensor.name].source}"
                )
            self.sensors[sensor.name] = sensor
        self.pending: PendingEvents = pending or MemoryPending()
        self._lock = threading.Lock()

    def warnings(self) -> list[str]:
        return [w for s in self.sensors.values() for w in s.warnings]

    def sources(self) -> set[tuple[str, str]]:
        return {(d.source, d.event) for s in self.sensors.values() for d in s.dependencies}

    def dispatch(self, event: Event) -> Dispatch:
        """What ``event`` does: workflows to submit, or why nothing accepts it."""
        result = Dispatch()
        for sensor in self.sensors.values():
            listening = sensor.listens(event.source, event.name)
            if not listening:
                continue
            result.listeners += 1
            accepted = []
            for dep in listening:
                verdict = dep.filter.check(event.data, event.context) if dep.filter else None
                if verdict is None or verdict.ok:
                    accepted.append(dep.name)
                else:
                    result.rejected.append(
                        f"sensor {sensor.name}, dependency {dep.name}: {verdict.reason}"
                    )
            if not accepted:
                continue
            single = len(sensor.dependencies) == 1
            stored = {} if single else self.pending.get(sensor.name)
            if not single:
                result.seen[sensor.name] = stored
            events = {name: _event_from(rec) for name, rec in stored.items()}
            for name in accepted:
                events[name] = event
            resolved = set(events)
            names = [d.name for d in sensor.dependencies]
            fired_here = []
            try:
                for trigger in sensor.triggers:
                    if trigger.wants(resolved, names):
                        fired_here.append(Fired(sensor.name, trigger.name, trigger.render(events)))
            except (ParameterError, UserError) as err:
                result.rejected.append(f"sensor {sensor.name}: {err}")
                continue
            result.fired.extend(fired_here)
            if not single:
                if fired_here:
                    result.updates.append((sensor.name, {}))
                else:
                    missing = [n for n in names if n not in resolved]
                    result.waiting.append(f"sensor {sensor.name} waits for {', '.join(missing)}")
                    records = {n: _event_record(e) for n, e in events.items()}
                    result.updates.append((sensor.name, records))
        return result

    def commit(self, dispatch: Dispatch) -> None:
        """Remember partial matches (and forget consumed ones) once the caller has stored
        what ``dispatch`` fired; a rejected request never gets here. Raises
        :class:`PendingChanged` (writing nothing) if another dispatch changed them."""
        with self._lock:
            for sensor, _events in dispatch.updates:
                if self.pending.get(sensor) != dispatch.seen.get(sensor, {}):
                    raise PendingChanged(sensor)
            for sensor, events in dispatch.updates:
                self.pending.put(sensor, events)
