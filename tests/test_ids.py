"""Random ids from a pooled buffer: well-formed, never repeated, fresh after fork."""

from __future__ import annotations

import os
import uuid

from clusterforge import ids


def test_uuids_are_version_4_and_distinct() -> None:
    made = [ids.uuid4() for _ in range(2000)]  # more than one buffer's worth
    assert len(set(made)) == len(made)
    assert all(u.version == 4 and u.variant == uuid.RFC_4122 for u in made)


def test_random_bytes_have_the_asked_length() -> None:
    assert [len(ids.random_bytes(n)) for n in (0, 1, 5, 16, 5000)] == [0, 1, 5, 16, 5000]


def test_a_forked_child_does_not_repeat_the_parent() -> None:
    ids.random_bytes(1)  # the parent has a buffer
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next bytes and leave at once
        os.write(write, ids.random_bytes(16))
        os._exit(0)
    os.close(write)
    child = os.read(read, 16)
    os.close(read)
    os.waitpid(pid, 0)
    assert child != ids.random_bytes(16)
