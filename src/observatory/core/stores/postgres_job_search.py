"""Job search on PostgreSQL (`JobStore.page`, `recent`, `count_matching`): the read half
of `PostgresJobStore`, which mixes it in.

The WHERE clause comes from job_search.py. A search without metadata walks `jobs` in
keyset order. A metadata search is driven by `job_meta` (one LATERAL row lookup per pair
met), unless other filters narrow it and its first pair is common (more than RARE_ROWS
jobs): then the newest PROBE_ROWS rows the others select are probed first (`_probe`).
With a final status, `job_meta_final` (the pairs under that status) drives it; narrowed
further, its first WALK_ROWS pairs are walked first, then the probe, then the rest.
A search from an `updatedFrom` reads its update range through the updated_at index when
that range holds at most RANGE_ROWS jobs (`_updated_page`).
"""

from __future__ import annotations

from typing import Any

from observatory.core.stores.cursor import encode_cursor
from observatory.core.stores.job_search import FINAL_TABLE, Where, postgres_where
from observatory.core.stores.postgres_base import PostgresAdapter
from observatory.core.stores.postgres_pool import guarded
from observatory.core.stores.records import AttemptRecord, JobFilter, JobPage, JobRecord

PROBE_ROWS = 1000  # rows a narrowed metadata search looks at before job_meta drives it
# A metadata value held by at most this many jobs lets job_meta drive a narrowed search:
# each pair met costs one row lookup (about 5 us on the benchmark's machine).
RARE_ROWS = 4096
# An update range with at most this many jobs is read whole through its own index, the
# other filters checked on its rows and the matches sorted by creation (about 0.5 us a row
# from the index alone); a larger one is walked in page order.
RANGE_ROWS = 20_000
# Pairs of `job_meta_final` walked before a probe: with the status answered by the table,
# the other filters usually fill a page within them (at 10,000,000 jobs about 6 ms).
WALK_ROWS = 1000
COLUMNS = (
    "id::text AS id, type, status, payload, metadata, created_at, updated_at, completed_at,"
    " attempts, run, last_error"
)


