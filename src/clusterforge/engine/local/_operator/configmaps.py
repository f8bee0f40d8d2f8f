"""Parameters read from ConfigMaps, with Argo's rules and messages.

Argo fills a parameter whose ``valueFrom.configMapKeyRef`` names a ConfigMap
from the workflow's namespace — ``spec.arguments.parameters`` when the run
starts (a miss ends the workflow in Error), ``inputs.parameters`` when a
node starts (a miss ends the node in Error). Only ConfigMaps labelled
``workflows.argoproj.io/configmap-type: Parameter`` are read (the
controller's informer sees no others), the name and key may use
``{{workflow.parameters.…}}``, and a ``valueFrom.default`` stands in when the
ConfigMap or key is not found. The messages are Argo's
(``workflow/common/configmap.go``, ``util.go``, ``controller/operator.go``),
with what to do locally after them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clusterforge.engine.local.values import parameter_text
from clusterforge.engine.objects import ObjectMissing, Objects
from clusterforge.workflow.expressions import substitute

__all__ = ["PARAMETER_LABEL", "global_parameters", "input_from_configmap", "semaphore_limit"]

PARAMETER_LABEL = ("workflows.argoproj.io/configmap-type", "Parameter")
JSON = dict[str, Any]


def configmap_value(objects: Objects | None, namespace: str, name: str, key: str) -> str:
    """Argo's ``GetConfigMapValue``: the key's text, or :class:`ObjectMissing`."""
    label, wanted = PARAMETER_LABEL
    found = objects.get("ConfigMap", namespace, name) if objects is not None else None
    if found is None:
        fix = (objects or Objects()).fix("ConfigMap", name, namespace)
        raise ObjectMissing(
            f"ConfigMap '{name}' does not exist. Please make sure it has the label "
            f"{label}: {wanted} to be detectable by the controller ({fix}, with that label)"
        )
    if found.labels.get(label) != wanted:
        raise ObjectMissing(
            f"ConfigMap '{name}' needs to have the label {label}: {wanted} to load parameters "
            f"(add it to the manifest: {found.origin or 'in the cluster'})",
            not_found=False,
        )
    if key not in found.data:
        raise ObjectMissing(
            f"ConfigMap '{name}' does not have the key '{key}' "
            f"(locally: add the key to {found.origin})"
        )
    return found.text(key)


def global_parameters(
    spec: Mapping[str, Any],
    submitted: Mapping[str, str],
    objects: Objects | None,
    namespace: str,
) -> dict[str, str]:
    """The values of ``spec.arguments.parameters`` read from ConfigMaps (those not
    submitted with ``-p``); :class:`ObjectMissing` carries Argo's workflow error."""
    values: dict[str, str] = {}
    for param in (spec.get("arguments") or {}).get("parameters", []) or []:
        name, source = param.get("name"), param.get("valueFrom") or {}
        ref = source.get("configMapKeyRef")
        if name in submitted or param.get("value") is not None or not isinstance(ref, dict):
            continue
        cm, key = str(ref.get("name", "")), str(ref.get("key", ""))
        try:
            values[name] = configmap_value(objects, namespace, cm, key)
        except ObjectMissing as err:
            if source.get("default") is not None:
                values[name] = parameter_text(source["default"])
                continue
            raise ObjectMissing(
                f"failed to set global parameter {name} from configmap with name {cm} and "
                f"key {key}: {err}"
            ) from None
    return values


def input_from_configmap(
    param: JSON, objects: Objects | None, namespace: str, workflow_vars: Mapping[str, str]
) -> str | None:
    """An input's value from its ``valueFrom.configMapKeyRef`` (``None``: it has none)."""
    source = param.get("valueFrom") or {}
    ref = source.get("configMapKeyRef")
    if not isinstance(ref, dict):
        return None
    cm = substitute(str(ref.get("name", "")), workflow_vars, missing="error")
    key = substitute(str(ref.get("key", "")), workflow_vars, missing="error")
    try:
        return configmap_value(objects, namespace, cm, key)
    except ObjectMissing as err:
        if err.not_found and source.get("default") is not None:
            return parameter_text(source["default"])
        raise ObjectMissing(
            f"unable to retrieve inputs.parameters.{param['name']} from ConfigMap: {err}"
        ) from None


def semaphore_limit(objects: Objects | None, namespace: str, name: str, key: str) -> int:
    """A semaphore's limit: the ConfigMap key's integer value (Argo's ``getSyncLimit``;
    no Parameter label needed). :class:`ObjectMissing` carries Argo's message."""
    found = objects.get("ConfigMap", namespace, name) if objects is not None else None
    if found is None:
        fix = (objects or Objects()).fix("ConfigMap", name, namespace)
        raise ObjectMissing(f'configmaps "{name}" not found ({fix})')
    if key not in found.data:
        raise ObjectMissing(
            f"Sync configuration key '{key}' not found in ConfigMap "
            f"(locally: add the key to {found.origin})"
        )
    text = found.text(key)
    try:
        limit = int(text.strip(), 10)
    except ValueError:
        raise ObjectMissing(
            f'strconv.Atoi: parsing "{text[:40]}": invalid syntax '
            f"(ConfigMap {name!r}, key {key!r}: give the semaphore's limit as an integer)",
            not_found=False,
        ) from None
    if limit < 1:
        # Argo waits until the ConfigMap changes; a local run reads it once, so it would
        # wait forever (a local choice: say so now).
        raise ObjectMissing(
            f"Failed to get semaphore limit for {namespace}/ConfigMap/{name}/{key}: it is "
            f"{limit}, so nothing could ever hold it; set it to at least 1",
            not_found=False,
        )
    return limit
