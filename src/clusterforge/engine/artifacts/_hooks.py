"""Argo's artifact semantics for one attempt, as calls the operator makes.

The operator calls, per attempt of a ``container``/``script`` template:

* before the process starts — :func:`stage_inputs` places every input
  artifact at its ``path`` (mapped onto the host by the operator's
  ``host_path``); a missing non-optional artifact raises
  :class:`ArtifactFailure`, and the node fails with its message;
* after the process ends (whatever its exit code, as Argo's wait container
  does) — :func:`collect_outputs` stores every output artifact and returns
  the entries of ``node.outputs.artifacts``; then, when
  :func:`archives_logs` says so, :func:`archive_logs` stores the attempt's
  log as ``main.log`` and returns the ``main-logs`` entry;
* when the workflow ends — :func:`garbage_keys` lists what ``artifactGC``
  says to delete, and :func:`collect_garbage` deletes it.

Everything here is a pure function of its arguments and a repository; it
knows nothing about nodes, processes or clusters. Input sources: ``from``
(a reference the operator resolves to an earlier output entry), ``raw.data``,
``s3`` (a key-only artifact against the workflow's repository, or a bucket
of its own), ``http.url``; plus ``subPath``, ``mode`` and ``optional``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from clusterforge.engine.artifacts._archive import DEFAULT_LEVEL, copy_into_place
from clusterforge.engine.artifacts._keys import log_key, output_key, render_key
from clusterforge.engine.artifacts._locations import location_entry, own_location
from clusterforge.engine.artifacts._repository import (
    ArtifactMissing,
    ArtifactRepository,
    RepositoryError,
)
from clusterforge.engine.artifacts._s3 import S3Repository
from clusterforge.engine.artifacts._transfer import get_path, place_stream, put_path
from clusterforge.errors import InvalidInput, OperationFailed

HostPath = Callable[[str], Path]
"""Maps a path as the step sees it (``/tmp/out``) to where it is on the host."""

RepositoryFor = Callable[[Mapping[str, Any]], ArtifactRepository]
"""Gives the repository of an artifact's explicit location (``s3`` with its own bucket)."""

LOG_ARTIFACT = "main-logs"
_REFERENCE = re.compile(r"^\{\{\s*([A-Za-z0-9_.\-]+)\s*\}\}$")
_HTTP_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


class ArtifactFailure(OperationFailed):
    """An artifact could not be placed or stored; the node fails with this message."""


def reference_name(text: str) -> str:
    """``{{tasks.a.outputs.artifacts.b}}`` → ``tasks.a.outputs.artifacts.b``."""
    match = _REFERENCE.match(text.strip())
    if match is None:
        raise ArtifactFailure(f"from: {text!r} is not a single '{{{{…}}}}' reference")
    return match.group(1)


