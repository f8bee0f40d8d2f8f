"""The local engine against Argo + the host executor: one 200-task DAG, and concurrency.

All in one run, on the same machine at the same moment:

* floor — the DAG's ``true`` commands run by a bare Python loop with
  ``subprocess`` at the same parallelism (no state, no isolation);
* local — the local engine (``bench/engine.py``'s DAG: root → N tasks → sink);
* argo — the same Workflow on the real workflow-controller of a kwok
  management cluster (``clusterforge argo up``), its pods run by the host
  executor, submitted and followed through ``ArgoEngine`` with one watch.
  Time: from the create request to the watch seeing the workflow's end.

Per-step overhead is (wall - floor) / steps, and each backend's wall time is
also given as a ratio to the local engine's in the same run.

Concurrency: ``--levels`` (default 1,4,8,16,32) workflows of a small DAG
(``--small-tasks`` tasks, each step ``sleep --small-sleep`` seconds, as a
build's steps take seconds, so the number measures orchestration rather
than two cores running ``true``) submitted at once on Argo. A level is *sustained*
when every workflow succeeds within ``--timeout`` and the median workflow
(create → end) takes at most ``--slowdown`` (default 3) times what one
alone took at level 1 in this run; the answer is the largest sustained level
before the first that is not. The same levels run on the local engine (its
workflows in threads of this process) as the baseline.

Argo's controller looks at a workflow again ``DEFAULT_REQUEUE_TIME`` after a
pod of it changed (10 s by default; its source suggests 2 s for workflows of
many short nodes, 1 s is the floor it allows), so a DAG advances one wave
per requeue. The scratch cluster runs with ``--requeue`` (default 1s, the
best Argo can do); ``--requeue 10s`` shows Argo's default.

Usage: ``python bench/argo.py [--kubeconfig K] [--tasks 200] [--parallelism 8]``.
Without ``--kubeconfig`` it runs ``clusterforge argo up --name bench`` in a
scratch data directory and removes it afterwards. Results:
``bench/results/argo.json``; the machine's load average is recorded with them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from engine import floor, workflow_yaml  # the same DAG as bench/engine.py

RESULTS = Path(__file__).parent / "results"
CLI = str(Path(sys.executable).parent / "clusterforge")


@contextmanager
def management_cluster(kubeconfig: str | None, requeue: str) -> Iterator[str]:
    """The given kubeconfig, or a scratch ``argo up`` (its controller's
    ``DEFAULT_REQUEUE_TIME`` set to ``requeue``) removed at the end."""
    if kubeconfig:
        yield kubeconfig
        return
    home = Path(tempfile.mkdtemp(prefix="cf-bench-argo-", dir=Path.home()))
    env = {**os.environ, "CLUSTERFORGE_HOME": str(home), "DEFAULT_REQUEUE_TIME": requeue}
    try:
        up = subprocess.run(
            [CLI, "argo", "up", "--name", "bench"],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if up.returncode != 0:
            raise SystemExit(f"argo up failed: {up.stderr.strip()}")
        yield up.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(
            [CLI, "argo", "down", "--name", "bench"], env=env, capture_output=True, check=False
        )
        shutil.rmtree(home, ignore_errors=True)


def local_runner(home: Path) -> Callable[[str], tuple[float, str]]:
    from clusterforge.engine import LocalEngine, Submission

    engine = LocalEngine(home=home)

    def run(text: str) -> tuple[float, str]:
        start = time.perf_counter()
        record = engine.prepare(Submission(text=text))
        engine.store.create_workflow(record)
        view = engine.run_blocking(record.id)
        return time.perf_counter() - start, view.phase

    return run


def argo_runner(kubeconfig: str, home: Path) -> Callable[[str], tuple[float, str]]:
    from clusterforge.engine import Submission, open_argo_engine

    engine = open_argo_engine(kubeconfig, "default", home=home)
    engine.watching()

    def run(text: str) -> tuple[float, str]:
        start = time.perf_counter()
        view = engine.submit(Submission(text=text), detach=True)
        done = engine.wait(view.id, timeout=900)
        elapsed = time.perf_counter() - start
        engine.delete(view.id)  # the controller and the cache stay small across levels
        return elapsed, done.phase

    return run


def concurrency(
    run: Callable[[str], tuple[float, str]], text: str, levels: list[int], slowdown: float
) -> dict[str, Any]:
    """Each level's median and worst workflow time; the largest sustained level."""
    rows = []
    alone: float | None = None
    sustained = 0
    for level in levels:
        start = time.perf_counter()
        with ThreadPoolExecutor(level) as pool:
            outcomes = list(pool.map(lambda _i: run(text), range(level)))
        wall = time.perf_counter() - start
        times = [t for t, _p in outcomes]
        ok = all(p == "Succeeded" for _t, p in outcomes)
        median = statistics.median(times)
        alone = alone if alone is not None else median
        held = ok and median <= slowdown * alone
        rows.append(
            {
                "workflows": level,
                "all_succeeded": ok,
                "wall_seconds": round(wall, 2),
                "median_seconds": round(median, 2),
                "slowest_seconds": round(max(times), 2),
                "median_vs_alone": round(median / alone, 2),
                "sustained": held,
            }
        )
        print(f"  {level:3d} at once: {rows[-1]}", flush=True)
        if not held:
            break
        sustained = level
    return {"levels": rows, "sustained": sustained}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kubeconfig", help="an existing management cluster (argo up)")
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument("--small-tasks", type=int, default=10)
    parser.add_argument("--small-sleep", default="1")
    parser.add_argument("--levels", default="1,4,8,16,32")
    parser.add_argument("--slowdown", type=float, default=3.0)
    parser.add_argument(
        "--requeue",
        default="1s",
        help="the scratch controller's DEFAULT_REQUEUE_TIME (Argo's default: 10s)",
    )
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",") if x]
    steps = args.tasks + 2
    big = workflow_yaml(args.tasks, args.parallelism)
    small = workflow_yaml(args.small_tasks, args.parallelism).replace(
        "command: ['true']", f"command: [sleep, '{float(args.small_sleep)}']"
    )
    home = Path(tempfile.mkdtemp(prefix="cf-bench-", dir=Path.home()))
    load_before = os.getloadavg()
    try:
        base = floor(args.tasks, args.parallelism)
        local = local_runner(home / "local")
        local_s, local_phase = local(big)
        print(f"floor {base:.2f}s, local {local_s:.2f}s ({local_phase})", flush=True)
        print("local engine, concurrent workflows:", flush=True)
        local_c = concurrency(local, small, levels, args.slowdown)
        with management_cluster(args.kubeconfig, args.requeue) as kubeconfig:
            argo = argo_runner(kubeconfig, home / "argo")
            argo_s, argo_phase = argo(big)
            print(f"argo {argo_s:.2f}s ({argo_phase})", flush=True)
            print("argo + host executor, concurrent workflows:", flush=True)
            argo_c = concurrency(argo, small, levels, args.slowdown)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    result = {
        "tasks": steps,
        "parallelism": args.parallelism,
        "floor_seconds": round(base, 3),
        "local_seconds": round(local_s, 3),
        "local_phase": local_phase,
        "local_overhead_ms_per_step": round((local_s - base) / steps * 1000, 1),
        "argo_seconds": round(argo_s, 3),
        "argo_phase": argo_phase,
        "argo_overhead_ms_per_step": round((argo_s - base) / steps * 1000, 1),
        "argo_vs_local": round(argo_s / local_s, 2),
        "argo_requeue": "as configured" if args.kubeconfig else args.requeue,
        "concurrency_small_tasks": args.small_tasks + 2,
        "concurrency_step_sleep_seconds": float(args.small_sleep),
        "concurrency_rule": f"all succeed and median <= {args.slowdown}x one alone",
        "local_concurrency": local_c,
        "argo_concurrency": argo_c,
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "argo.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(
        f"\n{steps} steps at parallelism {args.parallelism}: floor {base:.2f}s; local "
        f"{local_s:.2f}s ({result['local_overhead_ms_per_step']} ms/step); argo "
        f"{argo_s:.2f}s ({result['argo_overhead_ms_per_step']} ms/step, "
        f"{result['argo_vs_local']}x local). Sustained at once: local {local_c['sustained']}, "
        f"argo {argo_c['sustained']} workflows of {args.small_tasks + 2} steps "
        f"(load {load_before[0]:.1f})"
    )
    ok = local_phase == argo_phase == "Succeeded"
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
