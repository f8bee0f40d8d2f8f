"""Artifacts in a workflow run: Argo's references between nodes, and one
repository per run.

A node's output artifacts are entries (``{name, path, key, repository}`` or
``{…, s3: {bucket, key}}``) kept in its ``outputs.artifacts``. Other nodes see
them as ``tasks.X.outputs.artifacts.Y`` / ``steps.X.…`` /
``inputs.artifacts.Z`` / ``workflow.outputs.artifacts.G`` variables whose value
is the entry as JSON text, so they travel through the same ``dict[str, str]``
scopes as parameters. A call's ``arguments.artifacts`` are resolved in the
caller's scope (``from`` → the entry; ``s3.key``, ``raw.data``, ``http.url``
substituted, loop items included), merged into the template's
``inputs.artifacts`` (:func:`template_inputs`), and placed by the pod before
its process starts (:class:`RunArtifacts`).

Argo does not aggregate the artifacts of a loop's children into the loop's
scope (``processAggregateNodeOutputs`` handles parameters and results only);
loops fan in through key-only artifacts (a later input reads the key prefix
the children wrote under as a directory), as Argo's ``map-reduce`` does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from clusterforge.engine.artifacts import (
    ArtifactFailure,
    ArtifactRepository,
    Repositories,
    RepositoryConfig,
    RepositoryError,
    archive_logs,
    archives_logs,
    collect_garbage,
    collect_outputs,
    garbage_keys,
    key_prefix,
    key_values,
    merge_arguments,
    open_repository,
    own_bucket,
    own_location,
    reference_name,
    stage_inputs,
)
from clusterforge.engine.artifacts import LocalConfig as _LocalConfig
from clusterforge.engine.local._operator.errors import InputError
from clusterforge.errors import InvalidInput, UserError
from clusterforge.workflow.expressions import ExpressionError, substitute

JSON = dict[str, Any]
ARTIFACTS_INFIX = ".outputs.artifacts."
_LOCATED = ("key", "s3", "raw", "http", "repository")


def entry_vars(prefix: str, entries: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """``<prefix>.outputs.artifacts.<name>`` → the entry as JSON text."""
    return {f"{prefix}{ARTIFACTS_INFIX}{e['name']}": json.dumps(dict(e)) for e in entries}


def input_vars(artifacts: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """``inputs.artifacts.X`` (the entry, for ``from``) and ``….X.path`` placeholders."""
    values = {}
    for art in artifacts:
        values[f"inputs.artifacts.{art['name']}"] = json.dumps(dict(art))
        if art.get("path"):
            values[f"inputs.artifacts.{art['name']}.path"] = str(art["path"])
    return values


def output_path_vars(template: Mapping[str, Any]) -> dict[str, str]:
    """``{{outputs.artifacts.X.path}}`` and ``{{outputs.parameters.X.path}}`` placeholders."""
    outputs = template.get("outputs") or {}
    values = {}
    for art in outputs.get("artifacts") or []:
        if art.get("path"):
            values[f"outputs.artifacts.{art['name']}.path"] = str(art["path"])
    for param in outputs.get("parameters") or []:
        path = (param.get("valueFrom") or {}).get("path")
        if path:
            values[f"outputs.parameters.{param['name']}.path"] = str(path)
    return values


def resolve_reference(art: Mapping[str, Any], values: Mapping[str, str]) -> JSON | None:
    """The entry ``art['from']`` (or ``fromExpression``) names in ``values``; None when
    it is absent and optional. A required one that cannot be resolved fails with
    Argo's message."""
    if art.get("fromExpression"):
        ref = str(art["fromExpression"])
        found = _expression_entry(art, values)
    else:
        ref = reference_name(str(art["from"]))
        found = values.get(ref)
    if found is None:
        if art.get("optional"):
            return None
        raise InputError(f'Unable to resolve: "{ref}"')
    try:
        entry: JSON = json.loads(found)
    except ValueError:
        raise InputError(f"Variable {{{{{ref}}}}} is not an artifact") from None
    if not isinstance(entry, dict):
        raise InputError(f"Variable {{{{{ref}}}}} is not an artifact")
    entry = {k: v for k, v in entry.items() if k not in ("globalName", "path", "artifactGC")}
    entry["name"] = art["name"]
    for field in ("subPath", "optional", "mode"):
        if art.get(field) is not None:
            entry[field] = art[field]
    return entry


