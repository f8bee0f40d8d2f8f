"""Argo Events sensors on one machine: events in, workflows out.

A webhook event (``POST /api/v1/events/{source}/{event}``) is matched against
Argo Events ``Sensor`` documents — dependencies, data/expr/context filters,
trigger conditions — and each firing ``argoWorkflow`` trigger yields the
Workflow it submits, with parameters taken from the event by gjson path or Go
template. The same documents deploy unchanged to Argo Events; what cannot
mean the same thing here is refused when a sensor is loaded.

Nothing in this package submits or stores anything: :meth:`SensorSet.dispatch`
returns what to submit (or why the event was rejected), and the API decides.
"""

from clusterforge.api.triggers._filters import FilterError
from clusterforge.api.triggers._gotemplate import GoTemplate, TemplateError
from clusterforge.api.triggers._params import ParameterError
from clusterforge.api.triggers._paths import PathError, gjson_string, parse_path
from clusterforge.api.triggers._registry import (
    Dispatch,
    Fired,
    MemoryPending,
    PendingChanged,
    PendingEvents,
    SensorSet,
    load_sensor_files,
)
from clusterforge.api.triggers._sensor import CompiledSensor, Event, SensorError, compile_sensor

__all__ = [
    "CompiledSensor",
    "Dispatch",
    "Event",
    "FilterError",
    "Fired",
    "GoTemplate",
    "MemoryPending",
    "ParameterError",
    "PathError",
    "PendingChanged",
    "PendingEvents",
    "SensorError",
    "SensorSet",
    "TemplateError",
    "compile_sensor",
    "gjson_string",
    "load_sensor_files",
    "parse_path",
]
