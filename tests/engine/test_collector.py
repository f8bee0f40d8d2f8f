"""The garbage collector stays out of a submission's compilation (see
``clusterforge.engine.local.collector``): a large workflow is parsed and checked
with no collection, and the collector is on again afterwards, in every thread."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from clusterforge.engine import LocalEngine, Submission
from clusterforge.engine.local.collector import collector_paused
from clusterforge.engine.local.testing import fan_out_workflow, memory_pods


@pytest.fixture
def collections() -> Iterator[list[int]]:
    """The generations of the automatic collections that start while the test runs."""
    seen: list[int] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    thresholds = gc.get_threshold()
    gc.set_threshold(700, 10, 10)  # CPython's own, whatever an earlier test tuned
    gc.enable()
    gc.callbacks.append(record)
    try:
        yield seen
    finally:
        gc.callbacks.remove(record)
        gc.set_threshold(*thresholds)


def test_compiling_a_large_workflow_runs_no_collection(
    tmp_path: Path, collections: list[int]
) -> None:
    engine = LocalEngine(home=tmp_path / "home", pods=memory_pods())
    submission = Submission(text=fan_out_workflow(3000))
    gc.collect()
    collections.clear()
    record = engine.prepare(submission)
    # the one collection the pause held back may run as it ends; without the
    # pause there were one per 700 new objects
    assert len(collections) <= 1, collections
    assert len(record.manifest["spec"]["templates"][1]["dag"]["tasks"]) == 3001
    assert gc.isenabled()
    objects = [[index] for index in range(50_000)]  # young objects: collections resume
    assert collections, "the collector stayed off after the compilation"
    del objects


def test_a_refused_workflow_leaves_the_collector_on(tmp_path: Path) -> None:
    engine = LocalEngine(home=tmp_path / "home", pods=memory_pods())
    gc.enable()
    with pytest.raises(Exception, match="entrypoint"):
        engine.prepare(
            Submission(text=fan_out_workflow(10).replace("entrypoint: main", "entrypoint: no"))
        )
    assert gc.isenabled()


def test_overlapping_pauses_in_two_threads_end_with_the_last() -> None:
    gc.enable()
    first_in, second_out = threading.Event(), threading.Event()
    states: list[bool] = []

    def other() -> None:
        with collector_paused():
            first_in.wait()
        second_out.set()

    with collector_paused():
        thread = threading.Thread(target=other)
        thread.start()
        first_in.set()
        second_out.wait()
        states.append(gc.isenabled())  # the other pause ended; this one has not
    thread.join()
    states.append(gc.isenabled())
    assert states == [False, True]


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
