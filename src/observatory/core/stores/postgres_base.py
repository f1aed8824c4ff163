"""What every PostgreSQL store adapter shares: a pool in the namespace's schema,
migrations on open, ping and close."""

from __future__ import annotations

from typing import Any, ClassVar

from observatory.core.errors import DependencyDown
from observatory.core.stores.migrate import migrate_postgres
from observatory.core.stores.postgres_pool import create_pool, guarded, ping_pool


class PostgresAdapter:
    """Base of the PostgreSQL adapters; `component` names their migrations, `dependency`
    is how their failures are reported."""

    component: ClassVar[str]
    dependency: ClassVar[str]
    # Server settings of the adapter's connections. No JIT: every query here is a few
    # index reads, and at tens of millions of rows the planner's cost estimates cross
    # jit_above_cost, so a query would pay tens of ms compiling to save microseconds.
    session: ClassVar[dict[str, str]] = {"jit": "off"}

    def __init__(self, url: str, *, namespace: str = "", pool_min: int = 1) -> None:
        self._url = url
        self._namespace = namespace
        self._pool_min = pool_min
        self._pool: Any = None

    async def open(self) -> None:
        """Open the pool and migrate; the store is up (ping, readiness) only once its
        migrations are done: a service must not report ready while a migration, or the
        wait for another service's, is still running."""
        pool = await create_pool(
            self._url,
            namespace=self._namespace,
            dependency=self.dependency,
            min_size=self._pool_min,
            session=self.session,
        )
        try:
            async with guarded(self.dependency), pool.acquire() as conn:
                await migrate_postgres(conn, self.component)
        except BaseException:
            pool.terminate()  # no wait: the opening is retried or cancelled
            raise
        self._pool = pool

    @property
    def pool(self) -> Any:
        """The open pool; before open() or after close() the store is down, not broken."""
        if self._pool is None:
            raise DependencyDown(self.dependency, "not open")
        return self._pool

    async def ping(self) -> bool:
        return self._pool is not None and await ping_pool(self._pool)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
