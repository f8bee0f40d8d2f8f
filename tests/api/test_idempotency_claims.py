"""Idempotency keys held across processes, on a real state database.

Two :class:`Store` objects on one file stand for two server processes (each
has its own connections; SQLite decides between them exactly as between
processes). A build request claims its key before it starts; a webhook
event creates its answer in the same transaction as its builds.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from clusterforge.api.errors import ApiError
from clusterforge.api.idempotency import Idempotency, KeyTaken
from clusterforge.store import Store

BODY = b'{"cluster": "a"}'


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Idempotency, Idempotency]:
    return Idempotency(Store(tmp_path / "state.db")), Idempotency(Store(tmp_path / "state.db"))


def test_a_claimed_key_is_409_elsewhere_until_answered(
    pair: tuple[Idempotency, Idempotency],
) -> None:
    first, second = pair
    with first.slot("key-1", "caller POST builds", BODY) as slot:
        assert slot.answer is None
        twin = second.slot("key-1", "caller POST builds", BODY)  # in another process
        with pytest.raises(ApiError) as refused, twin:
            pass
        assert refused.value.status == 409
        assert refused.value.headers["Retry-After"] == "1"
        slot.save({"id": "wf-1"})
    with second.slot("key-1", "caller POST builds", BODY) as replay:
        assert replay.answer == {"id": "wf-1"}


def test_a_failed_request_drops_its_claim(pair: tuple[Idempotency, Idempotency]) -> None:
    first, second = pair
    with pytest.raises(RuntimeError), first.slot("key-2", "caller POST builds", BODY):
        raise RuntimeError("the build could not be stored")
    with second.slot("key-2", "caller POST builds", BODY) as slot:
        assert slot.answer is None  # the client's retry runs
        slot.save({"id": "wf-2"})
    assert second.store.kv_get("idempotency", slot.key or "")["answer"] == {"id": "wf-2"}


def test_a_claim_left_by_a_dead_request_is_taken_over(
    pair: tuple[Idempotency, Idempotency],
) -> None:
    first, second = pair
    with first.slot("key-3", "caller POST builds", BODY) as slot:
        key = slot.key
        assert key is not None
        stale = {"fingerprint": slot.fingerprint, "claimed": time.time() - 3600}
        first.store.kv_put("idempotency", key, stale)  # as if its process died an hour ago
        slot.saved = True  # keep this test's exit from dropping it
    with second.slot("key-3", "caller POST builds", BODY) as taken:
        assert taken.answer is None
        assert taken.claimed


def test_an_event_answer_is_created_once(pair: tuple[Idempotency, Idempotency]) -> None:
    first, second = pair
    scope = "caller POST events/test/steps"

    async def race() -> None:
        # both processes found the key free and stored their builds; one commits first
        async with (
            first.claim("key-4", scope, BODY) as winner,
            second.claim("key-4", scope, BODY) as loser,
        ):
            assert winner.answer is None
            assert loser.answer is None
            winner.save({"id": "wf-a"})
            with pytest.raises(KeyTaken):
                loser.save({"id": "wf-b"})
            assert second.replay(loser) == ({"id": "wf-a", "replayed": True}, 202)

    asyncio.run(race())
