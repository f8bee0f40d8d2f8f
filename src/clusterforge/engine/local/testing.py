"""Run the local engine with pods answered in memory (as ``kopf.testing`` is for kopf).

``LocalEngine(home, pods=memory_pods(script))`` runs workflows with the real
walk — scheduling, retries, ``when``/``depends``, loops, parallelism, state in
SQLite — but no step process: each attempt's outcome comes from ``script``.
For unit tests of the walk and for benchmarks of the engine alone.
"""

from __future__ import annotations

from pathlib import Path

from clusterforge.engine.local._operator import Journal, MemoryPods, PodOutcome, Pods, PodSpec
from clusterforge.engine.local._operator.memory_pods import Script, outcome_of, sleeping, succeed
from clusterforge.engine.local._operator.retry import (
    BACKOFF_PAST_DEADLINE_MESSAGE,
    RetryPolicy,
    retry_verdict,
)
from clusterforge.engine.local._operator.run import PodsFactory

__all__ = [
    "BACKOFF_PAST_DEADLINE_MESSAGE",
    "MemoryPods",
    "PodOutcome",
    "PodSpec",
    "RetryPolicy",
    "Script",
    "fan_out_workflow",
    "memory_pods",
    "outcome_of",
    "retry_verdict",
    "sleeping",
    "succeed",
]


def memory_pods(script: Script = succeed) -> PodsFactory:
    """A ``pods`` factory for :class:`~clusterforge.engine.LocalEngine`: every attempt
    of every run decided by ``script``."""

    def make(journal: Journal, run_dir: Path, scratch_dir: Path) -> Pods:
        del run_dir, scratch_dir
        return MemoryPods(journal, script)

    return make


def fan_out_workflow(
    width: int, *, parallelism: int | None = None, sink: bool = False, prefix: str = "fan-"
) -> str:
    """A DAG workflow: one root task, ``width`` tasks that depend on it, and with
    ``sink`` one task that depends on them all — the shape whose size the engine's
    benchmarks and scaling tests vary (its text grows linearly in ``width``)."""
    lines = [
        "apiVersion: argoproj.io/v1alpha1",
        "kind: Workflow",
        f"metadata: {{generateName: {prefix}}}",
        "spec:",
        "  entrypoint: main",
    ]
    if parallelism is not None:
        lines.append(f"  parallelism: {parallelism}")
    lines += [
        "  templates:",
        "  - name: t",
        "    container: {image: alpine, command: ['true']}",
        "  - name: main",
        "    dag:",
        "      tasks:",
        "      - {name: root, template: t}",
    ]
    lines += [f"      - {{name: w{i}, template: t, depends: root}}" for i in range(width)]
    if sink:
        deps = " && ".join(f"w{i}" for i in range(width))
        lines.append(f"      - {{name: sink, template: t, depends: '{deps}'}}")
    return "\n".join(lines) + "\n"