def merge_arguments(
    declared: Sequence[Mapping[str, Any]], supplied: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """A template's ``inputs.artifacts`` with the caller's ``arguments.artifacts`` on top."""
    by_name = {str(a["name"]): dict(a) for a in supplied}
    merged = []
    for item in declared:
        override = by_name.get(str(item["name"]), {})
        merged.append({**item, **{k: v for k, v in override.items() if k != "path"}})
    return merged


def path_values(
    inputs: Sequence[Mapping[str, Any]], outputs: Sequence[Mapping[str, Any]]
) -> dict[str, str]:
    """``{{inputs.artifacts.X.path}}`` and ``{{outputs.artifacts.X.path}}`` values."""
    values = {}
    for kind, items in (("inputs", inputs), ("outputs", outputs)):
        for item in items:
            if item.get("path"):
                values[f"{kind}.artifacts.{item['name']}.path"] = str(item["path"])
    return values


def _placed(host_path: HostPath, path: str, field: str) -> Path:
    """``host_path(path)``, or an :class:`ArtifactFailure` naming ``field`` when the
    path would lead out of the step's /tmp or working directory."""
    try:
        return host_path(path)
    except InvalidInput as err:
        raise ArtifactFailure(f"{field}: {err}") from None


def stage_inputs(
    repo: ArtifactRepository,
    artifacts: Sequence[Mapping[str, Any]],
    *,
    host_path: HostPath,
    produced: Mapping[str, Mapping[str, Any]],
    values: Mapping[str, str],
    repository_for: RepositoryFor | None = None,
) -> None:
    """Place every input artifact (already merged with the call's arguments).

    ``produced`` maps reference names (``tasks.X.outputs.artifacts.Y``,
    ``steps.…``, ``workflow.outputs.artifacts.G``, ``inputs.artifacts.Z``) to
    entries :func:`collect_outputs` returned.
    """
    for art in artifacts:
        name = str(art["name"])
        path = art.get("path")
        if not path:
            raise ArtifactFailure(f"inputs.artifacts.{name}.path is required to place it")
        dest = _placed(host_path, str(path), f"inputs.artifacts.{name}.path")
        try:
            own_location(art, f"inputs.artifacts.{name}")  # a partial location is refused
        except InvalidInput as err:
            raise ArtifactFailure(str(err)) from None
        mode = int(art["mode"]) if art.get("mode") is not None else None
        try:
            _stage_one(repo, art, dest, mode, produced, values, repository_for)
        except ArtifactMissing as err:
            if art.get("optional"):
                continue
            raise ArtifactFailure(f"inputs.artifacts.{name}: {err}") from None
        except (RepositoryError, ArtifactFailure) as err:
            raise ArtifactFailure(f"inputs.artifacts.{name}: {err}") from None


def _stage_one(
    repo: ArtifactRepository,
    art: Mapping[str, Any],
    dest: Path,
    mode: int | None,
    produced: Mapping[str, Mapping[str, Any]],
    values: Mapping[str, str],
    repository_for: RepositoryFor | None,
) -> None:
    name = str(art["name"])
    sub_path = art.get("subPath")
    if art.get("raw") is not None:
        data = str((art["raw"] or {}).get("data", "")).encode()
        copy_into_place(io.BytesIO(data), dest, mode)
        return
    if art.get("from"):
        ref = reference_name(str(art["from"]))
        entry = produced.get(ref)
        if entry is None:
            raise ArtifactMissing(f"Unable to resolve: {{{{{ref}}}}}")
        source_repo, key = _located(repo, entry, repository_for)
        get_path(source_repo, key, dest, sub_path=sub_path, mode=mode)
        return
    if art.get("key") and art.get("repository"):
        # An output entry passed on by reference (resolved by the operator).
        source_repo, key = _located(repo, art, repository_for)
        get_path(source_repo, key, dest, sub_path=sub_path, mode=mode)
        return
    if art.get("s3") is not None:
        key = render_key(str(art["s3"].get("key", "")), values, f"inputs.artifacts.{name}.s3.key")
        source_repo, _ = _located(repo, art, repository_for)
        get_path(source_repo, key, dest, sub_path=sub_path, mode=mode)
        return
    if art.get("http") is not None:
        _fetch_http(art["http"], dest, sub_path)
        if mode is not None:
            dest.chmod(mode)
        return
    raise ArtifactMissing(f"inputs.artifacts.{name} was not supplied")


def _located(
    repo: ArtifactRepository, entry: Mapping[str, Any], repository_for: RepositoryFor | None
) -> tuple[ArtifactRepository, str]:
    s3 = entry.get("s3") or {}
    key = str(entry.get("key") or s3.get("key") or "")
    # An entry collect_outputs wrote names its repository; one that names a
    # location of its own (endpoint and bucket) is read from there.
    if entry.get("repository") == repo.name:
        return repo, key
    if own_location(entry, f"artifacts.{entry.get('name', '?')}") is not None:
        return (repository_for or own_bucket)(entry), key
    return repo, key


def own_bucket(art: Mapping[str, Any]) -> ArtifactRepository:
    """The S3 repository of an artifact that names its own location (not key-only)."""
    field = f"artifacts.{art.get('name', '?')}.s3"
    try:
        config = own_location(art, f"artifacts.{art.get('name', '?')}")
    except InvalidInput as err:
        raise ArtifactFailure(str(err)) from None
    if config is None:
        raise ArtifactFailure(f"{field}: no endpoint and bucket of its own")
    return S3Repository(field, config)


def _fetch_http(spec: Mapping[str, Any], dest: Path, sub_path: str | None) -> None:
    url = str(spec.get("url", ""))
    if not url.startswith(("http://", "https://")):
        raise ArtifactFailure(f"http.url {url!r} must be an http(s) URL")
    headers = {str(h["name"]): str(h.get("value", "")) for h in spec.get("headers") or []}
    try:
        with httpx.stream("GET", url, headers=headers, timeout=_HTTP_TIMEOUT) as response:
            if response.status_code == 404:
                raise ArtifactMissing(f"{url}: 404 Not Found")
            if response.status_code >= 400:
                raise ArtifactFailure(f"{url}: HTTP {response.status_code}")
            place_stream(_HttpStream(response.iter_raw()), dest, sub_path=sub_path)
    except httpx.HTTPError as err:
        raise ArtifactFailure(f"{url}: {type(err).__name__}: {err}") from None


def collect_outputs(
    repo: ArtifactRepository,
    artifacts: Sequence[Mapping[str, Any]],
    *,
    prefix: str,
    host_path: HostPath,
    values: Mapping[str, str],
    repository_for: RepositoryFor | None = None,
) -> list[dict[str, Any]]:
    """Store every output artifact; the entries for ``node.outputs.artifacts``.

    An artifact naming its own location (:func:`._locations.own_location`) is
    stored there, under its ``s3.key`` or the attempt's key.

    ``prefix`` is the attempt's rendered ``keyFormat`` (:func:`._keys.key_prefix`).
    A missing path fails unless the artifact is ``optional`` (then it is skipped).
    """
    entries: list[dict[str, Any]] = []
    for art in artifacts:
        name = str(art["name"])
        path = str(art.get("path") or "")
        if not path:
            raise ArtifactFailure(f"outputs.artifacts.{name}.path is required")
        source = _placed(host_path, path, f"outputs.artifacts.{name}.path")
        if not source.exists():
            if art.get("optional"):
                continue
            raise ArtifactFailure(
                f"outputs.artifacts.{name}: path {path} does not exist "
                "(write it, or mark the artifact optional)"
            )
        archived, level = archive_strategy(art.get("archive"))
        explicit = (art.get("s3") or {}).get("key")
        if explicit:
            key = render_key(str(explicit), values, f"outputs.artifacts.{name}.s3.key")
        else:
            key = output_key(prefix, name, path, archived)
        own = own_location(art, f"outputs.artifacts.{name}") is not None
        target = (repository_for or own_bucket)(art) if own else repo
        try:
            put_path(target, key, source, archived=archived, level=level)
        except RepositoryError as err:
            raise ArtifactFailure(f"outputs.artifacts.{name}: {err}") from None
        where = location_entry(art, key, target.name) if own else repo.location(key)
        entry: dict[str, Any] = {"name": name, "path": path, **where}
        for field in ("globalName", "archive", "artifactGC"):
            if art.get(field) is not None:
                entry[field] = art[field]
        entries.append(entry)
    return entries


def archive_strategy(archive: Mapping[str, Any] | None) -> tuple[bool, int]:
    """(archived as tar+gzip?, gzip level) for an artifact's ``archive`` field."""
    if not archive or "tar" in archive:
        tar = (archive or {}).get("tar") or {}
        level = tar.get("compressionLevel")
        return True, DEFAULT_LEVEL if level is None else int(level)
    if "none" in archive:
        return False, 0
    raise ArtifactFailure(
        f"archive {sorted(archive)}: only 'tar' and 'none' are supported locally (not zip)"
    )


def global_entries(entries: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """``workflow.outputs.artifacts.<globalName>`` references of collected outputs."""
    return {
        f"workflow.outputs.artifacts.{e['globalName']}": dict(e)
        for e in entries
        if e.get("globalName")
    }


def archives_logs(
    controller: bool, workflow: bool | None, template: bool | None, repository: bool = False
) -> bool:
    """Argo's priority: controller (or repository) on > template > workflow spec."""
    if controller or repository:
        return True
    if template is not None:
        return template
    return bool(workflow)


def archive_logs(repo: ArtifactRepository, prefix: str, logs: Sequence[Path]) -> dict[str, Any]:
    """Store the attempt's logs (concatenated, in order) as ``<prefix>/main.log``."""
    key = log_key(prefix)
    with repo.writer(key) as out:
        for path in logs:
            try:
                with path.open("rb") as handle:
                    while chunk := handle.read(1 << 20):
                        out.write(chunk)
            except FileNotFoundError:
                continue
    return {"name": LOG_ARTIFACT, **repo.location(key)}


def garbage_keys(
    entries: Iterable[Mapping[str, Any]], workflow_gc: Mapping[str, Any] | None, event: str
) -> list[str]:
    """Keys ``artifactGC`` deletes on ``event`` (``OnWorkflowCompletion``/``…Deletion``)."""
    default = str((workflow_gc or {}).get("strategy") or "Never")
    keys = []
    for entry in entries:
        strategy = str((entry.get("artifactGC") or {}).get("strategy") or default)
        key = entry.get("key") or (entry.get("s3") or {}).get("key")
        if strategy == event and key:
            keys.append(str(key))
    return keys


def collect_garbage(repo: ArtifactRepository, keys: Iterable[str]) -> int:
    """Delete every object under each key (a file, or a directory's objects)."""
    deleted = 0
    for key in keys:
        for item in list(repo.list(key)):
            if item.key == key or item.key.startswith(key.rstrip("/") + "/"):
                repo.delete(item.key)
                deleted += 1
    return deleted


class _HttpStream:
    """A ``read(n)`` file over an iterator of byte chunks."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            size = len(self._buffer)
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out
