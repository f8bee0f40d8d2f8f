"""Fleet-scale concurrency of the local engine: many builds at once, and very large workflows.

Builds: the real stage library (``cluster-build`` → preflight, core, add-ons,
validation, composed by ``templateRef``) for N clusters at once, every step
replaced by a 1 s sleep through the engine's in-memory pods
(``clusterforge.engine.local.testing``) — so the engine does the real work:
checking and snapshotting each submission, scheduling, ``when``/``depends``,
loops, retries (one check of each stage fails its first attempt and is
retried after the template's backoff), SQLite state with group commit. No
step process runs; what is measured is the engine.

Baseline, measured in the same run: one build alone — its wall time is the
build's critical path (sleeps + backoffs + engine overhead). The N builds are
taken in first (checked, snapshotted, stored, as an API accepting a burst
does; its time is reported apart), then all started at once. Reported: their
completion time against the baseline (goal ≤ 1.3x), the engine's peak RSS (goal
< 1 GiB), the state database's size, and its write rate (node rows and events
per second, bytes per second).

Large workflows: one DAG of 10,000 and of 50,000 nodes (a root, then every
other task after it; each step takes no time), each in a fresh interpreter so
its peak memory (VmHWM) is its own: time and memory per node — constant per
node means linear growth.

Usage: ``python bench/fleet.py [--builds 500] [--step-seconds 1] [--nodes 10000,50000]``.
Writes ``bench/results/fleet.json``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "examples" / "dev-cluster.yaml"
FLAKY = ("disk", "metrics-server")
"""Checks whose first attempt fails (in preflight and validation): retries are exercised."""


def _status_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def rss_mib() -> float:
    """This process's current resident memory."""
    return _status_mib("VmRSS")


def peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM)."""
    return _status_mib("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _script(step_seconds: float) -> Any:
    import asyncio

    from clusterforge.engine.local.testing import PodOutcome, PodSpec, outcome_of
    from clusterforge.store import NodeRecord

    async def step(node: NodeRecord, spec: PodSpec) -> PodOutcome:
        await asyncio.sleep(step_seconds)
        base = node.display_name.rsplit("(", 1)[0]
        first_try = node.display_name.endswith("(0)")
        failed = first_try and base in FLAKY and spec.body.get("command", [""])[0] == "clusterforge"
        return outcome_of(1 if failed else 0, spec)

    return step


def _submissions(count: int, home: Path) -> list[Any]:
    """One ``cluster-build`` submission per cluster, as the pipeline makes them."""
    import yaml

    from clusterforge.engine import Submission
    from clusterforge.labels import LABEL_CLUSTER, LABEL_STAGE
    from clusterforge.spec import parse_spec
    from clusterforge.stages.parameters import build_parameters
    from clusterforge.templates import TEMPLATE_DIR

    doc = yaml.safe_load(SPEC.read_text())
    out = []
    for index in range(count):
        name = f"fleet-{index:04d}"
        doc["metadata"]["name"] = name
        spec = parse_spec(doc, source=str(SPEC), base_dir=SPEC.parent)
        params = build_parameters(spec, artifacts_dir=home / "artifacts" / name)
        out.append(
            Submission(
                workflow_template="cluster-build",
                template_dirs=(TEMPLATE_DIR,),
                arguments=params,
                labels={LABEL_CLUSTER: name, LABEL_STAGE: "build"},
                name=f"{name}-build",
            )
        )
    return out


def _db_stats(home: Path) -> tuple[int, int, int]:
    """State database bytes (with its WAL), node rows, event rows."""
    size = sum(p.stat().st_size for p in home.glob("state.db*"))
    with sqlite3.connect(home / "state.db") as db:
        nodes = db.execute("SELECT COUNT(*) FROM nodes").fetchone()[0]
        events = db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    return size, nodes, events


def run_builds(count: int, step_seconds: float) -> dict[str, Any]:
    """Submit ``count`` builds at once and wait for all; wall time and what was written."""
    from clusterforge.engine import LocalEngine
    from clusterforge.engine.local.testing import memory_pods

    home = Path(tempfile.mkdtemp(prefix="cf-bench-fleet-"))
    try:
        engine = LocalEngine(home=home, pods=memory_pods(_script(step_seconds)))
        submissions = _submissions(count, home)
        rss_before = rss_mib()
        # Intake first (check, snapshot, store: what an API accepting a burst does),
        # then every build started at once: the run is what is compared.
        intake_start = time.perf_counter()
        ids = []
        for submission in submissions:
            record = engine.prepare(submission)
            engine.store.create_workflow(record)
            ids.append(record.id)
        intake = time.perf_counter() - intake_start
        start, cpu_start = time.perf_counter(), time.process_time()
        for workflow_id in ids:
            engine.start(workflow_id)
        started = time.perf_counter() - start
        for workflow_id in ids:
            engine.join(workflow_id)
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
        records = [engine.get(i).record for i in ids]
        phases = [r.phase for r in records]
        # Each build from its start to its end.
        each = sorted((r.finished_at or 0.0) - (r.started_at or 0.0) for r in records)
        size, nodes, events = _db_stats(home)
        return {
            "builds": count,
            "seconds": round(elapsed, 2),
            "intake_seconds": round(intake, 2),
            "start_all_seconds": round(started, 2),
            "cpu_seconds": round(cpu, 2),
            "cpu_ms_per_build": round(cpu * 1000 / count, 1),
            "build_seconds_p50": round(each[len(each) // 2], 2),
            "build_seconds_max": round(each[-1], 2),
            "succeeded": phases.count("Succeeded"),
            "phases": sorted(set(phases)),
            "rss_mib_after": round(rss_mib(), 1),
            "rss_mib_growth": round(rss_mib() - rss_before, 1),
            "db_bytes": size,
            "node_rows": nodes,
            "event_rows": events,
            "node_rows_per_second": round(nodes / elapsed, 1),
            "events_per_second": round(events / elapsed, 1),
            "db_bytes_per_second": round(size / elapsed),
        }
    finally:
        shutil.rmtree(home, ignore_errors=True)


def big_workflow(tasks: int) -> str:
    """A DAG of ``tasks`` tasks: a root and the rest after it."""
    from clusterforge.engine.local.testing import fan_out_workflow

    return fan_out_workflow(tasks - 1, prefix="big-")


def run_big_fresh(tasks: int) -> dict[str, Any]:
    """:func:`run_big` in a fresh interpreter: its peak memory is that workflow's
    alone, not the fleet's or a previous workflow's."""
    done = subprocess.run(
        [sys.executable, __file__, "--one-big", str(tasks)],
        check=True,
        capture_output=True,
        text=True,
    )
    row: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return row


def run_big(tasks: int) -> dict[str, Any]:
    """One workflow of ``tasks`` pods (plus its DAG node): time and memory per node."""
    from clusterforge.engine import LocalEngine, Submission
    from clusterforge.engine.local.testing import memory_pods

    home = Path(tempfile.mkdtemp(prefix="cf-bench-big-"))
    try:
        engine = LocalEngine(home=home, pods=memory_pods())
        gc.collect()
        rss_before = rss_mib()
        start, cpu_start = time.perf_counter(), time.process_time()
        record = engine.prepare(Submission(text=big_workflow(tasks)))
        prepared = time.perf_counter() - start
        prepared_cpu = time.process_time() - cpu_start  # unlike wall time, not the load's
        engine.store.create_workflow(record)
        engine.run_blocking(record.id)  # in this thread: its peak is this process's
        elapsed = time.perf_counter() - start
        view = engine.get(record.id)
        size, nodes, events = _db_stats(home)
        growth = peak_rss_mib() - rss_before
        return {
            "tasks": tasks,
            "nodes": len(view.nodes),
            "phase": view.phase,
            "seconds": round(elapsed, 2),
            "prepare_seconds": round(prepared, 2),
            "prepare_cpu_ms_per_task": round(prepared_cpu * 1000 / tasks, 3),
            "ms_per_node": round(elapsed * 1000 / len(view.nodes), 3),
            "peak_rss_mib": round(peak_rss_mib(), 1),
            "peak_rss_growth_mib": round(growth, 1),
            "kib_per_node": round(growth * 1024 / len(view.nodes), 2),
            "db_bytes": size,
            "db_bytes_per_node": round(size / max(nodes, 1)),
            "event_rows": events,
        }
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--builds", type=int, default=500)
    parser.add_argument("--step-seconds", type=float, default=1.0)
    parser.add_argument("--nodes", default="10000,50000", help="sizes of the large workflows")
    parser.add_argument("--skip-builds", action="store_true")
    parser.add_argument("--one-big", type=int, help=argparse.SUPPRESS)  # the child of run_big_fresh
    args = parser.parse_args()
    if args.one_big:
        print(json.dumps(run_big(args.one_big)))
        return 0
    result: dict[str, Any] = {
        "step_seconds": args.step_seconds,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    if not args.skip_builds:
        baseline = run_builds(1, args.step_seconds)
        print(f"one build (critical path): {baseline['seconds']}s", flush=True)
        fleet = run_builds(args.builds, args.step_seconds)
        ratio = fleet["seconds"] / baseline["seconds"]
        slowest = fleet["build_seconds_max"] / baseline["build_seconds_max"]
        result.update(
            one_build=baseline,
            fleet=fleet,
            fleet_vs_one_build=round(ratio, 2),
            slowest_build_vs_one_build=round(slowest, 2),
            peak_rss_mib=round(peak_rss_mib(), 1),
        )
        print(
            f"{args.builds} builds (intake {fleet['intake_seconds']}s), started at once: all done "
            f"in {fleet['seconds']}s = {ratio:.2f}x one build (goal <= 1.3x); each build "
            f"start-to-end: median {fleet['build_seconds_p50']}s, slowest "
            f"{fleet['build_seconds_max']}s = {slowest:.2f}x one build; "
            f"{fleet['succeeded']}/{args.builds} Succeeded; engine CPU {fleet['cpu_seconds']}s "
            f"({fleet['cpu_ms_per_build']} ms/build); "
            f"peak RSS {peak_rss_mib():.0f} MiB (goal < 1024); state DB "
            f"{fleet['db_bytes'] / 2**20:.1f} MiB, {fleet['node_rows_per_second']} node rows/s, "
            f"{fleet['events_per_second']} events/s, "
            f"{fleet['db_bytes_per_second'] / 2**20:.2f} MiB/s",
            flush=True,
        )
    big = []
    for size in [int(n) for n in args.nodes.split(",") if n]:
        row = run_big_fresh(size)
        big.append(row)
        print(
            f"one workflow of {row['nodes']} nodes: {row['seconds']}s "
            f"({row['ms_per_node']} ms/node), +{row['peak_rss_growth_mib']} MiB peak RSS "
            f"({row['kib_per_node']} KiB/node), state DB {row['db_bytes_per_node']} B/node",
            flush=True,
        )
    result["large_workflows"] = big
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "fleet.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
