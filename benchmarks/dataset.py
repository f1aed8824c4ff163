"""The read-model data set: N jobs, 5 N lifecycle events and their attempts, generated
inside PostgreSQL (INSERT ... SELECT over generate_series, in chunks) so Python never
builds the rows, plus the namespace's Redis counters.

Rows are shaped like the ones the services write: the processor's `jobs` and
`job_attempts` rows, and the whole envelopes the metrics engine stores in `job_events`
(contractVersion, eventType, eventId, occurredAt, producer, correlationId,
idempotencyKey, payload = the job as it was at that event). Everything is a function of
the job number i, so the harness can name an existing job without asking the database
(`job_id(i)`).

Lifecycles, per 100 jobs (in every block of 100 consecutive numbers), 500 events:

    COMPLETED after 1 / 2 / 3 attempts   25 / 40 / 25 jobs   4 / 5 / 6 events each
    FAILED after 3 attempts (the max)          6 jobs         6 events each
    EXECUTING, attempt 1 / 2 in progress   2 / 2 jobs         3 / 4 events each

No PENDING rows: the job store only gets a row when the processor starts a job
(EXECUTING); before that a job is only its job.created event. 5 events per job on average
needs about two attempts per completed job (a clean run is 4 events: created, validated,
executed, completed).

created_at is spread evenly over the 30 days before the load; attempt k starts
0.015 + 1.1 (2^(k-1) - 1) s after it (the processor's back-off), and ends 4 ms later.

The time-series buckets behind GET /stats/series (core/stores/series.py) are written the
way the metrics engine writes them, through RedisCounters.apply: each job of the last
SERIES_HOURS (N / 30 per day, the same even spread) adds its job.created and its end
(COMPLETED or FAILED, with its submit→done latency) to the buckets of their times, in
batches of SERIES_BATCH with a queue-depth sample each; these effects carry no counter
deltas, so the counters stay what `_set_counters` set. Every 10-s bucket of a 24 h
window is then filled at N = 1,000,000 (about 4 jobs per 10 s).
"""

from __future__ import annotations

import hashlib
import socket
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson
import redis.asyncio as aioredis

from observatory.__about__ import __version__
from observatory.core.clock import iso
from observatory.core.stores.records import CounterEffect
from observatory.core.stores.redis_counters import KEYS as COUNTER_KEYS
from observatory.core.stores.redis_counters import LAST_EVENT, RedisCounters

EVENTS_PER_JOB = 5
DAYS = 30
CHUNK = 50_000  # jobs per INSERT statement
LIFECYCLES = (  # (status, attempts, jobs per 100)
    ("COMPLETED", 1, 25),
    ("COMPLETED", 2, 40),
    ("COMPLETED", 3, 25),
    ("FAILED", 3, 6),
    ("EXECUTING", 1, 2),
    ("EXECUTING", 2, 2),
)
TYPES = (
    "EMAIL_SEND", "REPORT_BUILD", "IMAGE_RESIZE", "VIDEO_TRANSCODE", "INVOICE_RENDER",
    "DATA_EXPORT", "DATA_IMPORT", "SEARCH_INDEX", "CACHE_WARM", "BACKUP_SNAPSHOT",
    "THUMBNAIL", "PDF_MERGE", "SMS_NOTIFY", "WEBHOOK_DELIVER", "CSV_PARSE",
    "ML_SCORE", "LOG_COMPACT", "USER_SYNC", "PAYMENT_SETTLE", "GEO_ENRICH",
)  # fmt: skip
REGIONS = ("eu-west", "eu-north", "us-east", "us-west", "ap-south")
TENANTS = 500  # metadata.tenant: tenant-0 .. tenant-499
# Why a FAILED job's last attempt failed (its last_error ends with one of these).
FAILURES = (
    "timeout after 30s calling payment-api",
    "HTTP 503 from search-cluster",
    "disk full on /var/spool",
    "invalid row 17 in upload",
    "connection reset by peer",
    "permission denied for bucket exports",
    "out of memory in renderer",
    "deadlock detected, transaction aborted",
)
STATUSES = sorted({status for status, _, _ in LIFECYCLES})
SERIES_HOURS = 25  # a 24 h window and the step in progress
SERIES_BATCH = 500  # effects per apply, about a metrics-engine batch


