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
from clusterforge.engine.local._operator.retry import RetryPolicy, retry_verdict
from clusterforge.engine.local._operator.run import PodsFactory

__all__ = [
    "MemoryPods",
    "PodOutcome",
    "PodSpec",
    "RetryPolicy",
    "Script",
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
