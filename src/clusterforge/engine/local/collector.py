"""The cyclic garbage collector in an engine process.

Two moments need it quiet:

- Once the engine loop starts (:func:`tune_collector`): what exists by then
  (imports, templates, the server) is frozen out of its scans, and its first
  generation collects less often — the engine allocates many small, long-lived
  records (nodes, events), which each collection would walk again.
- While a submission is compiled (:func:`collector_paused`): parsing and
  checking a workflow of 50,000 tasks makes a few million objects, none of them
  garbage until the compilation ends, and none in a reference cycle that
  outlives it. With the collector on, every young-generation collection walks
  them again: checking 40,000 tasks took 18 s instead of 6 s, and the time per
  task grew with the workflow. The input is bounded (size, depth, aliases:
  :mod:`clusterforge.safety`), so what the pause can accumulate is too.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["GC_THRESHOLD", "collector_paused", "tune_collector"]

GC_THRESHOLD = (20_000, 20, 20)
"""The collector's thresholds in an engine process (CPython's default: 700, 10, 10)."""

_PAUSES = threading.Lock()
_paused = 0
_was_enabled = False


def tune_collector() -> None:
    """Freeze what exists now out of the collector's scans; collect young objects
    less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


@contextmanager
def collector_paused() -> Iterator[None]:
    """No automatic collection inside the block, in any thread; the collector is
    enabled again (if it was) when the last of the overlapping pauses ends."""
    global _paused, _was_enabled
    with _PAUSES:
        if _paused == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _PAUSES:
            _paused -= 1
            if _paused == 0 and _was_enabled:
                gc.enable()