def _slots() -> tuple[list[str], list[int]]:
    """Lifecycle of each of the 100 slots, as (statuses, attempts) arrays."""
    statuses: list[str] = []
    attempts: list[int] = []
    for status, tries, share in LIFECYCLES:
        statuses += [status] * share
        attempts += [tries] * share
    assert len(statuses) == 100
    return statuses, attempts


def _uuid(text_sql: str) -> str:
    """SQL: a version-4-shaped UUID from md5(text), the same as `_md5_uuid` in Python."""
    return f"overlay(overlay(md5({text_sql}) placing '4' from 13) placing '8' from 17)::uuid"


def _md5_uuid(text: str) -> str:
    digest = hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()
    return str(uuid.UUID(digest[:12] + "4" + digest[13:16] + "8" + digest[17:]))


def job_id(number: int) -> str:
    """The id of job `number` (1..N) of the data set."""
    return _md5_uuid(f"job:{number}")


def _iso(ts_sql: str) -> str:
    return f"""to_char({ts_sql} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"""


def _attempt_start(k_sql: str) -> str:
    return f"make_interval(secs => 0.015 + 1.1 * (power(2, {k_sql} - 1) - 1))"


# $1, $2: first and last job number of the chunk; $3, $4: the slots' statuses and
# attempts; $5: job types; $6: created_at of job 1; $7: time between two jobs.
# MATERIALIZED: computed once per job (or event), not again at every reference.
JOBS_CTE = f"""
WITH j AS MATERIALIZED (
  SELECT i, id, id::text AS job_id, status, attempts, type, created_at,
         {_iso("created_at")} AS created_iso, job_payload,
         {_uuid("'corr:' || i")}::text AS correlation_id
  FROM (
    SELECT i, {_uuid("'job:' || i")} AS id,
           ($3::text[])[mod(i * 19, 100) + 1] AS status,
           ($4::int[])[mod(i * 19, 100) + 1] AS attempts,
           ($5::text[])[mod(i * 7 + i / 97, {len(TYPES)}) + 1] AS type,
           date_trunc('milliseconds', $6::timestamptz + (i - 1) * $7::interval) AS created_at,
           json_build_object(
             'orderId', i,
             'region', (ARRAY{list(REGIONS)}::text[])[mod(i, {len(REGIONS)}) + 1],
             'priority', mod(i, 3)
           ) AS job_payload
    FROM generate_series($1::bigint, $2::bigint) AS i
  ) AS numbered
)
"""
LAST_ATTEMPT_END = f"created_at + {_attempt_start('attempts')} + interval '4 ms'"
INSERT_JOBS = (
    JOBS_CTE
    + f"""
INSERT INTO jobs (id, type, status, payload, metadata, created_at, updated_at, completed_at,
                  attempts, run, last_error, event_id, correlation_id)
SELECT id, type, status, job_payload::jsonb,
       jsonb_build_object('tenant', 'tenant-' || mod(i * 31, {TENANTS}),
                          'region', (ARRAY{list(REGIONS)}::text[])[mod(i, {len(REGIONS)}) + 1],
                          'priority', mod(i, 3), 'batch', i / 1000),
       created_at,
       CASE WHEN status = 'EXECUTING' THEN created_at + {_attempt_start("attempts")}
            ELSE {LAST_ATTEMPT_END} END,
       CASE WHEN status <> 'EXECUTING' THEN {LAST_ATTEMPT_END} END,
       attempts, 1,
       CASE WHEN status = 'FAILED' THEN 'Simulated failure on attempt ' || attempts || ': '
                 || (ARRAY{list(FAILURES)}::text[])[mod(i / 100, {len(FAILURES)}) + 1]
            WHEN status = 'EXECUTING' AND attempts > 1
            THEN 'Simulated failure on attempt ' || (attempts - 1) END,
       {_uuid("'created:' || i")}, correlation_id
FROM j
"""
)
INSERT_ATTEMPTS = (
    JOBS_CTE
    + f"""
INSERT INTO job_attempts (job_id, attempt, started_at, finished_at, outcome, error)
SELECT id, k, started_at,
       CASE WHEN NOT running THEN started_at + interval '4 ms' END,
       CASE WHEN running THEN NULL WHEN succeeded THEN 'completed' ELSE 'failed' END,
       CASE WHEN NOT running AND NOT succeeded THEN 'Simulated failure on attempt ' || k END
FROM (SELECT id, k, created_at + {_attempt_start("k")} AS started_at,
             status = 'EXECUTING' AND k = attempts AS running,
             status = 'COMPLETED' AND k = attempts AS succeeded
      FROM j CROSS JOIN LATERAL generate_series(1, attempts) AS k) AS a
"""
)
# Step s of a job: 0 created, 1 validated, 2 .. attempts+1 executed (attempt s-1),
# attempts+2 completed/failed (terminal jobs only).
INSERT_EVENTS = (
    JOBS_CTE
    + f"""
, e AS MATERIALIZED (
  SELECT x.*, {_iso("at")} AS at_iso,
         CASE event_type WHEN 'job.created' THEN 'created' WHEN 'job.validated' THEN 'validated'
                         WHEN 'job.executed' THEN 'executed:' || attempt
                         WHEN 'job.completed' THEN 'completed' ELSE 'failed' END AS step,
         CASE event_type WHEN 'job.created' THEN 'PENDING' WHEN 'job.validated' THEN 'VALIDATED'
                         WHEN 'job.executed' THEN 'EXECUTING' WHEN 'job.completed' THEN 'COMPLETED'
                         ELSE 'FAILED' END AS job_status
  FROM (
    SELECT j.*, s,
           CASE WHEN s = 0 THEN 'job.created' WHEN s = 1 THEN 'job.validated'
                WHEN s <= attempts + 1 THEN 'job.executed'
                WHEN status = 'COMPLETED' THEN 'job.completed' ELSE 'job.failed' END AS event_type,
           least(greatest(s - 1, 1), attempts) AS attempt,
           created_at + CASE WHEN s = 0 THEN interval '2 ms'
                             WHEN s <= attempts + 1 THEN {_attempt_start("greatest(s - 1, 1)")}
                             ELSE {_attempt_start("attempts")} + interval '4 ms' END AS at
    FROM j CROSS JOIN LATERAL generate_series(
           0, attempts + CASE WHEN status = 'EXECUTING' THEN 1 ELSE 2 END) AS s
  ) AS x
)
INSERT INTO job_events (event_id, job_id, event_type, occurred_at, envelope)
SELECT event_id, job_id, event_type, at, json_build_object(
         'contractVersion', '1.0.0',
         'eventType', event_type,
         'eventId', event_id,
         'occurredAt', at_iso,
         'producer', CASE WHEN s = 0 THEN $8::json ELSE $9::json END,
         'correlationId', correlation_id,
         'idempotencyKey', CASE WHEN s = 0 THEN job_id ELSE job_id || ':1:' || step END,
         'payload', CASE WHEN s = 0 THEN json_build_object(
             'id', job_id, 'type', type, 'status', 'PENDING', 'createdAt', created_iso,
             'payload', job_payload)
           ELSE json_strip_nulls(json_build_object(
             'id', job_id, 'type', type, 'status', job_status, 'createdAt', created_iso,
             'payload', job_payload, 'updatedAt', at_iso, 'attempts', attempt, 'run', 1,
             'error', CASE WHEN event_type = 'job.failed'
                           THEN 'Simulated failure on attempt ' || attempt END))
           END)
FROM (SELECT e.*, CASE WHEN s = 0 THEN {_uuid("'created:' || i")}
                       ELSE {_uuid("'event:' || job_id || ':1:' || step")} END AS event_id
      FROM e) AS x
"""
)
FILL_META = """
INSERT INTO job_meta (meta_key, meta_value, meta_created_at, meta_job_id)
SELECT e.key, e.value, j.created_at, j.id FROM jobs AS j, jsonb_each_text(j.metadata) AS e
WHERE e.value IS NOT NULL AND length(e.key) <= 64 AND length(e.value) <= 200
"""
FILL_FINAL_META = """
INSERT INTO job_meta_final (meta_key, meta_value, meta_status, meta_created_at, meta_job_id)
SELECT m.meta_key, m.meta_value, j.status, m.meta_created_at, m.meta_job_id
FROM job_meta AS m JOIN jobs AS j ON j.id = m.meta_job_id AND j.created_at = m.meta_created_at
WHERE j.status IN ('COMPLETED', 'FAILED', 'CANCELLED')
"""
SECONDARY_INDEXES = """
SELECT c.relname AS name, pg_get_indexdef(c.oid) AS definition
FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = $1 AND t.relname = ANY($2::text[]) AND NOT x.indisunique
"""


