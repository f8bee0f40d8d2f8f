"""``spec.templateDefaults`` and ``spec.retryStrategy``: what every template inherits.

Argo merges the workflow's ``templateDefaults`` into each template when it
executes it (the controller's ``mergedTemplateDefaultsInto``): a strategic merge
patch in which the template's own fields win, lists with a merge key (``env`` by
name, ``volumeMounts`` by mountPath, ``volumes`` by name, …) merged item by item
and every other list replaced whole. Defaults for another kind of template
(``container`` defaults on a ``script`` template) are dropped. A template that
still has no ``retryStrategy`` then retries by ``spec.retryStrategy`` (Argo's
``woc.retryStrategy``), whatever its kind.

Templates are static until their variables are substituted, so merging when
the operator resolves a template is the same as merging when it runs it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

JSON = dict[str, Any]

KINDS = (
    "container",
    "containerSet",
    "steps",
    "script",
    "resource",
    "dag",
    "suspend",
    "data",
    "http",
    "plugin",
)
"""The fields that make a template's type (Argo's ``TemplateType``)."""

_TEMPLATE_LISTS = {
    "volumes": "name",
    "initContainers": "name",
    "sidecars": "name",
    "tolerations": "key",
    "hostAliases": "ip",
}
_CONTAINER_LISTS = {
    "env": "name",
    "ports": "containerPort",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
}
_CONTAINER_FIELDS = frozenset({"container", "script"})
_CONTAINER_ITEMS = frozenset({"initContainers", "sidecars", "containers"})


def template_defaults(spec: Mapping[str, Any]) -> tuple[JSON | None, JSON | None]:
    """The workflow's ``templateDefaults`` and ``retryStrategy`` (``None`` when absent)."""
    defaults = spec.get("templateDefaults")
    retry = spec.get("retryStrategy")
    return (
        defaults if isinstance(defaults, dict) and defaults else None,
        retry if isinstance(retry, dict) else None,
    )


def with_defaults(template: JSON, defaults: JSON | None, retry: JSON | None) -> JSON:
    """``template`` with the workflow's defaults merged in (the template itself is unchanged)."""
    if defaults is None and (retry is None or "retryStrategy" in template):
        return template
    merged = template
    if defaults is not None:
        own = next((kind for kind in KINDS if kind in template), "")
        applicable = {k: v for k, v in defaults.items() if k not in KINDS or k == own}
        applicable.pop("name", None)
        merged = _merge(applicable, template, _TEMPLATE_LISTS)
    if retry is not None and merged.get("retryStrategy") is None:
        merged = {**merged, "retryStrategy": copy.deepcopy(retry)}
    return merged


def _lists_within(field: str) -> Mapping[str, str]:
    """The merge keys of the lists inside ``field`` (none: lists there are replaced)."""
    if field in _CONTAINER_FIELDS:
        return _CONTAINER_LISTS
    return {"containers": "name"} if field == "containerSet" else {}


def _merge(base: Any, patch: Any, lists: Mapping[str, str], field: str = "") -> Any:
    """A strategic merge of ``patch`` onto ``base``; ``patch`` wins on every conflict.

    ``lists`` are the merge keys of the lists directly inside ``base``."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = {k: copy.deepcopy(v) for k, v in base.items()}
        for key, value in patch.items():
            if key not in merged:
                merged[key] = value
                continue
            inner = lists if key in lists else _lists_within(key)
            merged[key] = _merge(merged[key], value, inner, key)
        return merged
    if isinstance(base, list) and isinstance(patch, list) and field in lists:
        return _merge_list(base, patch, lists[field], field)
    return patch


def _merge_list(base: list[Any], patch: list[Any], key: str, field: str) -> list[Any]:
    """Items merged by ``key``: a patch item replaces fields of the base item it names."""
    item_lists = _CONTAINER_LISTS if field in _CONTAINER_ITEMS else {}
    merged = [copy.deepcopy(item) for item in base]
    index = {item.get(key): i for i, item in enumerate(merged) if isinstance(item, dict)}
    for item in patch:
        at = index.get(item.get(key)) if isinstance(item, dict) else None
        if at is None:
            merged.append(item)
        else:
            merged[at] = _merge(merged[at], item, item_lists)
    return merged
