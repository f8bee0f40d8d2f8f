"""Time from ``clusterforge build`` to a validated cluster, with the stage breakdown.

Baseline, measured in the same run: creating a bare kwok cluster with the same
number of nodes (``clusterforge cluster create``) — the floor any build on this
machine pays for a control plane. The build adds preflight, node groups,
add-ons and validation on top. Prints both, the ratio and each stage's share,
and writes ``bench/results/build.json``.

Usage: ``python bench/build.py [--spec examples/large-cluster.yaml]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"
CLI = [sys.executable, "-m", "clusterforge.cli"]


def _run(env: dict[str, str], *args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    done = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, check=False)
    return time.perf_counter() - start, done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spec", type=Path, default=ROOT / "examples" / "large-cluster.yaml")
    args = parser.parse_args()
    doc = yaml.safe_load(args.spec.read_text())
    nodes = sum(g["desired"] for g in doc["spec"]["nodeGroups"])
    home = Path(tempfile.mkdtemp(prefix="cf-bench-build-", dir=Path.home()))
    env = {**os.environ, "CLUSTERFORGE_HOME": str(home)}
    try:
        floor, created = _run(env, "cluster", "create", "bench-floor", "--nodes", str(nodes))
        if created.returncode != 0:
            print(created.stderr, file=sys.stderr)
            return 1
        _run(env, "cluster", "delete", "bench-floor")

        total, built = _run(env, "build", str(args.spec))
        if built.returncode != 0:
            print(built.stdout[-3000:], built.stderr[-3000:], file=sys.stderr)
        from clusterforge.engine import LocalEngine

        engine = LocalEngine(home=home)
        view = engine.get(engine.list()[0].id)
        stages = {}
        for node in view.nodes.values():
            if node.display_name in ("preflight", "core", "addons", "validation") and node.type in (
                "DAG",
                "Steps",
            ):
                stages[node.display_name] = round(
                    (node.finished_at or 0) - (node.started_at or 0), 2
                )
        _run(env, "destroy", str(args.spec))
    finally:
        shutil.rmtree(home, ignore_errors=True)
    result = {
        "spec": str(args.spec.relative_to(ROOT))
        if args.spec.is_relative_to(ROOT)
        else str(args.spec),
        "nodes": nodes,
        "phase": view.phase,
        "build_seconds": round(total, 2),
        "bare_cluster_seconds": round(floor, 2),
        "build_vs_bare_cluster": round(total / floor, 2),
        "stages_seconds": stages,
        "goal_seconds": 60,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "build.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(
        f"\nbuild of {result['spec']} ({nodes} nodes): {total:.1f}s ({view.phase}); "
        f"bare cluster {floor:.1f}s; ratio {total / floor:.2f}; stages {stages}"
    )
    return 0 if view.phase == "Succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
