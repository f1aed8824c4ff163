"""PostgreSQL's job store asks autovacuum to keep `job_meta` (the metadata search index)
marked all-visible: vacuumed after 1 % new rows (at least 10,000), not the default 20 %,
so a metadata search reads index entries, not rows (migration jobs_0005)."""

from __future__ import annotations

from observatory.core.backends import make_job_store
from observatory.core.settings import Backends
from observatory.core.stores.postgres_base import PostgresAdapter


async def test_job_meta_is_vacuumed_after_one_percent_of_new_rows(
    postgres_url: str, namespace: str
) -> None:
    chosen = Backends.model_validate({"POSTGRES_URL": postgres_url, "ODTO_NAMESPACE": namespace})
    store = make_job_store(chosen)
    assert isinstance(store, PostgresAdapter)
    await store.open()
    try:
        options = await store.pool.fetchval(
            "SELECT reloptions FROM pg_class WHERE oid = 'job_meta'::regclass"
        )
    finally:
        await store.close()
    assert sorted(options) == [
        "autovacuum_vacuum_insert_scale_factor=0.01",
        "autovacuum_vacuum_insert_threshold=10000",
    ]