@dataclass
class Loaded:
    """What was loaded and how long each step took (seconds)."""

    jobs: int = 0
    attempts: int = 0
    events: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    series_effects: int = 0
    disk_mb: float = 0.0  # the namespace's tables with their indexes and TOAST, loaded
    # share of each filled table's pages marked all-visible by the VACUUM (index-only
    # scans read no row on those pages): 100 is what the load means to leave
    all_visible: dict[str, float] = field(default_factory=dict)
    data_end: float = 0.0  # epoch seconds of the newest job's creation: the load's start

    def as_dict(self) -> dict[str, Any]:
        return {
            "jobs": self.jobs,
            "events": self.events,
            "attempts": self.attempts,
            "statuses": self.statuses,
            "seriesEffects": self.series_effects,
            "diskMb": round(self.disk_mb, 1),
            "loadS": round(sum(self.seconds.values()), 1),
            "loadStepsS": {k: round(v, 1) for k, v in self.seconds.items()},
            "allVisiblePct": self.all_visible,
        }


SCHEMA_BYTES = """
SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::float8
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r', 'm', 'p')
"""
ALL_VISIBLE = """
SELECT relname AS name, round(100.0 * relallvisible / relpages, 1)::float8 AS pct
FROM pg_class WHERE relnamespace = $1::regnamespace AND relkind = 'r' AND relpages > 0
"""


