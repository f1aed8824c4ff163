"""A PostgreSQL migration is not cut short by the pool's query timeout: on a large store a
migration that copies rows takes minutes (jobs_0006: about 3.5 at 10,000,000 jobs), and a
service starting meanwhile waits for the one running it. Cut short, it rolled back and
began again at every retry of the store's opening, and the service never became ready."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from tests.integration.ports.engines import Engine
from tests.waiting import wait_until_async

from observatory.core.stores import postgres_pool
from observatory.core.stores.ports import JobStore
from observatory.core.stores.records import JobFilter

TIMEOUT = 0.2  # the pool's query timeout in this test


@pytest.mark.parametrize("job_store_target", ["postgres"], indirect=True)
async def test_a_migration_outlasting_the_query_timeout_completes(
    job_store_engine: Engine[JobStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another service holds the migrations' lock for several query timeouts: the job
    store's opening waits for it (not ready meanwhile), then migrates and answers."""
    monkeypatch.setattr(postgres_pool, "QUERY_TIMEOUT", TIMEOUT)
    store = job_store_engine.build()
    holder = await asyncpg.connect(job_store_engine.target)
    try:
        await holder.execute("SELECT pg_advisory_lock(hashtext('observatory-migrations'))")
        opening = asyncio.create_task(store.open())

        async def waiting_for_the_lock() -> bool:
            return bool(
                await holder.fetchval(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                )
            )

        await wait_until_async(waiting_for_the_lock, timeout=10)
        done, _ = await asyncio.wait({opening}, timeout=5 * TIMEOUT)
        assert not done, opening  # still waiting, not failed
        assert not await store.ping()  # not ready before its migrations are done
        await holder.execute("SELECT pg_advisory_unlock(hashtext('observatory-migrations'))")
        await asyncio.wait_for(opening, timeout=30)
    finally:
        await holder.close()
    try:
        assert await store.ping()
        page = await store.page(
            JobFilter(status="FAILED", meta=(("tenant", "a"),)), limit=5, cursor=None
        )
        assert page.items == []
    finally:
        await store.close()
