"""Engine overhead: a 1,000-task fan-out/fan-in DAG of ``true`` steps.

Three runs in one process, same machine, same moment:

* floor — a bare Python loop that runs the same 1,002 ``true`` commands with
  ``subprocess`` at the same parallelism (no state, no isolation);
* clusterforge — the local engine, SQLite state, private /tmp per step;
* peer — the same DAG on Luigi's local scheduler (installed for the bench only).

Prints per-step overhead above the floor and the ratio to the peer, and writes
``bench/results/engine.json``. Usage: ``python bench/engine.py [--tasks N] [--parallelism P]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def floor(tasks: int, parallelism: int) -> float:
    """Run ``true`` tasks+2 times at the given parallelism: the cost of processes alone."""
    true = shutil.which("true") or "/bin/true"
    start = time.perf_counter()
    subprocess.run([true], check=True)
    with ThreadPoolExecutor(parallelism) as pool:
        list(pool.map(lambda _: subprocess.run([true], check=True), range(tasks)))
    subprocess.run([true], check=True)
    return time.perf_counter() - start


def workflow_yaml(tasks: int, parallelism: int) -> str:
    """The benchmark's DAG: a root, ``tasks`` tasks after it and a sink after them all."""
    from clusterforge.engine.local.testing import fan_out_workflow

    return fan_out_workflow(tasks, parallelism=parallelism, sink=True)


def clusterforge_run(tasks: int, parallelism: int) -> tuple[float, str]:
    from clusterforge.engine import LocalEngine, Submission

    home = Path(tempfile.mkdtemp(prefix="cf-bench-", dir=Path.home()))
    try:
        engine = LocalEngine(home=home)
        submission = Submission(text=workflow_yaml(tasks, parallelism))
        record = engine.prepare(submission)
        engine.store.create_workflow(record)
        start = time.perf_counter()
        view = engine.run_blocking(record.id)
        elapsed = time.perf_counter() - start
        return elapsed, view.phase
    finally:
        shutil.rmtree(home, ignore_errors=True)


def luigi_run(tasks: int, parallelism: int) -> float | None:
    try:
        import luigi
    except ImportError:
        return None
    true = shutil.which("true") or "/bin/true"
    # Luigi's workers are separate processes: completion is a marker file each.
    done = Path(tempfile.mkdtemp(prefix="cf-bench-luigi-", dir=Path.home()))

    class Step(luigi.Task):  # type: ignore[misc]
        name = luigi.Parameter()
        after = luigi.ListParameter(default=[])

        def requires(self):  # type: ignore[no-untyped-def]
            return [Step(name=a, after=deps_of(a)) for a in self.after]

        def complete(self) -> bool:
            return (done / str(self.name)).exists()

        def run(self) -> None:
            subprocess.run([true], check=True)
            (done / str(self.name)).touch()

    def deps_of(name: str) -> list[str]:
        if name == "root":
            return []
        if name == "sink":
            return [f"w{i}" for i in range(tasks)]
        return ["root"]

    start = time.perf_counter()
    ok = luigi.build(
        [Step(name="sink", after=deps_of("sink"))],
        local_scheduler=True,
        workers=parallelism,
        log_level="ERROR",
    )
    elapsed = time.perf_counter() - start
    shutil.rmtree(done, ignore_errors=True)
    return elapsed if ok else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--parallelism", type=int, default=4)
    args = parser.parse_args()
    steps = args.tasks + 2
    base = floor(args.tasks, args.parallelism)
    ours, phase = clusterforge_run(args.tasks, args.parallelism)
    peer = luigi_run(args.tasks, args.parallelism)
    result = {
        "tasks": steps,
        "parallelism": args.parallelism,
        "floor_seconds": round(base, 3),
        "clusterforge_seconds": round(ours, 3),
        "clusterforge_phase": phase,
        "overhead_ms_per_step": round((ours - base) / steps * 1000, 3),
        "luigi_seconds": round(peer, 3) if peer is not None else None,
        "clusterforge_vs_luigi": round(peer / ours, 2) if peer else None,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "engine.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(
        f"\n{steps} steps at parallelism {args.parallelism}: floor {base:.2f}s, "
        f"clusterforge {ours:.2f}s ({result['overhead_ms_per_step']} ms/step above the floor)"
        + (f", luigi {peer:.2f}s ({peer / ours:.2f}x ours)" if peer else ", luigi not installed")
    )
    return 0 if phase == "Succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
