"""A pod's deadline from its template's ``timeout`` and ``activeDeadlineSeconds``, as
Argo's createWorkflowPod computes it (docs/argo-parity.md, "timeout"): the
timeout counts from the node's creation, the pod gets the whole seconds strictly
below what is left, and with one second or less it is not created."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clusterforge.engine.local.durations import DeadlinePassed, pod_deadline


def test_whole_second_timeouts_give_the_pod_one_second_less() -> None:
    assert pod_deadline(None, 10.0, 0.0) == 9.0  # Argo: int64(time.Until(deadline))
    assert pod_deadline(None, 10.0, 0.4) == 9.0
    assert pod_deadline(None, 2.5, 0.0) == 2.0


def test_a_wait_for_a_lock_is_taken_off_the_timeout() -> None:
    assert pod_deadline(None, 8.0, 3.0) == 4.0
    assert pod_deadline(None, 8.0, 2.5) == 5.0


@pytest.mark.parametrize(("timeout", "elapsed"), [(2.0, 0.0), (1.0, 0.0), (8.0, 6.5), (8.0, 9.0)])
def test_one_second_or_less_left_is_refused(timeout: float, elapsed: float) -> None:
    with pytest.raises(DeadlinePassed):
        pod_deadline(None, timeout, elapsed)


def test_active_deadline_alone_counts_from_the_pod_start() -> None:
    assert pod_deadline(4.0, None, 100.0) == 4.0
    assert pod_deadline(None, None, 100.0) is None


def test_the_tighter_of_both_wins() -> None:
    assert pod_deadline(3.0, 10.0, 0.0) == 3.0
    assert pod_deadline(30.0, 10.0, 0.0) == 9.0


@given(
    timeout=st.floats(min_value=0.0, max_value=1e5),
    elapsed=st.floats(min_value=0.0, max_value=1e5),
)
def test_the_pod_never_gets_more_than_is_left(timeout: float, elapsed: float) -> None:
    try:
        seconds = pod_deadline(None, timeout, elapsed)
    except DeadlinePassed:
        assert timeout - elapsed <= 2.0
        return
    assert seconds is not None
    assert seconds == int(seconds)
    assert 2 <= seconds < timeout - elapsed
