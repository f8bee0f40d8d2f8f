"""The CLI's HTTP client: the same commands against a ``clusterforge serve``.

``--server URL`` (or ``CLUSTERFORGE_SERVER``) with ``CLUSTERFORGE_TOKEN``
turns ``list``, ``get``, ``logs -f``, ``retry``, ``stop`` — and ``build`` and
``stage`` — into calls to the API. :class:`RemoteEngine` answers with the same
objects as the local engine (:class:`~clusterforge.engine.WorkflowView` rebuilt
from Argo's status shape, :class:`~clusterforge.engine.LogLine`), so the
commands, the live tree and the output formats do not know which one they
talk to. An error answer becomes the same :class:`~clusterforge.errors.UserError`
the local call would raise, with the server's message.
"""

from __future__ import annotations

import builtins
import calendar
import json
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from clusterforge.engine import (
    LogLine,
    PlannedNode,
    Records,
    StopStrategy,
    Submission,
    WorkflowView,
)
from clusterforge.errors import InvalidInput, NotFound, OperationFailed, UpstreamFailed, UserError
from clusterforge.safety import check_yaml, loads_json, read_text
from clusterforge.store import NodeEvent, NodeRecord, WorkflowRecord

__all__ = ["RemoteEngine", "from_env", "view_from_argo"]

_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


