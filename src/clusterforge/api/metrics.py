"""Prometheus metrics of one server, on its own registry.

* ``clusterforge_triggers_total{source, result}`` — every trigger request:
  ``source`` is ``build``, ``stage``, ``destroy``, ``retry``, ``stop`` or
  ``event:<event source>`` (only sources some sensor listens to, so callers
  cannot grow the label set); ``result`` is ``accepted``, ``waiting``,
  ``rejected``, ``unauthorized``, ``rate_limited``, ``too_large`` or ``error``;
* ``clusterforge_builds{phase}`` — workflows in the store by phase, counted
  when scraped;
* ``clusterforge_run_queue{state}`` — workflows ``queued``/``running`` here;
* ``clusterforge_step_duration_seconds{template, phase}`` — every step attempt
  (Pod node) of the workflows this server ran;
* ``clusterforge_step_retries_total{template}`` — attempts after the first.

A registry per app (not the process-global one) lets tests and benches run
several servers in one process.

A multi-process server (``serve --processes N``) counts in every process, so
a scrape, whichever acceptor answers it, must sum them: prometheus_client's
multiprocess mode keeps each process's values in files of one directory
(``PROMETHEUS_MULTIPROC_DIR``, set by the supervisor before any child imports
prometheus_client) and :meth:`Metrics.exposition` reads them all. The gauges
computed from the store at scrape time come from the scraping process only.
"""

from __future__ import annotations

import os
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from fastapi import Request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client import multiprocess as _multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from clusterforge.engine import WorkflowView

__all__ = ["Metrics", "mark_process_dead", "reset_multiprocess_dir"]

_STEP_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)


def _source(path: str) -> str:
    parts = path.strip("/").split("/")
    if parts[:3] == ["api", "v1", "builds"]:
        return parts[-1] if parts[-1] in ("retry", "stop") else "build"
    if parts[:3] == ["api", "v1", "clusters"]:
        return "stage" if "stages" in parts else "destroy"
    if parts[:3] == ["api", "v1", "events"]:
        return "event"
    return "other"


class _StoreCollector(Collector):
    def __init__(
        self, phases: Callable[[], Iterable[str]], queue: Callable[[], tuple[int, int]]
    ) -> None:
        self.phases = phases
        self.queue = queue
        self._cache: tuple[float, Tally[str]] = (0.0, Tally())

    def collect(self) -> Iterator[Metric]:
        stamp, phases = self._cache
        if time.monotonic() - stamp > 2.0:
            phases = Tally(self.phases())
            self._cache = (time.monotonic(), phases)
        builds = GaugeMetricFamily(
            "clusterforge_builds", "Workflows in the store by phase", labels=["phase"]
        )
        for phase in ("Pending", "Running", "Succeeded", "Failed", "Error"):
            builds.add_metric([phase], phases.get(phase, 0))
        yield builds
        queued, running = self.queue()
        gauge = GaugeMetricFamily(
            "clusterforge_run_queue", "Workflows queued or running here", labels=["state"]
        )
        gauge.add_metric(["queued"], queued)
        gauge.add_metric(["running"], running)
        yield gauge


def _check_multiprocess(directory: Path) -> None:
    """Fail at start-up on a wiring mistake that would otherwise make every scrape
    silently report one process (or none).

    prometheus_client picks its value class once, when it is first imported: only
    if ``PROMETHEUS_MULTIPROC_DIR`` was set then do counters go to mmap files.
    Each value's file is then named from the variable as it is when the value is
    created, so it must also be the directory :meth:`Metrics.exposition` reads.
    """
    if values.ValueClass.__name__ != "MmapedValue":
        raise RuntimeError(
            "metrics shared between processes need PROMETHEUS_MULTIPROC_DIR set "
            "before prometheus_client is imported (the supervisor sets it for its children)"
        )
    env = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not env or Path(env).resolve() != directory.resolve():
        raise RuntimeError(
            f"PROMETHEUS_MULTIPROC_DIR is {env!r} but the metrics directory is "
            f"{str(directory)!r}: this process's counters would not be in the scrape"
        )


class Metrics:
    """The counters the routes update and the collectors ``/metrics`` reads.

    ``phases`` gives the phase of every stored workflow (read at most every
    two seconds, at scrape time); ``queue`` the run queue's (queued, running).
    """

    def __init__(
        self,
        phases: Callable[[], Iterable[str]],
        queue: Callable[[], tuple[int, int]],
        *,
        multiprocess_dir: Path | None = None,
    ) -> None:
        if multiprocess_dir is not None:
            _check_multiprocess(multiprocess_dir)
        self.multiprocess_dir = multiprocess_dir
        self.registry = CollectorRegistry()
        self.triggers = Counter(
            "clusterforge_triggers",
            "Trigger requests by source and result",
            ["source", "result"],
            registry=self.registry,
        )
        self.step_duration = Histogram(
            "clusterforge_step_duration_seconds",
            "Duration of step attempts run by this server",
            ["template", "phase"],
            buckets=_STEP_BUCKETS,
            registry=self.registry,
        )
        self.retries = Counter(
            "clusterforge_step_retries",
            "Step attempts after the first, run by this server",
            ["template"],
            registry=self.registry,
        )
        self._store_collector = _StoreCollector(phases, queue)
        self.registry.register(self._store_collector)
        self.event_sources: set[str] = set()

    def exposition(self) -> bytes:
        """The text exposition: this process's registry, or every process's counters
        plus this process's store-derived gauges."""
        if self.multiprocess_dir is None:
            return bytes(generate_latest(self.registry))
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry, path=str(self.multiprocess_dir))  # type: ignore[no-untyped-call]
        registry.register(self._store_collector)
        return bytes(generate_latest(registry))

    def trigger(self, source: str, result: str) -> None:
        if source.startswith("event:") and source[6:] not in self.event_sources:
            source = "event:unknown"
        self.triggers.labels(source, result).inc()

    def rejected(self, request: Request, result: str) -> None:
        self.rejected_path(request.url.path, result)

    def rejected_path(self, path: str, result: str) -> None:
        source = _source(path)
        if source == "event":
            parts = path.strip("/").split("/")
            source = f"event:{parts[3]}" if len(parts) > 3 else "event:unknown"
        if source != "other":
            self.trigger(source, result)

    def finished(self, view: WorkflowView) -> None:
        """Observe the steps of a workflow that just ended."""
        for node in view.nodes.values():
            if node.type != "Pod" or not node.started_at or not node.finished_at:
                continue
            template = node.template_name or "unknown"
            self.step_duration.labels(template, node.phase).observe(
                max(node.finished_at - node.started_at, 0.0)
            )
            if node.attempt:
                self.retries.labels(template).inc()


def reset_multiprocess_dir(directory: Path) -> None:
    """Create the shared metrics directory (0700), without a previous run's files
    (their counts would be added to this run's)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink(missing_ok=True)


def mark_process_dead(directory: Path, pid: int) -> None:
    """A child exited: drop its live-gauge files (its counters stay in the sums)."""
    if directory.is_dir():
        _multiprocess.mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]