def _count(status: str) -> int:
    """Rows an INSERT reported ("INSERT 0 n")."""
    return int(status.split()[-1])


class _Steps:
    def __init__(self, loaded: Loaded) -> None:
        self.loaded = loaded
        self.mark = time.monotonic()

    def done(self, name: str) -> None:
        now = time.monotonic()
        self.loaded.seconds[name] = now - self.mark
        self.mark = now


async def load(
    postgres_url: str, redis_url: str, namespace: str, jobs: int, *, only_jobs: bool = False
) -> Loaded:
    """Fill the namespace's (migrated, empty) tables with `jobs` jobs and set its counters;
    with `only_jobs` the `jobs` table alone (what a job search reads).

    Secondary indexes and the event store's primary key are dropped during the load and
    built again afterwards (from their own definitions), then VACUUM ANALYZE, as a store
    that has been up for 30 days would be vacuumed and analysed, and a CHECKPOINT: the
    load ends with its writes on disk. Without it the kernel wrote the load's last
    gigabytes back in bursts during the first measurements (1.9 GB in one second, 30 s
    after the VACUUMs dirtied them, on the benchmark's 2-core VM), and the reads of that
    second waited: the tail of the first routes measured was the load's, not the read
    model's (benchmarks/README.md)."""
    loaded = Loaded()
    steps = _Steps(loaded)
    conn = await asyncpg.connect(
        postgres_url,
        server_settings={
            "search_path": namespace,
            "synchronous_commit": "off",
            "maintenance_work_mem": "512MB",
            "work_mem": "256MB",  # the chunk's materialised events stay in memory
            "jit": "off",  # compiling each chunk's statement cost more than it saved
            "application_name": "odto-bench-dataset",
        },
    )
    try:
        rebuild = await _drop_indexes(conn, namespace)
        steps.done("dropIndexes")
        statuses, attempts = _slots()
        end = datetime.now(UTC).replace(microsecond=0)
        loaded.data_end = end.timestamp()
        start = end - timedelta(days=DAYS)
        every = timedelta(days=DAYS) / max(1, jobs)
        host = socket.gethostname() or "bench"
        producers = [
            orjson.dumps({"service": service, "instanceId": host, "version": __version__}).decode()
            for service in ("gateway", "processor")
        ]
        for first in range(1, jobs + 1, CHUNK):
            last = min(jobs, first + CHUNK - 1)
            args = (first, last, statuses, attempts, list(TYPES), start, every)
            loaded.jobs += _count(await conn.execute(INSERT_JOBS, *args))
        steps.done("jobs")
        if await conn.fetchval("SELECT to_regclass('job_meta') IS NOT NULL"):
            await conn.execute(FILL_META)  # what the job store writes in begin()
            steps.done("jobMeta")
            await conn.execute(FILL_FINAL_META)  # and in finish(), for the finished jobs
            steps.done("jobMetaFinal")
        if not only_jobs:
            for first in range(1, jobs + 1, CHUNK):
                last = min(jobs, first + CHUNK - 1)
                args = (first, last, statuses, attempts, list(TYPES), start, every)
                loaded.attempts += _count(await conn.execute(INSERT_ATTEMPTS, *args))
            steps.done("attempts")
            for first in range(1, jobs + 1, CHUNK):
                last = min(jobs, first + CHUNK - 1)
                args = (first, last, statuses, attempts, list(TYPES), start, every)
                loaded.events += _count(await conn.execute(INSERT_EVENTS, *args, *producers))
            steps.done("events")
        for statement in rebuild:
            await conn.execute(statement)
        steps.done("indexes")
        tables = ["jobs", "job_attempts", "job_events"]
        tables += ["job_meta", "job_meta_final"] if "jobMeta" in loaded.seconds else []
        await _vacuum(conn, namespace, tables, loaded)
        steps.done("vacuumAnalyze")
        steps.done("checkpoint" if await _checkpoint(conn) else "checkpointRefused")
        rows = await conn.fetch("SELECT status, count(*) AS n FROM jobs GROUP BY status")
        loaded.statuses = {row["status"]: int(row["n"]) for row in rows}
        newest = await conn.fetchval("SELECT max(occurred_at) FROM job_events")
        loaded.disk_mb = await conn.fetchval(SCHEMA_BYTES, namespace) / 1e6
    finally:
        await conn.close()
    await _set_counters(redis_url, namespace, loaded.statuses, newest)
    steps.done("counters")
    if not only_jobs:
        loaded.series_effects = await _fill_series(redis_url, namespace, jobs, end)
        steps.done("series")
    return loaded