def _ts(text: str | None) -> float | None:
    if not text:
        return None
    return float(calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ")))


def view_from_argo(doc: Mapping[str, Any]) -> WorkflowView:
    """A :class:`WorkflowView` from the Argo Workflow object the API returns."""
    meta = doc.get("metadata", {})
    status = doc.get("status", {})
    record = WorkflowRecord(
        id=meta.get("name", ""),
        name=meta.get("name", ""),
        namespace=meta.get("namespace", "default"),
        uid=meta.get("uid", ""),
        manifest={"spec": doc.get("spec", {})},
        labels=dict(meta.get("labels", {})),
        phase=status.get("phase", "Pending"),
        message=status.get("message", ""),
        created_at=_ts(meta.get("creationTimestamp")) or 0.0,
        started_at=_ts(status.get("startedAt")),
        finished_at=_ts(status.get("finishedAt")),
        outputs=status.get("outputs", {}),
    )
    raw_nodes: dict[str, Any] = status.get("nodes", {}) or {}
    parents = {child: nid for nid, n in raw_nodes.items() for child in n.get("children", [])}
    nodes = {
        nid: NodeRecord(
            workflow_id=record.id,
            id=nid,
            name=n.get("name", nid),
            display_name=n.get("displayName", nid),
            type=n.get("type", "Pod"),
            template_name=n.get("templateName", ""),
            phase=n.get("phase", "Pending"),
            message=n.get("message", ""),
            boundary_id=n.get("boundaryID", ""),
            parent_id=parents.get(nid, ""),
            children=list(n.get("children", [])),
            started_at=_ts(n.get("startedAt")),
            finished_at=_ts(n.get("finishedAt")),
            inputs=n.get("inputs", {}),
            outputs=n.get("outputs", {}),
        )
        for nid, n in raw_nodes.items()
    }
    return WorkflowView(record, nodes)


def _raise_for(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        response.read()
        error = response.json().get("error", {})
        message = error.get("message") or response.text
    except (ValueError, AttributeError, httpx.ResponseNotRead):
        message = f"HTTP {response.status_code}"
    status = response.status_code
    if status == 404:
        raise NotFound(message)
    if status in (401, 403):
        raise OperationFailed(f"{message} (set CLUSTERFORGE_TOKEN)")
    if status == 429:
        raise OperationFailed(f"{message} (Retry-After: {response.headers.get('retry-after')}s)")
    if 400 <= status < 500:
        raise InvalidInput(message)
    if status == 502:  # the server's artifact repository: named in the message
        raise UpstreamFailed(message)
    raise OperationFailed(f"the server failed: {message}")


def _local_only(what: str) -> InvalidInput:
    return InvalidInput(
        f"{what} works on this machine's engine only; drop --server (and CLUSTERFORGE_SERVER)"
    )


class RemoteEngine:
    """The :class:`~clusterforge.engine.Engine` of a ``clusterforge serve``, over its API.

    What the server's API does not offer (planning, snapshots, records, a
    non-following event read, resume) raises one clear error saying so.
    """

    kind = "remote"

    def __init__(self, server: str, token: str | None = None, *, timeout: float = 30.0) -> None:
        self.server = server.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = httpx.Client(
            base_url=self.server,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=10.0),
        )
        self.warnings: list[str] = []

    def close(self) -> None:
        self.client.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.HTTPError as err:
            raise OperationFailed(f"cannot reach {self.server}: {err}") from None
        _raise_for(response)
        return response.json()

    def _object(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        answer = self._call(method, path, **kwargs)
        if not isinstance(answer, dict):
            raise OperationFailed(f"{self.server}: unexpected answer to {method} {path}")
        return answer

    # -- the Engine operations ----------------------------------------------------

    @property
    def records(self) -> Records:
        raise _local_only("reading build records directly")

    def prepare(self, submission: Submission, *, check_generated: bool = True) -> WorkflowRecord:
        raise _local_only("checking a workflow without running it")

    def plan(self, submission: Submission) -> PlannedNode:
        raise _local_only("plan")

    def submit(self, submission: Submission, *, detach: bool = False) -> WorkflowView:
        raise _local_only("run")

    def summary(self, workflow_id: str) -> WorkflowView:
        return self.get(workflow_id)

    def exists(self, workflow_id: str) -> bool:
        try:
            self.get(workflow_id)
        except NotFound:
            return False
        return True

    def events(self, workflow_id: str, *, after: int = 0) -> builtins.list[NodeEvent]:
        raise _local_only("reading node events (use GET /api/v1/builds/ID/events)")

    def watch(self, workflow_id: str, *, after: int = 0) -> Iterator[NodeEvent]:
        raise _local_only("watching node events (use GET /api/v1/builds/ID/events)")

    def changes(self, after: int | None = None) -> tuple[int, builtins.list[str]]:
        raise _local_only("reading the change feed (use GET /api/v1/changes)")

    def delete(self, workflow_id: str) -> None:
        raise _local_only("delete")

    def resume(self, workflow_ids: builtins.list[str] | None = None) -> builtins.list[str]:
        raise _local_only("resume")

    def get(self, workflow_id: str) -> WorkflowView:
        return view_from_argo(self._call("GET", f"/api/v1/builds/{workflow_id}"))

    def list(
        self,
        *,
        phase: str | None = None,
        labels: Mapping[str, str] | None = None,
        limit: int | None = None,
        offset: int = 0,
        cluster: str | None = None,
    ) -> list[WorkflowView]:
        params: dict[str, Any] = {"limit": min(limit or 50, 500), "offset": offset}
        if phase:
            params["phase"] = phase
        if cluster or (labels and labels.get("clusterforge.dev/cluster")):
            params["cluster"] = cluster or (labels or {})["clusterforge.dev/cluster"]
        data = self._call("GET", "/api/v1/builds", params=params)
        views = []
        for item in data["items"]:
            record = WorkflowRecord(
                id=item["id"],
                name=item["id"],
                namespace="default",
                uid="",
                manifest={},
                labels=item.get("labels", {}),
                phase=item["phase"],
                message=item.get("message", ""),
                created_at=_ts(item.get("createdAt")) or 0.0,
                started_at=_ts(item.get("startedAt")),
                finished_at=_ts(item.get("finishedAt")),
            )
            views.append(WorkflowView(record, {}))
        return views

    def logs(
        self, workflow_id: str, node: str | None = None, *, follow: bool = False
    ) -> Iterator[LogLine]:
        path = (
            f"/api/v1/builds/{workflow_id}/nodes/{node}/logs"
            if node
            else f"/api/v1/builds/{workflow_id}/logs"
        )
        params = {"format": "ndjson", "follow": "true" if follow else "false"}
        timeout = httpx.Timeout(None, connect=10.0) if follow else _TIMEOUT
        try:
            with self.client.stream("GET", path, params=params, timeout=timeout) as response:
                _raise_for(response)
                for raw in response.iter_lines():
                    if raw.strip():
                        item = json.loads(raw)
                        yield LogLine(
                            item["nodeId"], item["displayName"], item["stream"], item["text"]
                        )
        except httpx.HTTPError as err:
            raise OperationFailed(f"log stream from {self.server} broke: {err}") from None

    def artifacts(self, build_id: str, node: str | None = None) -> builtins.list[dict[str, Any]]:
        """The build's stored artifacts (``path``, ``size``), or one node's."""
        params = {"node": node} if node else {}
        answer = self._object("GET", f"/api/v1/builds/{build_id}/artifacts", params=params)
        return list(answer.get("artifacts", []))

    @contextmanager
    def artifact(self, build_id: str, path: str) -> Iterator[Iterator[bytes]]:
        """One artifact's bytes, streamed in chunks."""
        url = f"/api/v1/builds/{build_id}/artifacts/{path}"
        try:
            with self.client.stream("GET", url, timeout=_TIMEOUT) as response:
                _raise_for(response)
                yield response.iter_bytes(256 * 1024)
        except httpx.HTTPError as err:
            raise OperationFailed(f"artifact download from {self.server} broke: {err}") from None

    def retry(self, workflow_id: str, *, detach: bool = True) -> WorkflowView:
        del detach  # the server runs it
        self._call("POST", f"/api/v1/builds/{workflow_id}/retry")
        return self.get(workflow_id)

    def stop(self, workflow_id: str, *, strategy: StopStrategy = "Stop") -> WorkflowView:
        if strategy != "Stop":
            raise _local_only("terminate")
        self._call("POST", f"/api/v1/builds/{workflow_id}/stop")
        return self.get(workflow_id)

    def wait(self, workflow_id: str, *, timeout: float | None = None) -> WorkflowView:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            view = self.get(workflow_id)
            if view.done or (deadline is not None and time.monotonic() > deadline):
                return view
            time.sleep(0.5)

    # -- pipeline operations (for cli/build.py) -----------------------------------

    def build(self, spec_path: Path) -> dict[str, Any]:
        """Start a full build from a spec file; the 202 answer (id, cluster, urls)."""
        return self._object("POST", "/api/v1/builds", json=_read_spec(spec_path))

    def stage(
        self, cluster: str, stage: str, overrides: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Run one stage against a cluster the server knows; the 202 answer."""
        stage = {"validate": "validation", "tests": "validation", "test": "validation"}.get(
            stage, stage
        )
        path = f"/api/v1/clusters/{cluster}/stages/{stage}"
        return self._object("POST", path, json=dict(overrides) if overrides else None)

    def destroy(self, cluster: str) -> dict[str, Any]:
        return self._object("DELETE", f"/api/v1/clusters/{cluster}")

    def clusters(self) -> builtins.list[dict[str, Any]]:
        result: builtins.list[dict[str, Any]] = self._call("GET", "/api/v1/clusters")
        return result

    def event(self, source: str, event: str, payload: Any) -> dict[str, Any]:
        """Deliver a webhook event to the server's sensors; the 202 answer."""
        return self._object("POST", f"/api/v1/events/{source}/{event}", json=payload)


def _read_spec(path: Path) -> Any:
    """A spec file as data (YAML or JSON); the server validates it."""
    import yaml

    try:
        text = read_text(path)
    except UnicodeDecodeError:
        raise InvalidInput(f"{path}: is not UTF-8 text") from None
    except OSError as err:
        raise InvalidInput(f"{path}: cannot be read: {err.strerror}") from None
    try:
        if path.suffix == ".json":
            return loads_json(text, str(path))
        check_yaml(text, str(path))
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as err:
        raise InvalidInput(f"{path}: not valid YAML: {err.problem}") from None
    except json.JSONDecodeError as err:
        raise InvalidInput(f"{path}:{err.lineno}:{err.colno}: not valid JSON: {err.msg}") from None
    except yaml.YAMLError as err:
        raise InvalidInput(f"{path}: not valid YAML: {type(err).__name__}") from None


def from_env(server: str | None = None, token: str | None = None) -> RemoteEngine | None:
    """A client when ``--server``/``CLUSTERFORGE_SERVER`` is set, else ``None`` (work locally)."""
    url = server or os.environ.get("CLUSTERFORGE_SERVER")
    if not url:
        return None
    if not url.startswith(("http://", "https://")):
        raise UserError(f"--server {url!r}: give an http:// or https:// URL")
    return RemoteEngine(url, token or os.environ.get("CLUSTERFORGE_TOKEN"))
