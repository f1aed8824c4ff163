"""The gateway's PENDING-row writer: batches off the request path, bounded retries, a
flush that waits for what is queued, nothing lost on a clean shutdown."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from tests.waiting import wait_until_async

from observatory.core.errors import DependencyDown, InvalidMessage
from observatory.core.stores.records import Pending
from observatory.services.gateway.pending import PendingWriter

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def row(job_id: str | None = None) -> Pending:
    return Pending(job_id or str(uuid.uuid4()), "T", {}, {}, NOW, 1, str(uuid.uuid4()), "c", NOW)


class FakeStore:
    """Records accept() calls; fails the next `failures` calls, refuses `refused` ids."""

    def __init__(self, failures: int = 0, refused: frozenset[str] = frozenset()) -> None:
        self.calls: list[list[str]] = []
        self.written: list[str] = []
        self.failures, self.refused = failures, refused

    async def accept(self, pendings: Sequence[Pending]) -> None:
        ids = [p.job_id for p in pendings]
        self.calls.append(ids)
        if self.failures:
            self.failures -= 1
            raise DependencyDown("job_store", "test says so")
        if self.refused & set(ids):
            raise InvalidMessage("refused")
        self.written += ids


def writer(store: FakeStore, **options: float) -> PendingWriter:
    timing = {"interval": 0.01, "backoff": 0.001, **options}
    return PendingWriter(store, **timing)  # type: ignore[arg-type]  # FakeStore has only accept()


async def test_rows_added_together_are_written_in_one_batch() -> None:
    store = FakeStore()
    pending = writer(store)
    rows = [row() for _ in range(5)]
    for r in rows:
        pending.add(r)
    await wait_until_async(lambda: len(store.written) == 5, message="the batch")
    assert store.calls == [[r.job_id for r in rows]]
    await pending.close()


async def test_a_full_batch_is_written_without_waiting_for_the_interval() -> None:
    store = FakeStore()
    pending = writer(store, interval=3600, batch=3)
    for _ in range(3):
        pending.add(row())
    await wait_until_async(lambda: len(store.written) == 3, message="the full batch")
    await pending.close()


async def test_a_failed_write_is_retried_then_succeeds() -> None:
    store = FakeStore(failures=2)
    pending = writer(store)
    pending.add(row())
    await pending.flush()
    assert (len(store.calls), len(store.written), pending.dropped) == (3, 1, 0)
    await pending.close()


async def test_a_store_that_stays_down_costs_the_rows_not_the_writer() -> None:
    """After `attempts` tries the rows are dropped (counted); later rows are written."""
    store = FakeStore(failures=3)
    pending = writer(store, attempts=3)
    pending.add(row())
    await pending.flush()
    assert (len(store.calls), store.written, pending.dropped) == (3, [], 1)
    later = row()
    pending.add(later)
    await pending.flush()
    assert store.written == [later.job_id]
    await pending.close()


async def test_a_refused_row_is_isolated_and_the_others_are_written() -> None:
    bad = row()
    store = FakeStore(refused=frozenset({bad.job_id}))
    pending = writer(store)
    good = [row(), row()]
    for r in (good[0], bad, good[1]):
        pending.add(r)
    await pending.flush()
    assert sorted(store.written) == sorted(r.job_id for r in good)
    assert pending.dropped == 1
    await pending.close()


async def test_close_writes_what_is_queued() -> None:
    store = FakeStore()
    pending = writer(store, interval=3600)
    pending.add(row())
    await pending.close()
    assert len(store.written) == 1
    pending.add(row())  # after close: ignored, never started again
    assert len(store.written) == 1


async def test_past_capacity_the_oldest_rows_are_dropped() -> None:
    store = FakeStore()
    pending = writer(store, interval=3600, capacity=2, batch=100)
    rows = [row() for _ in range(3)]
    for r in rows:
        pending.add(r)
    await pending.flush()
    assert store.written == [rows[1].job_id, rows[2].job_id]
    assert pending.dropped == 1
    await pending.close()