def _expression_entry(art: Mapping[str, Any], values: Mapping[str, str]) -> str | None:
    """``fromExpression`` evaluated as Argo does (expr over the caller's scope, in which
    an artifact is its entry): the chosen entry's JSON text; None when it chose none."""
    try:
        text = substitute("{{=" + str(art["fromExpression"]) + "}}", values, missing="error")
    except ExpressionError as err:
        if art.get("optional"):
            return None
        raise InputError(f"artifacts.{art.get('name')}.fromExpression: {err}") from None
    return text if text not in ("", "<nil>", "null") else None


def resolve_arguments(task: Mapping[str, Any], values: Mapping[str, str]) -> list[JSON]:
    """A call's ``arguments.artifacts`` in the caller's scope."""
    resolved: list[JSON] = []
    for art in (task.get("arguments") or {}).get("artifacts") or []:
        if art.get("from") or art.get("fromExpression"):
            entry = resolve_reference(art, values)
            if entry is not None:
                resolved.append(entry)
            continue
        resolved.append(substituted(art, values))
    return resolved


def substituted(art: Mapping[str, Any], values: Mapping[str, str]) -> JSON:
    """An artifact with its templated strings (``s3.key``, ``raw.data``, ``http.url``) filled."""
    text = json.dumps(dict(art))
    if "{{" not in text:
        return dict(art)
    out: JSON = json.loads(text)
    for section, field in (("s3", "key"), ("raw", "data"), ("http", "url")):
        body = out.get(section)
        if isinstance(body, dict) and isinstance(body.get(field), str):
            try:
                body[field] = substitute(body[field], values, missing="error")
            except ExpressionError as err:
                raise InputError(f"artifacts.{art.get('name')}.{section}.{field}: {err}") from None
    return out


def template_inputs(template: Mapping[str, Any], supplied: Sequence[JSON]) -> list[JSON]:
    """The template's ``inputs.artifacts`` with the call's on top, checked as Argo does."""
    declared = (template.get("inputs") or {}).get("artifacts") or []
    if not declared:
        return []
    merged = merge_arguments(declared, supplied)
    for art in merged:
        if not art.get("optional") and not any(art.get(f) for f in _LOCATED):
            if art.get("from"):
                continue  # resolved against the template's own scope when staged
            raise InputError(f"inputs.artifacts.{art['name']} was not supplied")
    return merged


def template_output_artifacts(template: Mapping[str, Any], values: Mapping[str, str]) -> list[JSON]:
    """A DAG's or steps' ``outputs.artifacts``: each ``from`` (or ``fromExpression``)
    one of its children."""
    entries: list[JSON] = []
    for art in (template.get("outputs") or {}).get("artifacts") or []:
        if not art.get("from") and not art.get("fromExpression"):
            continue
        entry = resolve_reference(art, values)
        if entry is not None:
            if art.get("globalName"):
                entry["globalName"] = art["globalName"]
            entries.append(entry)
    return entries


def has_artifacts(template: Mapping[str, Any]) -> bool:
    return bool(
        ((template.get("inputs") or {}).get("artifacts"))
        or ((template.get("outputs") or {}).get("artifacts"))
    )


class RunArtifacts:
    """The repository of one workflow run (opened on first use) and what was stored."""

    def __init__(self, spec: Mapping[str, Any], local_root: Path | None) -> None:
        self.spec = spec
        self._local_root = local_root
        self._config: RepositoryConfig | None = None
        self._repo: ArtifactRepository | None = None
        self._problem: str | None = None
        self.stored: list[JSON] = []

    def config(self) -> RepositoryConfig:
        if self._config is None and self._problem is None:
            try:
                config = Repositories.load().resolve(self.spec.get("artifactRepositoryRef"))
            except UserError as err:
                self._problem = str(err)
            else:
                self._config = self._rooted(config)
        if self._config is None:
            raise ArtifactFailure(f"artifact repository: {self._problem}")
        return self._config

    def _rooted(self, config: RepositoryConfig) -> RepositoryConfig:
        """The embedded default (or a local entry with no path) in this engine's home."""
        embedded = config.name == "local" or (config.local is not None and not config.local.path)
        if config.local is None or not embedded or self._local_root is None:
            return config
        return config.model_copy(update={"local": _LocalConfig(path=str(self._local_root))})

    def repo(self) -> ArtifactRepository:
        if self._repo is None:
            self._repo = open_repository(self.config())
        return self._repo

    def archives_logs(self, template: Mapping[str, Any]) -> bool:
        location = template.get("archiveLocation") or {}
        explicit = location.get("archiveLogs")
        workflow = self.spec.get("archiveLogs")
        if explicit is None and workflow is None:
            try:
                return self.config().archive_logs
            except ArtifactFailure:
                return False
        try:
            repository = self.config().archive_logs
        except ArtifactFailure:
            repository = False
        return archives_logs(False, workflow, explicit, repository)


