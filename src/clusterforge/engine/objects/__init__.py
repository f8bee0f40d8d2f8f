"""ConfigMaps and Secrets for a local run: from manifest files, or from a cluster.

On Argo, ``configMapKeyRef``, ``secretKeyRef``, ``envFrom`` and ``configMap``/
``secret`` volumes read objects of the workflow's namespace. A local run gets
them from

* manifest files: ``clusterforge run --objects FILE`` (repeatable; a file or a
  directory of ``*.yaml``), or else ``objects.yaml`` (or an ``objects/``
  directory) in the engine's data directory when there is one — the way
  ``artifact-repositories.yaml`` is found there;
* the cluster the run is given (``--kubeconfig``/``--namespace``,
  :mod:`clusterforge.engine.cluster`).

The files are checked at submission (a bad manifest is one
:class:`~clusterforge.errors.InvalidInput` naming the file, the document and
the field; nothing is stored) and recorded in the stored workflow by *path*
(the annotation :data:`OBJECTS_ANNOTATION`), never by content: a detached run,
``resume`` and ``retry`` read the same files again, and a Secret's value is
never written to the store.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from clusterforge.engine.objects._lookup import ObjectMissing, Objects
from clusterforge.engine.objects._manifests import KubeObject, load_files
from clusterforge.errors import InvalidInput

__all__ = [
    "OBJECTS_ANNOTATION",
    "KubeObject",
    "ObjectMissing",
    "Objects",
    "annotate_objects",
    "object_files",
    "objects_of",
]

OBJECTS_ANNOTATION = "workflows.clusterforge.io/objects"
"""The stored workflow's annotation: a JSON list of the manifest files' absolute paths."""

_DEFAULTS = ("objects.yaml", "objects")


def object_files(given: Sequence[str | Path], home: Path) -> tuple[str, ...]:
    """The files a submission reads objects from, checked: ``given`` (``--objects``), or
    the data directory's default when none is given; absolute paths."""
    if given:
        chosen = [Path(p).expanduser().absolute() for p in given]
    else:
        chosen = [home / d for d in _DEFAULTS if (home / d).exists()][:1]
    load_files(chosen, "--objects" if given else "objects file")  # refuse bad files now
    return tuple(str(p) for p in chosen)


def annotate_objects(manifest: dict[str, Any], files: Sequence[str]) -> None:
    """Record the files in a workflow manifest about to be stored (dropping any the
    document carried itself: only the submission names files to read)."""
    meta = manifest.setdefault("metadata", {})
    if isinstance(meta.get("annotations"), dict):
        meta["annotations"].pop(OBJECTS_ANNOTATION, None)
    if files:
        meta.setdefault("annotations", {})[OBJECTS_ANNOTATION] = json.dumps(list(files))


def objects_of(manifest: Mapping[str, Any]) -> tuple[str, ...]:
    """The manifest files a stored workflow reads objects from."""
    annotations = (manifest.get("metadata") or {}).get("annotations") or {}
    raw = annotations.get(OBJECTS_ANNOTATION)
    if not isinstance(raw, str):
        return ()
    try:
        files = json.loads(raw)
    except ValueError:
        raise InvalidInput(f"annotation {OBJECTS_ANNOTATION}: not a JSON list") from None
    return tuple(str(f) for f in files) if isinstance(files, list) else ()
