"""What a pod reads from ConfigMaps and Secrets: environment variables and volume files.

On a cluster the kubelet resolves these when it starts the pod's container:
``env[].valueFrom.configMapKeyRef``/``secretKeyRef``, ``envFrom`` (``configMapRef``
/``secretRef`` with a ``prefix``) and ``configMap``/``secret`` volumes (``items``,
``defaultMode``, per-item ``mode``); each may be ``optional``. A missing object
or key keeps the pod from starting (``CreateContainerConfigError``, or a volume
that cannot be set up) and the node Pending; locally the node ends in Error
with the kubelet's message and what to do locally, since no one will create the
object while the run waits.

The values only live in the step's process environment and in a private
directory of files per attempt (see ``HostPods``) — never in the node record,
the store, the engine's logs or a message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from clusterforge.engine.local.kubelet_expansion import expand
from clusterforge.engine.local.values import parameter_text
from clusterforge.engine.objects import KubeObject, ObjectMissing, Objects

__all__ = ["ObjectFile", "needs_objects", "object_env", "object_volumes"]

JSON = dict[str, Any]
_KINDS = {"configMapKeyRef": "ConfigMap", "secretKeyRef": "Secret"}
_FROM = {"configMapRef": "ConfigMap", "secretRef": "Secret"}
_VOLUMES = {"configMap": ("ConfigMap", "name"), "secret": ("Secret", "secretName")}
_DEFAULT_MODE = 0o644  # Kubernetes' default for both kinds


@dataclass(frozen=True)
class ObjectFile:
    """One file of a ConfigMap/Secret volume: its path in the volume, content and mode."""

    path: str
    data: bytes
    mode: int


def needs_objects(body: Mapping[str, Any], volumes: Sequence[Mapping[str, Any]]) -> bool:
    """Whether a pod reads any ConfigMap or Secret (most do not: skip the work)."""
    if body.get("envFrom"):
        return True
    if any((e.get("valueFrom") or {}).keys() & _KINDS.keys() for e in body.get("env") or []):
        return True
    return any(v.keys() & _VOLUMES.keys() for v in volumes)


def object_env(body: Mapping[str, Any], objects: Objects | None, namespace: str) -> dict[str, str]:
    """The container's environment from ``envFrom`` then ``env`` (later wins, as the
    kubelet builds it): plain values (``$(VAR)`` expanded, see
    :mod:`~clusterforge.engine.local.kubelet_expansion`) and those read from
    ConfigMaps/Secrets (taken as they are)."""
    env: dict[str, str] = {}
    for source in body.get("envFrom") or []:
        for field, kind in _FROM.items():
            ref = source.get(field)
            if isinstance(ref, dict):
                found = _object(objects, kind, namespace, ref)
                prefix = str(source.get("prefix") or "")
                for key in found.data if found else ():
                    env[prefix + key] = found.text(key) if found else ""
    for item in body.get("env") or []:
        name = str(item.get("name", ""))
        if "value" in item and item["value"] is not None:
            # the kubelet expands $(VAR) in a value from the variables defined before it
            env[name] = expand(parameter_text(item["value"]), env)
            continue
        source = item.get("valueFrom") or {}
        for field, kind in _KINDS.items():
            ref = source.get(field)
            if isinstance(ref, dict):
                value = _key(objects, kind, namespace, ref)
                if value is not None:
                    env[name] = value.decode("utf-8", errors="replace")
    return env


def object_volumes(
    volumes: Sequence[Mapping[str, Any]],
    mounted: set[str],
    objects: Objects | None,
    namespace: str,
) -> dict[str, tuple[ObjectFile, ...]]:
    """The files of each mounted ``configMap``/``secret`` volume, by volume name."""
    out: dict[str, tuple[ObjectFile, ...]] = {}
    seen: set[str] = set()
    for volume in volumes:  # the template's own first: they hide spec.volumes of that name
        vname = str(volume.get("name", ""))
        if vname not in mounted or vname in seen:
            continue
        seen.add(vname)
        for field, (kind, name_field) in _VOLUMES.items():
            source = volume.get(field)
            if isinstance(source, dict):
                out[vname] = _volume_files(vname, kind, name_field, source, objects, namespace)
    return out


def _volume_files(
    vname: str, kind: str, name_field: str, source: JSON, objects: Objects | None, namespace: str
) -> tuple[ObjectFile, ...]:
    name = str(source.get(name_field, ""))
    ref = {"name": name, "optional": source.get("optional")}
    try:
        found = _object(objects, kind, namespace, ref)
    except ObjectMissing as err:
        raise ObjectMissing(f'MountVolume.SetUp failed for volume "{vname}" : {err}') from None
    if found is None:  # optional and absent: an empty volume
        return ()
    mode = _mode(source.get("defaultMode"), _DEFAULT_MODE)
    items = source.get("items")
    if not items:
        return tuple(ObjectFile(k, v, mode) for k, v in sorted(found.data.items()))
    files = []
    for item in items:
        key, path = str(item.get("key", "")), str(item.get("path", ""))
        if key not in found.data:
            if source.get("optional"):
                continue
            what = "config key" if kind == "ConfigMap" else "secret key"
            raise ObjectMissing(
                f'MountVolume.SetUp failed for volume "{vname}" : {kind.lower()} references '
                f"non-existent {what}: {key} (locally: add the key to {found.origin})"
            )
        files.append(ObjectFile(path, found.data[key], _mode(item.get("mode"), mode)))
    return tuple(files)


def _mode(value: object, default: int) -> int:
    return value if isinstance(value, int) and 0 <= value <= 0o777 else default


def _object(objects: Objects | None, kind: str, namespace: str, ref: JSON) -> KubeObject | None:
    """The object a reference names; ``None`` when optional and absent."""
    name = str(ref.get("name", ""))
    found = objects.get(kind, namespace, name) if objects is not None else None
    if found is None and not ref.get("optional"):
        fix = (objects or Objects()).fix(kind, name, namespace)
        raise ObjectMissing(f'{kind.lower()} "{name}" not found ({fix})')
    return found


def _key(objects: Objects | None, kind: str, namespace: str, ref: JSON) -> bytes | None:
    """A key's value; ``None`` when optional and absent (the variable is not set)."""
    found = _object(objects, kind, namespace, ref)
    key = str(ref.get("key", ""))
    if found is None:
        return None
    if key not in found.data:
        if ref.get("optional"):
            return None
        raise ObjectMissing(
            f"couldn't find key {key} in {kind} {namespace}/{found.name} "
            f"(locally: add the key to {found.origin})"
        )
    return found.data[key]