class PodArtifacts:
    """What one attempt of a pod does with artifacts: place inputs, store outputs, logs."""

    def __init__(
        self,
        run: RunArtifacts,
        template: Mapping[str, Any],
        inputs: list[JSON],
        values: Mapping[str, str],
        pod_name: str,
    ) -> None:
        self.run, self.template, self.inputs = run, template, inputs
        self.values, self.pod_name = values, pod_name
        self.outputs: list[JSON] = (template.get("outputs") or {}).get("artifacts") or []
        self.logs = run.archives_logs(template)

    def needed(self) -> bool:
        return bool(self.inputs or self.outputs or self.logs)

    def stage(self, host_path: Any) -> None:
        """Place every input artifact; :class:`ArtifactFailure` says what is missing
        (or which output names a location it cannot have: before the step runs).

        A repository that cannot be opened or reached (a missing secret file, refused
        credentials) fails the attempt the same way, so its retryStrategy applies."""
        try:
            for art in self.outputs:
                own_location(art, f"outputs.artifacts.{art.get('name')}")
        except InvalidInput as err:
            raise ArtifactFailure(str(err)) from None
        if not self.inputs:
            return
        try:
            stage_inputs(
                self.run.repo(),
                self.inputs,
                host_path=host_path,
                produced={},
                values=self.values,
            )
        except (InvalidInput, RepositoryError) as err:
            raise ArtifactFailure(str(err)) from None

    def collect(self, host_path: Any, logs: Sequence[Path]) -> list[JSON]:
        """Store the outputs (and the log, when archived); the node's artifact entries.

        The log is archived even when an output could not be stored; any failure,
        the repository's included, is one :class:`ArtifactFailure` for the attempt."""
        if not (self.outputs or self.logs):
            return []
        entries: list[JSON] = []
        try:
            repo = self.run.repo()
            prefix = key_prefix(
                self.run.config().key_format, key_values(self.values, self.pod_name)
            )
            try:
                if self.outputs:
                    entries = collect_outputs(
                        repo, self.outputs, prefix=prefix, host_path=host_path, values=self.values
                    )
            finally:
                if self.logs:
                    entries.append(archive_logs(repo, prefix, logs))
                    self.run.stored.extend(entries[-1:])
        except (InvalidInput, RepositoryError) as err:
            raise ArtifactFailure(str(err)) from None
        self.run.stored.extend(e for e in entries if e.get("name") != "main-logs")
        return entries


def garbage_collect(run: RunArtifacts, event: str) -> int:
    """Delete what ``artifactGC`` says to on ``event``; how many objects went (from
    the workflow's repository, or an artifact's own location)."""
    deleted = 0
    own = [e for e in run.stored if _has_own_location(e)]
    for entry in own:
        deleted += collect_garbage(
            own_bucket(entry), garbage_keys([entry], run.spec.get("artifactGC"), event)
        )
    keys = garbage_keys([e for e in run.stored if e not in own], run.spec.get("artifactGC"), event)
    if keys:
        deleted += collect_garbage(run.repo(), keys)
    return deleted


def _has_own_location(entry: Mapping[str, Any]) -> bool:
    try:
        return own_location(entry, f"artifacts.{entry.get('name')}") is not None
    except InvalidInput:
        return False


def delete_garbage(
    spec: Mapping[str, Any], outputs: Sequence[Mapping[str, Any]], local_root: Path
) -> int:
    """``artifactGC`` with ``OnWorkflowDeletion``: what the deleted workflow's nodes
    stored (their ``outputs``) and that strategy names is deleted."""
    run = RunArtifacts(spec, local_root)
    run.stored = [dict(a) for out in outputs for a in out.get("artifacts") or []]
    run.stored = [a for a in run.stored if a.get("name") != "main-logs"]
    return garbage_collect(run, "OnWorkflowDeletion")


def pod_name(workflow_name: str, template_name: str, node_id: str) -> str:
    """Argo's pod name (v2): ``<workflow>-<template>-<hash of the node name>``."""
    if node_id == workflow_name or not template_name:
        return node_id
    return f"{workflow_name}-{template_name}-{node_id.rsplit('-', 1)[-1]}"
