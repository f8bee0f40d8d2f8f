"""Pods answered in memory: the engine's walk without host processes.

As httpx's ``MockTransport`` lets a client be tested without a network, this
:class:`~clusterforge.engine.local._operator.pods.Pods` lets the walk —
scheduling, retries, ``when``/``depends``, loops, state — be tested and
measured without launching anything. A *script* decides each attempt: how long
it takes and how it ends; the default takes no time and succeeds with the
template's output defaults.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from clusterforge.engine.local._operator.journal import Journal
from clusterforge.engine.local._operator.pods import PodOutcome, PodSpec, Sidecar
from clusterforge.engine.local.values import parameter_text
from clusterforge.engine.phases import DEADLINE_MESSAGE
from clusterforge.store import NodeRecord

JSON = dict[str, Any]
Script = Callable[[NodeRecord, PodSpec], Awaitable[PodOutcome]]


async def succeed(node: NodeRecord, spec: PodSpec) -> PodOutcome:
    """Exit 0 at once, outputs from the template's defaults (a missing one is an Error)."""
    del node
    return outcome_of(0, spec)


def sleeping(seconds: float) -> Script:
    """Every attempt takes ``seconds``, then exits 0 (a stand-in for real work)."""

    async def script(node: NodeRecord, spec: PodSpec) -> PodOutcome:
        del node
        await asyncio.sleep(seconds)
        return outcome_of(0, spec)

    return script


def outcome_of(code: int, spec: PodSpec, stdout: str = "") -> PodOutcome:
    """The outcome of an attempt that exited ``code`` having printed ``stdout``;
    an output parameter takes its value, else its default (no files exist here)."""
    outputs: JSON = {"exitCode": str(code)}
    if spec.kind == "script" or stdout:
        outputs["result"] = stdout
    params = []
    for param in spec.outputs:
        source = param.get("valueFrom") or {}
        value = param.get("value", source.get("default", param.get("default")))
        if value is None:
            message = f"outputs.parameters.{param['name']}: no value in memory (give a default)"
            return PodOutcome("Error", message, code, outputs)
        params.append({"name": param["name"], "value": parameter_text(value)})
    if params:
        outputs["parameters"] = params
    return PodOutcome.exited(code, outputs)


@dataclass
class MemoryPods:
    """Attempts decided by ``script``; records every spec it was given, in order."""

    journal: Journal
    script: Script = succeed
    specs: list[PodSpec] = field(default_factory=list)

    async def run(self, node: NodeRecord, spec: PodSpec) -> PodOutcome:
        self.specs.append(spec)
        await self.journal.durable()
        node.phase, node.started_at = "Running", time.time()
        self.journal.save(node)
        if spec.timeout is None:
            return await self.script(node, spec)
        try:
            return await asyncio.wait_for(self.script(node, spec), spec.timeout)
        except TimeoutError:
            return PodOutcome("Failed", f"{DEADLINE_MESSAGE} ({spec.timeout:g}s)")

    async def start_sidecar(
        self, node: NodeRecord, name: str, body: JSON, env: Mapping[str, str] | None = None
    ) -> Sidecar:
        del node, name, body, env
        return _NoSidecar()

    def adopt(self, node: NodeRecord) -> bool:
        del node
        return False  # nothing outlives a run in memory

    def recover(self, nodes: Iterable[NodeRecord]) -> None:
        del nodes

    async def settle(self) -> None:
        return None

    def close(self) -> None:
        return None


class _NoSidecar:
    """A sidecar in memory: nothing runs, nothing to stop."""

    async def stop(self) -> None:
        return None