def job_record(row: Any, history: tuple[AttemptRecord, ...] = ()) -> JobRecord:
    """The JobRecord of a row selected with COLUMNS."""
    return JobRecord(
        id=row["id"],
        type=row["type"],
        status=row["status"],
        payload=row["payload"],
        metadata=row["metadata"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        completed_at=row["completed_at"],
        attempts=row["attempts"],
        run=row["run"],
        last_error=row["last_error"],
        history=history,
    )


class PostgresJobSearch(PostgresAdapter):
    """The search methods of PostgresJobStore (see module docstring)."""

    async def recent(self, limit: int) -> list[JobRecord]:
        return (await self.page(JobFilter(), limit=limit, cursor=None)).items

    async def page(self, filter: JobFilter, *, limit: int, cursor: str | None) -> JobPage:
        rows = None
        if filter.meta:
            rows = await self._meta_page(filter, cursor, limit)
        elif filter.updated_from is not None:
            rows = await self._updated_page(filter, cursor, limit)
        if rows is None:
            where = postgres_where(filter, cursor)
            limit_mark = where.arg(limit + 1)
            sql = (
                f"SELECT {COLUMNS} FROM jobs {where.sql()}"  # noqa: S608 — constant columns and clauses; values are $n parameters
                f" ORDER BY jobs.created_at DESC, jobs.id DESC LIMIT {limit_mark}"
            )
            async with guarded(self.dependency):
                rows = await self.pool.fetch(sql, *where.args)
        items = [job_record(row) for row in rows[:limit]]
        last = rows[limit - 1] if len(rows) > limit else None
        next_cursor = encode_cursor(_exact(last["created_at"]), last["id"]) if last else None
        return JobPage(items, next_cursor)

    async def count_matching(self, filter: JobFilter) -> int:
        where = postgres_where(filter, None)
        sql = f"SELECT COUNT(*) FROM {_source(where)} {where.sql()}"  # noqa: S608 — constant clauses; values are $n parameters
        async with guarded(self.dependency):
            return int(await self.pool.fetchval(sql, *where.args))

    async def _meta_page(self, filter: JobFilter, cursor: str | None, limit: int) -> list[Any]:
        """A metadata search. Alone (or with a created range) `job_meta` drives it: its
        index range is in page order, so a page reads `limit` pairs and their rows. With
        other filters, a value held by at most RARE_ROWS jobs still lets `job_meta` drive
        (at most that many rows checked); a commoner one is probed first (`_probe`).
        With a final status `job_meta_final` drives, its first WALK_ROWS pairs first
        (`_walk_first`): the status is answered, so the other filters are usually met
        within them; else the probe, then the rest of the pairs."""
        where = postgres_where(filter, cursor)
        found: list[Any] = []
        if where.meta_table == FINAL_TABLE and _narrowed(filter, where):
            found, after = await self._walk_first(where, limit)
            if after is None:
                return found
            rows = await self._probe(filter, cursor, limit)
            if rows is not None:
                return rows
            where = postgres_where(filter, cursor)
            at, job = where.arg(after[0]), where.arg(after[1])
            where.meta.append(f"(m.meta_created_at, m.meta_job_id) < ({at}, {job}::uuid)")
        elif _narrowed(filter, where) and not await self._rare(filter):
            rows = await self._probe(filter, cursor, limit)
            if rows is not None:
                return rows
        return found + await self._walk(where, limit + 1 - len(found))

    async def _walk(self, where: Where, take: int) -> list[Any]:
        """The first `take` matches in the metadata table's index range."""
        take_mark = where.arg(take)
        # LATERAL with OFFSET 0: one row lookup per pair met, in the index's order,
        # whatever the estimates (a plain join's estimate of id and created_at together
        # is 1 row, which made a hash join over every match look cheap).
        sql = (
            f"SELECT {COLUMNS} FROM {where.meta_table} AS m CROSS JOIN LATERAL ("  # noqa: S608 — constant columns, table and clauses; values are $n parameters
            "SELECT * FROM jobs WHERE jobs.id = m.meta_job_id"
            f" AND jobs.created_at = m.meta_created_at{where.rows_sql()} OFFSET 0) AS jobs"
            f" {where.meta_sql()}"
            f" ORDER BY m.meta_created_at DESC, m.meta_job_id DESC LIMIT {take_mark}"
        )
        async with guarded(self.dependency):
            return list(await self.pool.fetch(sql, *where.args))

    async def _walk_first(
        self, where: Where, limit: int
    ) -> tuple[list[Any], tuple[Any, str] | None]:
        """The matches among the first WALK_ROWS pairs of the index range (at most a
        page and one), and where the walk stopped: the WALK_ROWS-th pair (creation time,
        job id), or None when the matches fill the page or the range ended before it."""
        bound, page = where.arg(WALK_ROWS), where.arg(limit + 2)  # + the WALK_ROWS-th
        sql = (
            f"SELECT {COLUMNS}, m.n, m.meta_created_at AS pair_at, m.meta_job_id::text AS pair_id"  # noqa: S608 — constant columns, table and clauses; values are $n parameters
            " FROM (SELECT meta_created_at, meta_job_id, row_number() OVER"
            " (ORDER BY meta_created_at DESC, meta_job_id DESC) AS n"
            f" FROM {where.meta_table} AS m {where.meta_sql()}"
            f" ORDER BY meta_created_at DESC, meta_job_id DESC LIMIT {bound}) AS m"
            " LEFT JOIN LATERAL (SELECT * FROM jobs WHERE jobs.id = m.meta_job_id"
            f" AND jobs.created_at = m.meta_created_at{where.rows_sql()} OFFSET 0) AS jobs"
            f" ON TRUE WHERE jobs.id IS NOT NULL OR m.n = {bound}"
            f" ORDER BY m.meta_created_at DESC, m.meta_job_id DESC LIMIT {page}"
        )
        async with guarded(self.dependency):
            rows = await self.pool.fetch(sql, *where.args)
        hits = [row for row in rows if row["id"] is not None]
        last = next((row for row in rows if row["n"] == WALK_ROWS), None)
        if len(hits) > limit or last is None:
            return hits[: limit + 1], None
        return hits, (last["pair_at"], last["pair_id"])

    async def _updated_page(
        self, filter: JobFilter, cursor: str | None, limit: int
    ) -> list[Any] | None:
        """A search from an `updatedFrom`: the jobs of the update range (after the cursor)
        read through the updated_at index, at most RANGE_ROWS + 1 of them, the other
        filters checked on those rows (`hit`), the page's newest by creation fetched
        whole. Walking creation order instead is what the planner picks once the range's
        estimate is a small share of a large table, and updates do not follow creation:
        an hour a week back walked every job created since (10,000,000 jobs: seconds a
        request). The rows, or None when the range held more than RANGE_ROWS jobs (then
        creation order is walked, through the other filters' own indexes)."""
        where = postgres_where(filter, cursor, ranged=True)
        cap, most = where.arg(RANGE_ROWS + 1), where.arg(RANGE_ROWS)
        page = where.arg(limit + 1)
        hit = " AND ".join(where.late) or "TRUE"
        sql = (
            f"SELECT {COLUMNS}, seen FROM jobs JOIN (SELECT id, created_at, seen FROM ("  # noqa: S608 — constant columns and clauses; values are $n parameters
            "SELECT id, created_at, hit, count(*) OVER () AS seen FROM ("
            f"SELECT id, created_at, ({hit}) IS TRUE AS hit FROM jobs {where.early_sql()}"
            f" ORDER BY updated_at DESC, id DESC LIMIT {cap}) AS ranged) AS counted"
            f" WHERE hit OR seen > {most}"
            f" ORDER BY created_at DESC, id DESC LIMIT {page}) AS newest USING (id, created_at)"
            " ORDER BY newest.created_at DESC, newest.id DESC"
        )
        async with guarded(self.dependency):
            rows = await self.pool.fetch(sql, *where.args)
        if rows and rows[0]["seen"] > RANGE_ROWS:
            return None
        return list(rows)

    async def _rare(self, filter: JobFilter) -> bool:
        """Whether the first metadata pair (in the created range) has at most RARE_ROWS
        jobs: an index-only count of `job_meta` that stops there."""
        key, value = filter.meta[0]
        async with guarded(self.dependency):
            found = await self.pool.fetchval(
                "SELECT count(*) FROM (SELECT 1 FROM job_meta WHERE meta_key = $1"
                " AND meta_value = $2 AND meta_created_at >= coalesce($3::timestamptz, '-infinity')"
                " AND meta_created_at < coalesce($4::timestamptz, 'infinity') LIMIT $5) AS found",
                key,
                value,
                filter.created_from,
                filter.created_to,
                RARE_ROWS + 1,
            )
        return int(found) <= RARE_ROWS

    async def _probe(self, filter: JobFilter, cursor: str | None, limit: int) -> list[Any] | None:
        """Metadata with other filters: walk the newest PROBE_ROWS rows the others select
        (through their own index, in page order) and keep those whose metadata matches;
        for a common value that fills the page after a few rows, where walking `job_meta`
        would probe thousands of rows for the others. The walk stops once the page is
        full; the PROBE_ROWS-th row comes back too (as `n`), so a probe that got that far
        without filling the page is told from one that reached the end of the selection.
        Only the first lets `job_meta` drive the search. The rows, or None."""
        where = postgres_where(filter, cursor, probe=True)
        probe, page = where.arg(PROBE_ROWS), where.arg(limit + 2)  # + the PROBE_ROWS-th
        hit = " AND ".join(where.late)
        sql = (
            f"SELECT {COLUMNS}, hit, n FROM (SELECT newest.*, ({hit}) IS TRUE AS hit,"  # noqa: S608 — constant columns and clauses; values are $n parameters
            " row_number() OVER (ORDER BY created_at DESC, id DESC) AS n"
            f" FROM (SELECT * FROM jobs {where.early_sql()}"
            f" ORDER BY created_at DESC, id DESC LIMIT {probe}) AS newest) AS probed"
            f" WHERE hit OR n = {probe}"
            f" ORDER BY probed.created_at DESC, probed.id DESC LIMIT {page}"
        )
        async with guarded(self.dependency):
            rows = await self.pool.fetch(sql, *where.args)
        hits = [row for row in rows if row["hit"]]
        if len(hits) > limit or not any(row["n"] == PROBE_ROWS for row in rows):
            return hits
        return None


def _narrowed(job_filter: JobFilter, where: Where) -> bool:
    """A metadata search that other filters narrow (see `_probe`); a final status is
    not one of them when `job_meta_final` drives (its pairs are under that status)."""
    f = job_filter
    status = None if where.meta_table == FINAL_TABLE else f.status
    others = (f.id_prefix, status, f.type, f.error, f.updated_from, f.updated_to)
    return bool(f.meta) and any(value is not None for value in others)


def _source(where: Where) -> str:
    """`jobs`, or for a metadata search the first pair's `job_meta` (`job_meta_final`)
    rows and their jobs (the same created_at: a row left from an earlier createdAt of the
    same id is not)."""
    if not where.meta:
        return "jobs"
    return (
        f"{where.meta_table} AS m JOIN jobs"
        " ON jobs.id = m.meta_job_id AND jobs.created_at = m.meta_created_at"
    )


def _exact(moment: Any) -> str:
    """Cursor timestamps keep microseconds so keyset comparisons are exact."""
    return str(moment.isoformat())
