"""Rendered manifests as data: parse, label, name and print Kubernetes objects.

Whatever an add-on comes from — one of our charts, a user's chart, kustomize,
plain files — it ends as a list of objects, and clusterforge treats them all
the same way: every object gets the label ``clusterforge.dev/addon=<name>``
so an uninstall can find everything an install created (across kinds and
namespaces) without keeping any release state in the cluster or on disk.
The label is added here, after rendering, rather than in each chart, so a
user's chart that knows nothing of clusterforge is labelled too.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from clusterforge.errors import InvalidInput
from clusterforge.safety import load_yaml_documents

__all__ = [
    "ADDON_LABEL",
    "FIELD_MANAGER",
    "KEEP_LABEL",
    "SHARED_NAMESPACES",
    "ObjectRef",
    "dump_manifest",
    "label_objects",
    "namespace_object",
    "parse_manifest",
]

#: Every object an add-on install creates carries ``<ADDON_LABEL>: <add-on name>``.
ADDON_LABEL = "clusterforge.dev/addon"
#: Objects labelled ``<KEEP_LABEL>: keep`` survive an uninstall (e.g. CRDs on request).
KEEP_LABEL = "clusterforge.dev/uninstall"
#: The server-side apply field manager that owns the fields clusterforge sets.
FIELD_MANAGER = "clusterforge"
#: Namespaces an install uses but never creates or deletes.
SHARED_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})

Obj = dict[str, Any]


@dataclass(frozen=True, order=True)
class ObjectRef:
    """One object of an add-on: ``kind.group/name`` in ``namespace``.

    ``namespace`` is None for cluster-scoped objects, and for namespaced
    objects a user's manifest left unqualified (they go to the add-on's
    namespace).
    """

    api_version: str
    kind: str
    name: str
    namespace: str | None = None

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    def __str__(self) -> str:
        kind = f"{self.kind}.{self.group}" if self.group else self.kind
        where = f" in {self.namespace}" if self.namespace else ""
        return f"{kind}/{self.name}{where}"

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> ObjectRef:
        meta = obj.get("metadata") or {}
        return cls(
            str(obj["apiVersion"]), str(obj["kind"]), str(meta["name"]), meta.get("namespace")
        )


def parse_manifest(text: str, *, source: str) -> list[Obj]:
    """The objects of a multi-document YAML (or JSON) text; ``List`` kinds are flattened.

    Raises InvalidInput naming ``source`` and the document when a document is
    not a Kubernetes object clusterforge can apply (server-side apply needs an
    apiVersion, a kind and a fixed metadata.name).
    """
    try:
        documents = load_yaml_documents(text, source)
    except yaml.YAMLError as err:
        raise InvalidInput(f"{source}: not valid YAML: {err}") from err
    objects: list[Obj] = []
    for index, doc in enumerate(documents):
        if doc is None:
            continue
        for obj in _flatten(doc):
            _check_object(obj, f"{source}, document {index + 1}")
            objects.append(obj)
    return objects


def _flatten(doc: Any) -> Iterable[Any]:
    if isinstance(doc, dict) and str(doc.get("kind", "")).endswith("List") and "items" in doc:
        for item in doc.get("items") or []:
            yield from _flatten(item)
    else:
        yield doc


def _check_object(obj: Any, where: str) -> None:
    if not isinstance(obj, dict):
        raise InvalidInput(f"{where}: expected a Kubernetes object (a mapping), got {obj!r:.60}")
    for field in ("apiVersion", "kind"):
        if not isinstance(obj.get(field), str) or not obj[field]:
            raise InvalidInput(f"{where}: the object has no '{field}'; every object needs one")
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str) or not meta["name"]:
        hint = (
            " (generateName is not supported: re-applying would create a new object each time)"
            if isinstance(meta, dict) and "generateName" in meta
            else ""
        )
        raise InvalidInput(
            f"{where}: {obj['kind']} has no metadata.name; give it a fixed name{hint}"
        )


def label_objects(objects: Iterable[Obj], addon: str) -> list[Obj]:
    """Copies of ``objects`` with ``ADDON_LABEL: addon`` in their metadata labels."""
    labelled = []
    for obj in objects:
        copied = copy.deepcopy(obj)
        meta = copied.setdefault("metadata", {})
        labels = meta.get("labels") or {}
        labels[ADDON_LABEL] = addon
        meta["labels"] = labels
        labelled.append(copied)
    return labelled


def namespace_object(name: str) -> Obj:
    """A bare Namespace object, which an install creates for the add-on's own namespace."""
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


class _Dumper(yaml.SafeDumper):
    """Writes multi-line strings (Corefiles, configs) as readable ``|`` blocks."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value and not _has_trailing_space(value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _has_trailing_space(value: str) -> bool:
    # YAML block scalars cannot keep trailing spaces on a line; quote those strings.
    return any(line != line.rstrip(" \t") for line in value.split("\n"))


_Dumper.add_representer(str, _represent_str)


def dump_manifest(objects: Iterable[Obj]) -> str:
    """A multi-document YAML text of ``objects``, in order."""
    return yaml.dump_all(
        list(objects),
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        explicit_start=True,
        width=1000,
    )
