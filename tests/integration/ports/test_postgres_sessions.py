"""What every PostgreSQL store's connections are: `ODTO_PG_POOL_MIN` of them opened at once
and kept warm, and no JIT compilation (a short query must not pay for compiling itself)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from observatory.core.backends import make_event_store, make_job_store
from observatory.core.errors import ConfigurationError
from observatory.core.settings import Backends, load_backends
from observatory.core.stores.postgres_base import PostgresAdapter


def backends(postgres_url: str, namespace: str, pool_min: int) -> Backends:
    return Backends.model_validate(
        {"POSTGRES_URL": postgres_url, "ODTO_NAMESPACE": namespace, "ODTO_PG_POOL_MIN": pool_min}
    )


@pytest.mark.parametrize("make", [make_job_store, make_event_store], ids=["jobs", "events"])
async def test_the_pool_opens_its_warm_connections_with_jit_off(
    postgres_url: str, namespace: str, make: Callable[[Backends], object]
) -> None:
    store = make(backends(postgres_url, namespace, 4))
    assert isinstance(store, PostgresAdapter)
    await store.open()
    try:
        assert store.pool.get_size() == 4
        async with store.pool.acquire() as conn:
            assert await conn.fetchval("SHOW jit") == "off"
    finally:
        await store.close()


async def test_by_default_one_connection_is_kept(postgres_url: str, namespace: str) -> None:
    chosen = Backends.model_validate({"POSTGRES_URL": postgres_url, "ODTO_NAMESPACE": namespace})
    store = make_job_store(chosen)
    assert isinstance(store, PostgresAdapter)
    await store.open()
    try:
        assert store.pool.get_size() == 1
    finally:
        await store.close()


@pytest.mark.parametrize("value", ["0", "11", "many"])
def test_a_pool_size_out_of_range_stops_start_up(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("ODTO_PG_POOL_MIN", value)
    with pytest.raises(ConfigurationError, match=r"ODTO_PG_POOL_MIN|postgres_pool_min"):
        load_backends()
