"""Daemon steps: a pod that keeps running in the background while its scope goes on.

Argo's rules (workflow/controller/operator.go, exec_control.go), kept here:

- a ``daemon: true`` template's node stays Pending until its process runs and
  its ``readinessProbe`` (if any) passes; then it is Running and *daemoned*,
  and the step/task counts as done: the next steps start, a bare ``depends``
  on it is met (``X.Daemoned``), and ``{{steps.X.ip}}``/``{{tasks.X.ip}}`` is
  its address — ``127.0.0.1`` locally, where every step shares the host's
  network;
- when the steps/DAG node that is its boundary ends, every daemon in it is
  terminated and its node becomes Succeeded (``killDaemonedChildren``);
- a daemon whose process ends on its own before that fails, whatever its exit
  code: daemons are meant to run until their scope ends.

Probes: ``httpGet`` (path, port, host, scheme) and ``tcpSocket`` (port) against
the host, after ``initialDelaySeconds``, every ``periodSeconds`` (1 s when not
given, not Kubernetes' 10 s: a local step is seconds long), each try bounded by
``timeoutSeconds``. An ``exec`` probe is refused with an error on the node.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx

from clusterforge.engine.local._operator.errors import NodeFailure
from clusterforge.engine.local._operator.journal import Journal
from clusterforge.engine.local._operator.pods import PodOutcome, Pods, PodSpec
from clusterforge.engine.local.values import parameter_text
from clusterforge.engine.phases import FULFILLED
from clusterforge.store import NodeRecord

JSON = dict[str, Any]
LOOPBACK = "127.0.0.1"
"""A daemon's ``ip``: steps run on this host and share its network."""


class ProbeRefused(NodeFailure):
    """A readinessProbe the local engine cannot run (``exec``, no port)."""


def _probe_number(probe: JSON, key: str, default: float) -> float:
    raw = probe.get(key)
    return float(parameter_text(raw)) if raw not in (None, "") else default


async def _probe_once(probe: JSON, timeout: float) -> bool:
    if "httpGet" in probe:
        get = probe["httpGet"] or {}
        scheme = str(get.get("scheme") or "HTTP").lower()
        url = f"{scheme}://{get.get('host') or LOOPBACK}:{get.get('port')}{get.get('path') or '/'}"
        try:
            async with httpx.AsyncClient(timeout=timeout, verify=False) as client:  # noqa: S501 — as the kubelet
                response = await client.get(url)
        except httpx.HTTPError:
            return False
        return 200 <= response.status_code < 400
    port = int(parameter_text((probe.get("tcpSocket") or {}).get("port", 0)))
    host = (probe.get("tcpSocket") or {}).get("host") or LOOPBACK
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, TimeoutError):
        return False
    writer.close()
    return True


async def wait_ready(probe: JSON | None) -> None:
    """Return once ``probe`` passes (at once without one). Raises :class:`ProbeRefused`."""
    if not probe:
        return
    if "httpGet" not in probe and "tcpSocket" not in probe:
        raise ProbeRefused(
            "readinessProbe: only httpGet and tcpSocket probes run locally; "
            "use one of them (an exec probe's command would run outside the daemon)"
        )
    await asyncio.sleep(_probe_number(probe, "initialDelaySeconds", 0.0))
    period = _probe_number(probe, "periodSeconds", 1.0)
    timeout = _probe_number(probe, "timeoutSeconds", 1.0)
    while not await _probe_once(probe, timeout):
        await asyncio.sleep(period)


class Daemons:
    """The daemons of one workflow run, by the boundary whose end stops them."""

    def __init__(self, journal: Journal, pods: Pods) -> None:
        self.journal, self.pods = journal, pods
        self.daemoned: set[str] = set()
        self._by_boundary: dict[str, list[tuple[NodeRecord, asyncio.Future[PodOutcome]]]] = {}
        self._stopping: set[str] = set()

    async def start(self, node: NodeRecord, spec: PodSpec, boundary_id: str) -> NodeRecord:
        """Start the daemon's pod; return its node once daemoned (or ended, if it failed)."""
        job = asyncio.ensure_future(self.pods.run(node, spec))
        ready = asyncio.ensure_future(self._ready(node, spec.body.get("readinessProbe")))
        try:
            await asyncio.wait({job, ready}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            ready.cancel()
            job.cancel()
            await asyncio.gather(job, ready, return_exceptions=True)
            raise
        if job.done():
            ready.cancel()
            return self._exited(node, job)
        if ready.exception() is not None:
            job.cancel()
            await asyncio.gather(job, return_exceptions=True)
            return self.journal.finish(node, "Error", str(ready.exception()))
        self.daemoned.add(node.id)
        node.phase = "Running"
        node.message = ""
        self.journal.save(node)
        self._by_boundary.setdefault(boundary_id, []).append((node, job))
        job.add_done_callback(lambda done: self._exited(node, done))
        return node

    async def _ready(self, node: NodeRecord, probe: JSON | None) -> None:
        while node.phase != "Running":  # the pod sets it once its process runs
            await asyncio.sleep(0.02)
        await wait_ready(probe)

    def _exited(self, node: NodeRecord, job: asyncio.Future[PodOutcome]) -> NodeRecord:
        """The daemon's process ended: Succeeded if its scope stopped it, else Failed."""
        self.daemoned.discard(node.id)
        if node.phase in FULFILLED:
            return node
        if node.id in self._stopping:
            return self.journal.finish(node, "Succeeded")
        if job.cancelled() or job.exception() is not None:
            return self.journal.finish(node, "Error", "the daemon's pod could not be run")
        outcome = job.result()
        if outcome.exit_code is not None:
            node.exit_code = outcome.exit_code
        message = outcome.message or f"daemon exited (exit code {outcome.exit_code})"
        return self.journal.finish(node, "Failed", f"{message} before its scope ended")

    async def stop_scope(self, boundary_id: str) -> None:
        """The boundary ended: terminate its daemons; their nodes become Succeeded."""
        entries = self._by_boundary.pop(boundary_id, [])
        for node, job in entries:
            self._stopping.add(node.id)
            job.cancel()
        for node, job in entries:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(job, return_exceptions=True)
            self._exited(node, job)
            parent = self.journal.nodes.get(node.parent_id)
            if parent is not None and parent.type == "Retry" and parent.phase not in FULFILLED:
                self.daemoned.discard(parent.id)
                self.journal.finish(parent, "Succeeded")

    async def stop_all(self) -> None:
        """The workflow's main part ended: no daemon outlives it."""
        for boundary_id in list(self._by_boundary):
            await self.stop_scope(boundary_id)
