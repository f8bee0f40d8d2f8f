"""Argo v3.7 spellings read as Argo v4's, so documents of either line load.

Why: the loader validates with Hera 7.1's models, which follow Argo's current
line (v4.0.5's schema: plural-only ``synchronization.mutexes``/``semaphores``,
``CronWorkflow.schedules``, a memoize cache naming only its ConfigMap). Argo
v3.7 documents still use the singular forms, ``schedule:`` and
``memoize.cache.configMap.key``. Which fields those are is not hand-listed:
``argo_fields.json`` is generated from both versions' JSON schemas by
``scripts/argo_fields.py`` (its ``removed`` and ``retyped`` entries), and
``tests/workflow/test_argo_fields.py`` checks that each such entry has a rule
here and that the models define every field of the newest schema.

Each rule rewrites one mapping the way Argo v4 reads the v3.7 document:
a singular ``mutex``/``semaphore`` joins the plural list (Argo v3.7's
controller took both, the singular first), ``schedule`` becomes the first of
``schedules``, and the memoize ConfigMap's ``key`` is dropped (v4 keeps each
cache entry under its own key in the named ConfigMap).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any

from clusterforge.safety.loading import loads_json

__all__ = ["UPGRADES", "argo_data", "definition_of", "upgrade"]

_MODELS_PREFIX = "hera.workflows.models."
_WF = "io.argoproj.workflow.v1alpha1."


@functools.cache
def argo_data() -> dict[str, Any]:
    """The generated ``argo_fields.json`` (versions, fields, removed, retyped)."""
    text = resources.files("clusterforge.workflow").joinpath("argo_fields.json").read_text()
    data: dict[str, Any] = loads_json(text, "argo_fields.json")
    return data


def definition_of(model: type) -> str:
    """The Argo/Kubernetes schema definition a Hera model class was generated from."""
    module = model.__module__
    if module.startswith(_MODELS_PREFIX):
        module = module[len(_MODELS_PREFIX) :]
    return f"{module}.{model.__name__}"


def _to_plural(singular: str, plural: str) -> Callable[[dict[Any, Any]], dict[Any, Any]]:
    def rule(data: dict[Any, Any]) -> dict[Any, Any]:
        out = {k: v for k, v in data.items() if k != singular}
        existing = data.get(plural)
        rest = existing if isinstance(existing, list) else ([] if existing is None else [existing])
        out[plural] = [data[singular], *rest]
        return out

    return rule


def _drop_key(data: dict[Any, Any]) -> dict[Any, Any]:
    config_map = data.get("configMap")
    if not isinstance(config_map, dict) or "key" not in config_map:
        return data
    return {**data, "configMap": {k: v for k, v in config_map.items() if k != "key"}}


#: ``definition.field`` (a v3.7 spelling) → the rule that rewrites its mapping.
UPGRADES: Mapping[str, Callable[[dict[Any, Any]], dict[Any, Any]]] = {
    f"{_WF}Synchronization.mutex": _to_plural("mutex", "mutexes"),
    f"{_WF}Synchronization.semaphore": _to_plural("semaphore", "semaphores"),
    f"{_WF}CronWorkflowSpec.schedule": _to_plural("schedule", "schedules"),
    f"{_WF}Cache.configMap": _drop_key,
}

_BY_DEFINITION: dict[str, list[str]] = {}
for _rule in UPGRADES:
    _definition, _, _field = _rule.rpartition(".")
    _BY_DEFINITION.setdefault(_definition, []).append(_field)


def upgrade(model: type, data: dict[Any, Any]) -> dict[Any, Any]:
    """``data`` (a mapping read as ``model``) with v3.7 spellings rewritten as v4's."""
    definition = definition_of(model)
    for field in _BY_DEFINITION.get(definition, ()):
        if field in data:
            data = UPGRADES[f"{definition}.{field}"](data)
    return data
