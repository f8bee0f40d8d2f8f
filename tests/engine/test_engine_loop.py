"""Many workflows on the engine's one event loop (``engine/local/loop.py``):
they run side by side in one thread, their changes share commits, and a stop
request for one of them — read by the loop's single watcher — ends that one
alone."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

from clusterforge.engine import LocalEngine, Submission
from clusterforge.engine.local.testing import PodOutcome, PodSpec, memory_pods, outcome_of
from clusterforge.engine.phases import shutdown_message
from clusterforge.store import NodeRecord

WORKFLOW = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: side-}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: first, template: step}
    - - {name: second, template: step}
  - name: step
    container: {image: alpine, command: [step]}
"""


def test_workflows_share_one_loop_and_a_stop_ends_only_its_own(tmp_path: Path) -> None:
    threads: set[str] = set()
    release = threading.Event()

    async def script(node: NodeRecord, spec: PodSpec) -> PodOutcome:
        threads.add(threading.current_thread().name)
        while not release.is_set():
            await asyncio.sleep(0.02)
        return outcome_of(0, spec)

    engine = LocalEngine(home=tmp_path / "home", pods=memory_pods(script))
    ids = [engine.submit(Submission(text=WORKFLOW)).id for _ in range(12)]
    victim = ids[5]
    deadline = time.monotonic() + 60
    while any(_running_pods(engine, wid) == 0 for wid in ids):
        assert time.monotonic() < deadline, "the workflows did not all start"
        time.sleep(0.05)
    engine.stop(victim)
    engine.join(victim, timeout=60)
    release.set()
    for wid in ids:
        engine.join(wid, timeout=60)

    views = {wid: engine.get(wid) for wid in ids}
    assert views[victim].phase == "Failed"
    assert views[victim].record.message == shutdown_message("Stop")
    assert {views[w].phase for w in ids if w != victim} == {"Succeeded"}
    # every step of every workflow ran in the one engine thread
    assert threads == {"clusterforge-engine-loop"}
    second = {n.display_name: n.phase for n in views[victim].nodes.values()}
    assert "second" not in second  # the stopped workflow never reached its next group


def _running_pods(engine: LocalEngine, workflow_id: str) -> int:
    nodes = engine.get(workflow_id).nodes.values()
    return sum(1 for n in nodes if n.type == "Pod" and n.phase == "Running")
