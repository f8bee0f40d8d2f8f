"""Many workflows on the engine's one event loop (``engine/local/loop.py``):
they run side by side in one thread, their changes share commits, and a stop
request for one of them — read by the loop's single watcher — ends that one
alone."""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

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


ONE_STEP = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: held-}
spec:
  entrypoint: step
  templates:
  - name: step
    container: {image: alpine, command: [step]}
"""


@pytest.fixture
def ctrl_c_handler() -> Iterator[None]:
    """Python's own SIGINT handler for the test: a run started in the background
    (`make test &`, a CI runner) inherits SIGINT ignored."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("Ctrl-C raises KeyboardInterrupt only in the main thread")
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("ctrl_c_handler")
def test_a_ctrl_c_the_kernel_gives_another_thread_interrupts_a_join(tmp_path: Path) -> None:
    # `run --wait` joins its workflow; a SIGINT delivered to another of the
    # process's threads (the engine loop's, a launcher's) must still interrupt it
    # while the workflow runs. A join blocking without a timeout held it until
    # the workflow ended (test_ctrl_c_on_run_wait_stops_the_workflow_and_says_so
    # timed out that way under load).
    started, release, interrupted = threading.Event(), threading.Event(), threading.Event()

    async def script(node: NodeRecord, spec: PodSpec) -> PodOutcome:
        started.set()
        while not release.is_set():
            await asyncio.sleep(0.02)
        return outcome_of(0, spec)

    def ctrl_c_in_this_thread() -> None:
        deadline = time.monotonic() + 30
        while not _main_thread_in(LocalEngine.join) and time.monotonic() < deadline:
            time.sleep(0.01)
        signal.pthread_kill(threading.get_ident(), signal.SIGINT)
        if not interrupted.wait(30):
            release.set()  # the join was not interrupted: let it end, the test fails

    engine = LocalEngine(home=tmp_path / "home", pods=memory_pods(script))
    workflow_id = engine.submit(Submission(text=ONE_STEP)).id
    assert started.wait(60)
    threading.Thread(target=ctrl_c_in_this_thread).start()
    try:
        engine.join(workflow_id)
        pytest.fail("the join ended without the KeyboardInterrupt")
    except KeyboardInterrupt:
        phase_when_interrupted = engine.get(workflow_id).phase
        interrupted.set()
    finally:
        release.set()
        engine.join(workflow_id, timeout=60)
    assert phase_when_interrupted == "Running"
    assert engine.get(workflow_id).phase == "Succeeded"


def _main_thread_in(function: Callable[..., object]) -> bool:
    """Whether the main thread is running ``function`` now (anywhere on its stack)."""
    frame = sys._current_frames().get(threading.main_thread().ident or 0)
    while frame is not None:
        if frame.f_code is function.__code__:
            return True
        frame = frame.f_back
    return False