async def _fill_series(redis_url: str, namespace: str, jobs: int, end: datetime) -> int:
    """The series buckets of the jobs created in the last SERIES_HOURS (module
    docstring); how many effects were applied."""
    statuses, attempts = _slots()
    every = DAYS * 86400 / max(1, jobs)
    first = max(1, jobs - int(SERIES_HOURS * 3600 / every))
    start = end.timestamp() - DAYS * 86400
    effects: list[CounterEffect] = []
    for i in range(first, jobs + 1):
        created = start + (i - 1) * every
        slot = (i * 19) % 100
        status, tries = statuses[slot], attempts[slot]
        effects.append(CounterEffect(f"bench:c:{i}", {}, None, series="created", at=int(created)))
        if status in ("COMPLETED", "FAILED"):
            took = 0.015 + 1.1 * (2 ** (tries - 1) - 1) + 0.004
            done = int(created + took)
            how = status.lower()
            effects.append(CounterEffect(f"bench:t:{i}", {}, None, None, how, done, took * 1000))
    counters = RedisCounters(redis_url, namespace=namespace)
    await counters.open()
    try:
        for at in range(0, len(effects), SERIES_BATCH):
            batch = effects[at : at + SERIES_BATCH]
            await counters.apply(batch, depth_at=max(e.at for e in batch))
    finally:
        await counters.close()
    return len(effects)


