"""Semaphore slots and Argo's queue order, across holders of one engine home.

Argo's priority queue (workflow/sync/multi_throttler.go): higher priority first,
then the older workflow; only the front may take a free slot. These tests drive
:class:`Semaphores` directly with real lock files, and a second process that
holds a slot and dies (its slot is free again).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from clusterforge.engine.local._operator.semaphores import (
    Holder,
    SemaphoreRef,
    Semaphores,
    semaphore_refs,
)

REF = SemaphoreRef("limits", "k")


def _holder(limit: int, priority: int, created: float, said: list[str]) -> Holder:
    async def read(_: SemaphoreRef) -> int:
        return limit

    return Holder(priority, created, read, said.append)


def test_waiters_get_the_slot_in_argos_order(tmp_path: Path) -> None:
    sems = Semaphores(tmp_path)
    order: list[str] = []
    said: list[str] = []

    async def hold(name: str, priority: int, created: float, delay: float) -> None:
        await asyncio.sleep(delay)
        async with sems.held("ns", [REF], _holder(1, priority, created, said)):
            order.append(name)
            await asyncio.sleep(0.3)

    async def main() -> None:
        await asyncio.gather(
            hold("first", 0, 50.0, 0.0),  # takes the slot at once
            hold("newer", 0, 30.0, 0.05),
            hold("older", 0, 10.0, 0.1),  # came later, but its workflow is older
            hold("urgent", 5, 40.0, 0.15),  # higher priority beats both
        )

    asyncio.run(main())
    assert order == ["first", "urgent", "older", "newer"]
    assert "Waiting for ns/ConfigMap/limits/k lock. Lock status: 0/1" in said


def test_at_most_limit_holders(tmp_path: Path) -> None:
    sems = Semaphores(tmp_path)
    running = peak = 0

    async def hold(created: float) -> None:
        nonlocal running, peak
        async with sems.held("ns", [REF], _holder(2, 0, created, [])):
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.2)
            running -= 1

    async def main() -> None:
        await asyncio.gather(*(hold(float(i)) for i in range(5)))

    asyncio.run(main())
    assert peak == 2


def test_a_dead_holder_frees_its_slot(tmp_path: Path) -> None:
    code = f"""
import asyncio
from pathlib import Path
from clusterforge.engine.local._operator.semaphores import Holder, SemaphoreRef, Semaphores
async def read(_): return 1
async def main():
    async with Semaphores(Path({str(tmp_path)!r})).held("ns", [SemaphoreRef("limits", "k")],
                                                   Holder(0, 0.0, read, print)):
        print("held", flush=True)
        await asyncio.sleep(60)
asyncio.run(main())
"""
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "held"
        said: list[str] = []

        async def wait_then_take() -> str:
            async with Semaphores(tmp_path).held("ns", [REF], _holder(1, 0, 1.0, said)):
                return "taken"

        async def main() -> str:
            task = asyncio.ensure_future(wait_then_take())
            await asyncio.sleep(0.3)
            assert not task.done()  # the other process holds the only slot
            child.kill()
            return await asyncio.wait_for(task, 10)

        assert asyncio.run(main()) == "taken"
        assert said  # it said what it waited for
    finally:
        child.kill()
        child.wait()


def test_refs_from_both_forms() -> None:
    assert semaphore_refs({"semaphores": [{"configMapKeyRef": {"name": "a", "key": "b"}}]}) == [
        SemaphoreRef("a", "b")
    ]
    assert semaphore_refs({"semaphores": [{"database": {"key": "d"}}]}) == []
    assert (
        semaphore_refs(
            {"semaphores": [{"configMapKeyRef": {"name": "a", "key": "b"}, "namespace": "x"}]}
        )[0].lock_name("ns")
        == "x/ConfigMap/a/b"
    )
