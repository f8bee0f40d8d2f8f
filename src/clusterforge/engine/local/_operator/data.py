"""A ``data`` template: list an artifact location, transform the list, ``outputs.result``.

Argo runs it in a pod (``argoexec data``, workflow/executor/data.go and
workflow/data/data.go); the local engine does it in the engine itself, with the
same rules:

- ``source.artifactPaths`` is the only source: an artifact whose objects are
  listed — every key under ``s3.key`` (as a folder: ``key/``; the whole
  repository when there is no key), recursively, folder placeholders (keys
  ending in ``/``) skipped, as Argo's S3 driver lists them. An ``s3`` with a
  bucket of its own is listed there; a key-only ``s3`` (or none) lists the
  workflow's artifact repository — the local directory by default;
- each ``transformation`` step's ``expression`` runs with the list (then the
  previous step's value) as ``data``, in order;
- the last value, as Go's ``json.Marshal`` writes it, is ``outputs.result``.

A failure ends the node Failed with Argo's wording ("unable to process data
template: …"), as the failing main container of Argo's data pod does. The
listing is capped at :data:`MAX_OBJECTS` keys so a bucket cannot exhaust memory.
"""

from __future__ import annotations

import asyncio
import posixpath
from typing import Any

from clusterforge.engine.artifacts import (
    ArtifactFailure,
    ArtifactRepository,
    RepositoryError,
    own_bucket,
    own_location,
)
from clusterforge.engine.local._operator.context import Call, Context
from clusterforge.engine.local._operator.runtime import Runtime
from clusterforge.engine.local.values import substitute_tree
from clusterforge.errors import InvalidInput
from clusterforge.store import NodeRecord
from clusterforge.workflow.expressions import ExpressionError, evaluate_value, go_json

__all__ = ["MAX_OBJECTS", "DataFailed", "run_data"]

JSON = dict[str, Any]
MAX_OBJECTS = 100_000
_PREFIX = "unable to process data template"


class DataFailed(Exception):
    """The data template could not be processed; the message says why (Argo's wording)."""


async def run_data(
    rt: Runtime, name: str, display: str, call: Call, inputs: dict[str, str], ctx: Context
) -> NodeRecord:
    """A data node (a Pod, as Argo): substitute, list, transform, record the result."""
    journal = rt.journal
    node, values = rt.leaf_node(name, display, "Pod", call, inputs, ctx)
    try:
        spec = substitute_tree(call.template["data"] or {}, values)
    except ExpressionError as err:
        return journal.finish(node, "Error", str(err))
    await journal.durable()
    try:
        listed = await asyncio.to_thread(_source, rt, spec.get("source") or {})
        result = go_json(transform(listed, spec.get("transformation") or []))
    except DataFailed as err:
        return journal.finish(node, "Failed", f"{_PREFIX}: {err}")
    except ValueError as err:  # json.Marshal refused a value (NaN, ±Inf)
        return journal.finish(node, "Failed", f"{_PREFIX}: {err}")
    node.outputs = {"result": result}
    return journal.finish(node, "Succeeded", "")


def transform(data: object, steps: list[JSON]) -> object:
    """Argo's ``processTransformation``: each step's expression over ``data``, in order."""
    for index, step in enumerate(steps):
        expression = str((step or {}).get("expression") or "")
        if not expression:
            continue
        try:
            data = evaluate_value(
                expression, {"data": data}, language=f"data.transformation[{index}].expression"
            )
        except ExpressionError as err:
            raise DataFailed(
                f"unable to process data transformation: error processing data step {index}: {err}"
            ) from None
    return data


def _source(rt: Runtime, source: JSON) -> list[str]:
    """The keys ``source.artifactPaths`` names (Argo's ``ProcessArtifactPaths``)."""
    artifact = source.get("artifactPaths")
    if artifact is None:
        raise DataFailed(
            "unable to process data source: no valid source is used for data template "
            "(data.source.artifactPaths is the only source)"
        )
    try:
        repo, key = _located(rt, artifact)
        return list_keys(repo, key)
    except (ArtifactFailure, RepositoryError, InvalidInput) as err:
        raise DataFailed(
            f"unable to process data source: unable to source artifact paths: {err}"
        ) from None


def _located(rt: Runtime, artifact: JSON) -> tuple[ArtifactRepository, str]:
    kinds = [
        k for k in ("gcs", "git", "http", "hdfs", "oss", "azure", "artifactory") if artifact.get(k)
    ]
    if kinds:
        raise DataFailed(
            f"unable to process data source: artifactPaths.{kinds[0]}: the local engine lists "
            "only s3 locations and the workflow's artifact repository"
        )
    key = str((artifact.get("s3") or {}).get("key") or "")
    if own_location(artifact, "data.source.artifactPaths") is not None:
        return own_bucket(artifact), key
    if rt.artifacts is None:
        raise DataFailed("unable to process data source: the run has no artifact repository")
    return rt.artifacts.repo(), key


def list_keys(repo: ArtifactRepository, key: str) -> list[str]:
    """Every object key under ``key`` as a folder (all of them for no key), sorted."""
    prefix = posixpath.normpath(key).lstrip("/") + "/" if key.strip("/") else ""
    keys: list[str] = []
    for stored in repo.list(prefix):
        if stored.key.endswith("/"):
            continue  # a folder placeholder, as Argo's S3 driver skips
        if len(keys) == MAX_OBJECTS:
            raise DataFailed(
                f"unable to process data source: more than {MAX_OBJECTS:,} objects under "
                f"{prefix or 'the repository root'}; give artifactPaths a narrower s3.key"
            )
        keys.append(stored.key)
    return sorted(keys)