async def _vacuum(conn: Any, namespace: str, tables: list[str], loaded: Loaded) -> None:
    """VACUUM ANALYZE the filled tables until each one's pages are all-visible (three
    passes at most; the shares are reported). One pass right after the load often left a
    table with no page all-visible, and a second pass a moment later marked them all
    (seen on PostgreSQL 15; most likely the load's asynchronous commits: a page is marked
    only once its rows' commit is known to be on disk). job_meta left so made every
    metadata search read a row per pair: 2,000 rows for a tenant's 2,000 jobs."""
    # each pass's own commits (ANALYZE's) flushed at once, so they cannot hold the next
    # pass back the same way (alone, this did not mark the first pass's pages)
    await conn.execute("SET synchronous_commit = on")
    pending = list(tables)
    for _ in range(3):
        for table in pending:
            await conn.execute(f'VACUUM (ANALYZE) "{table}"')
        shares = {row["name"]: row["pct"] for row in await conn.fetch(ALL_VISIBLE, namespace)}
        loaded.all_visible = {table: shares.get(table, 100.0) for table in tables}
        pending = [table for table in tables if loaded.all_visible[table] < 100.0]
        if not pending:
            return


async def _checkpoint(conn: Any) -> bool:
    """CHECKPOINT, when this role may (a superuser or pg_checkpoint): whether it ran."""
    try:
        await conn.execute("CHECKPOINT")
    except asyncpg.InsufficientPrivilegeError:
        return False
    return True


async def _drop_indexes(conn: Any, namespace: str) -> list[str]:
    """Drop what slows a bulk load; return the statements that build it again."""
    rebuild = []
    for row in await conn.fetch(SECONDARY_INDEXES, namespace, ["jobs", "job_events"]):
        await conn.execute(f'DROP INDEX "{namespace}"."{row["name"]}"')
        rebuild.append(row["definition"])
    key = await conn.fetchrow(
        "SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint"
        " WHERE conrelid = 'job_events'::regclass AND contype = 'p'"
    )
    if key is not None:
        await conn.execute(f'ALTER TABLE job_events DROP CONSTRAINT "{key["conname"]}"')
        rebuild.insert(
            0, f'ALTER TABLE job_events ADD CONSTRAINT "{key["conname"]}" {key["definition"]}'
        )
    return rebuild


async def _set_counters(
    redis_url: str, namespace: str, statuses: dict[str, int], newest: datetime | None
) -> None:
    """The counters the metrics engine would have after these events (redis_counters.py
    names, under the namespace prefix); no job was re-run, nothing dead-lettered."""
    prefix = f"{namespace}:"
    values = {
        "total": sum(statuses.values()),
        "completed": statuses.get("COMPLETED", 0),
        "failed": statuses.get("FAILED", 0),
        "retried": 0,
        "dead_letters": 0,
    }
    mapping: dict[str, Any] = {prefix + COUNTER_KEYS[k]: v for k, v in values.items()}
    mapping[prefix + LAST_EVENT] = iso(newest) if newest else ""
    client = aioredis.Redis.from_url(redis_url)
    try:
        await client.mset(mapping)
    finally:
        await client.aclose()
