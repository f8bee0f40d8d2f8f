"""A build's reports, logs and spec, kept in the configured artifact repository.

A build leaves its validation reports (``summary.json``, JUnit, TAP, one JSON
per check) in its artifacts directory and its step logs in the engine's run
directory — both on the machine that ran it. Publishing copies them into the
artifact repository the ``artifact-repositories`` document names (the local
directory when there is none), under the build's workflow prefix, with Argo's
log layout::

    <build>/spec.yaml                  the cluster spec the build was made from
    <build>/parameters.json            the workflow parameters it produced
    <build>/reports/<path>             everything under validation/ that is a report
    <build>/<node id>/main.log         each step's log (Argo: {{workflow.name}}/{{pod.name}})
    <build>/artifacts.json             the index, written last

Only report files are taken (by suffix), and any file whose name looks like a
credential (kubeconfig, key, token, secret…) is skipped, so a kubeconfig or a
secret never leaves the machine. The index is written last: a publish that
failed half-way is redone on the next call. Publishing happens when a build
ends (CLI and server), and again on demand when someone lists a finished
build that has no index yet.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO, Any

import yaml

from clusterforge.engine import Engine
from clusterforge.engine.artifacts import (
    ArtifactMissing,
    ArtifactRepository,
    Repositories,
    StoredObject,
    checked_key,
    log_key,
    open_repository,
    put_bytes,
    put_file,
)
from clusterforge.errors import NotFound
from clusterforge.stages.pipeline import Pipeline

INDEX = "artifacts.json"
REPORT_SUFFIXES = frozenset({".json", ".xml", ".tap", ".txt"})
_SECRET_NAME = re.compile(
    r"kubeconfig|credential|secret|token|passw|\.pem$|\.key$|id_rsa|\.p12$", re.IGNORECASE
)
_SECRET_FIELD = re.compile(r"password|secret|token|kubeconfig|credential", re.IGNORECASE)


def looks_secret(name: str) -> bool:
    """Whether a file name looks like it holds a credential (never uploaded)."""
    return bool(_SECRET_NAME.search(name))


class BuildArtifacts:
    """Publish, list and read the artifacts of the pipeline's builds."""

    def __init__(self, pipeline: Pipeline, repo: ArtifactRepository | None = None) -> None:
        self.pipeline = pipeline
        self.engine: Engine = pipeline.engine
        self.repo = repo if repo is not None else open_repository(Repositories.load().resolve())

    def publish(self, build_id: str) -> list[str]:
        """Copy the build's spec, reports and logs to the repository; the keys written."""
        record = self.pipeline.get_build(build_id)
        prefix = checked_key(record.id, "build")
        written: list[str] = []

        def put(key: str, data: bytes) -> None:
            put_bytes(self.repo, key, data)
            written.append(key)

        put(f"{prefix}/spec.yaml", yaml.safe_dump(_redacted(record.spec), sort_keys=False).encode())
        put(f"{prefix}/parameters.json", json.dumps(record.parameters, indent=2).encode())
        for path, relative in _reports(Path(record.artifacts_dir) / "validation"):
            key = f"{prefix}/reports/{relative}"
            put_file(self.repo, key, path)
            written.append(key)
        written += self._publish_logs(build_id, prefix)
        index = {"build": record.id, "phase": record.phase, "keys": written}
        put(f"{prefix}/{INDEX}", json.dumps(index, indent=2).encode())
        return written

    def _publish_logs(self, build_id: str, prefix: str) -> list[str]:
        view = self.engine.get(build_id)
        written = []
        for node in view.nodes.values():
            if node.type != "Pod":
                continue
            key = log_key(f"{prefix}/{checked_key(node.id, 'node')}")
            lines = 0
            with self.repo.writer(key) as out:
                for line in self.engine.logs(build_id, node.id):
                    out.write(line.text.encode() + b"\n")
                    lines += 1
            if lines:
                written.append(key)
            else:
                self.repo.delete(key)
        return written

    def ensure_published(self, build_id: str) -> None:
        """Publish a finished build that has no index yet (e.g. run by an older server)."""
        if self.repo.exists(f"{checked_key(build_id, 'build')}/{INDEX}"):
            return
        if self.engine.get(build_id).done:
            self.publish(build_id)

    def list(self, build_id: str, node: str | None = None) -> list[StoredObject]:
        """The build's objects, or one node's (by id, name or display name)."""
        self.pipeline.get_build(build_id)
        self.ensure_published(build_id)
        prefix = f"{checked_key(build_id, 'build')}/"
        if node is not None:
            found = self.engine.get(build_id).node(node)
            if found is None:
                raise NotFound(f"build {build_id!r} has no node {node!r}")
            prefix += f"{found.id}/"
        return [o for o in self.repo.list(prefix) if o.key.startswith(prefix)]

    def reader(self, build_id: str, path: str) -> AbstractContextManager[IO[bytes]]:
        """One object of the build, by its path under the build's prefix."""
        self.pipeline.get_build(build_id)
        self.ensure_published(build_id)
        key = checked_key(f"{checked_key(build_id, 'build')}/{path}", "path")
        if not self.repo.exists(key):
            raise ArtifactMissing(f"build {build_id!r} has no artifact {path!r}")
        return self.repo.reader(key)


def _reports(root: Path) -> Iterator[tuple[Path, str]]:
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if (
            path.is_file()
            and not path.is_symlink()
            and path.suffix in REPORT_SUFFIXES
            and not looks_secret(relative)
        ):
            yield path, relative


def _redacted(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: "<redacted>" if _SECRET_FIELD.search(str(k)) else _redacted(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value
