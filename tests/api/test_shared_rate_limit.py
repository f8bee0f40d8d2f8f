"""``TokenBucket`` with ``shared=``: one bucket per key across processes, through a file.

``serve --processes N`` runs N acceptors; each builds its own ``Guard``, so
the buckets must live in a file every acceptor maps, or a token would get N
times its rate. The processes here are real (fresh interpreters, and forked
copies); nothing is mocked, and nothing asserts how long anything took.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from clusterforge.api.security import SharedBuckets, TokenBucket

# argv: shared file, key, rate, burst, takes. Says "ready" once the table is
# mapped, takes only after a line on stdin (so the processes contend), then
# prints the waits as JSON.
_TAKER = """
import json, sys
from pathlib import Path
from clusterforge.api.security import TokenBucket

path, key, rate, burst, takes = sys.argv[1:]
bucket = TokenBucket(float(rate), float(burst), shared=Path(path))
print("ready", flush=True)
sys.stdin.readline()
print(json.dumps([bucket.take(key) for _ in range(int(takes))]), flush=True)
"""

NO_REFILL = 0.001  # a token per 1000 s: nothing refills while a test runs


def _take_in_processes(
    path: Path, keys: list[str], *, takes: int, rate: float = NO_REFILL, burst: float = 10.0
) -> list[list[float]]:
    """Each key's takes in a process of its own, all released at once; their waits."""
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _TAKER, str(path), key, str(rate), str(burst), str(takes)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for key in keys
    ]
    try:
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready"
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.close()
        results = []
        for child in children:
            assert child.stdout is not None
            out = child.stdout.read()
            assert child.wait(120) == 0
            results.append(json.loads(out))
        return results
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()


def test_processes_taking_for_one_key_share_its_burst(tmp_path: Path) -> None:
    waits = _take_in_processes(tmp_path / "rate-limit", ["token-a"] * 3, takes=10)
    every = [w for one in waits for w in one]
    assert len(every) == 30
    assert sum(w == 0.0 for w in every) == 10  # the burst, once, however many processes
    refused = [w for w in every if w != 0.0]
    assert len(refused) == 20
    assert all(w > 0 for w in refused)


def test_different_keys_have_their_own_buckets(tmp_path: Path) -> None:
    path = tmp_path / "rate-limit"
    waits = _take_in_processes(path, ["token-a", "token-b"], takes=3, burst=2.0)
    for one in waits:
        assert [w == 0.0 for w in one] == [True, True, False]
    # and this process sees the same table: both keys are empty, a third is full
    here = TokenBucket(NO_REFILL, 2.0, shared=path)
    assert here.take("token-a") > 0
    assert here.take("token-b") > 0
    assert here.take("token-c") == 0.0
    here.close()


def test_refill_is_seen_through_the_file(tmp_path: Path) -> None:
    path = tmp_path / "rate-limit"
    first = TokenBucket(50.0, 1.0, shared=path)
    second = TokenBucket(50.0, 1.0, shared=path)  # another open, as another process has
    assert first.take("k", now=100.0) == 0.0
    assert second.take("k", now=100.0) == pytest.approx(0.02)  # one token at 50/s
    assert second.take("k", now=100.01) > 0  # half a token is not enough
    assert first.take("k", now=100.05) == 0.0  # refilled, as the other open wrote it
    assert second.take("k", now=100.05) > 0
    first.close()
    second.close()


def test_a_clock_running_backwards_does_not_drain_the_bucket(tmp_path: Path) -> None:
    # a take that read the clock before another's (or a table kept across a
    # reboot) must not count negative time as a negative refill
    for shared in (tmp_path / "rate-limit", None):
        bucket = TokenBucket(1.0, 2.0, shared=shared)
        assert bucket.take("k", now=1000.0) == 0.0
        assert bucket.take("k", now=999.0) == 0.0  # the second token is still there
        assert bucket.take("k", now=999.0) > 0
        bucket.close()


def test_a_full_table_reuses_the_least_recently_used_slot(tmp_path: Path) -> None:
    bucket = TokenBucket(NO_REFILL, 1.0, shared=tmp_path / "rate-limit", slots=8)
    assert bucket.take("steady", now=0.0) == 0.0
    for n in range(50):  # many more keys than slots
        key = f"key-{n}"
        assert bucket.take(key, now=1.0 + n) == 0.0  # a key new to the table starts full
        assert bucket.take(key, now=1.0 + n) > 0  # and is remembered right after
    # "steady" was the oldest long ago: forgotten, so it starts full again
    assert bucket.take("steady", now=100.0) == 0.0
    assert (tmp_path / "rate-limit").stat().st_size == 8 * 24
    bucket.close()


def test_the_table_keeps_the_size_it_was_created_with(tmp_path: Path) -> None:
    path = tmp_path / "rate-limit"
    small = TokenBucket(NO_REFILL, 1.0, shared=path, slots=8)
    large = TokenBucket(NO_REFILL, 1.0, shared=path)  # default 4096: the file says 8
    assert small.take("k") == 0.0
    assert large.take("k") > 0  # the same slot, found with the same slot count
    assert path.stat().st_size == 8 * 24
    small.close()
    large.close()
    with pytest.raises(ValueError, match="slots"):
        SharedBuckets(tmp_path / "other", slots=0)


def test_the_file_is_created_private(tmp_path: Path) -> None:
    path = tmp_path / "rate-limit"
    old = os.umask(0)  # the mode must not depend on a permissive umask
    try:
        bucket = TokenBucket(NO_REFILL, 1.0, shared=path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    bucket.close()


def test_without_a_file_nothing_is_written_and_a_zero_rate_is_unlimited(tmp_path: Path) -> None:
    assert TokenBucket(0.0, 1.0, shared=tmp_path / "rate-limit").take("k") == 0.0
    assert not (tmp_path / "rate-limit").exists()  # rate 0: no limit, no file
    memory = TokenBucket(NO_REFILL, 1.0)
    assert memory.take("k") == 0.0
    assert memory.take("k") > 0
    assert list(tmp_path.iterdir()) == []


def _forked_taker(bucket: TokenBucket, takes: int, out: multiprocessing.SimpleQueue[int]) -> None:
    out.put(sum(bucket.take("token-a") == 0.0 for _ in range(takes)))


@pytest.mark.skipif(sys.platform != "linux", reason="fork, and flock semantics, as on Linux")
def test_forked_copies_of_one_bucket_still_exclude_each_other(tmp_path: Path) -> None:
    # A bucket opened before a fork (a server that forks workers after building
    # its app) shares the open file, and so the flock, with its children; each
    # child must open its own or their read-modify-writes interleave.
    burst, takes, children = 3000, 1500, 4
    bucket = TokenBucket(NO_REFILL, float(burst), shared=tmp_path / "rate-limit")
    assert bucket.take("token-a") == 0.0  # opened and used before the fork
    fork = multiprocessing.get_context("fork")
    out: multiprocessing.SimpleQueue[int] = fork.SimpleQueue()
    workers = [
        fork.Process(target=_forked_taker, args=(bucket, takes, out)) for _ in range(children)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    allowed = sum(out.get() for _ in workers)
    assert allowed == burst - 1  # 6000 tries for 2999 tokens: none counted twice
    bucket.close()
