"""Read-side queries over the job store, event store and counters."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, cast

import orjson

from observatory.core.clock import Clock, SystemClock, iso, parse_iso
from observatory.core.contracts.vocabulary import EventType, JobStatus
from observatory.core.stores.ports import Counters, EventStore, JobStore
from observatory.core.stores.records import DeadLetterQuery, JobFilter, JobRecord
from observatory.core.stores.series import SeriesQuery, merge, render_duration

SERIES_CACHE_SECONDS = 1.0
"""How long one reading of a window's buckets answers /stats/series (the stream's pace)."""

LIFECYCLE_RANK: dict[str, int] = {
    EventType.CREATED: 0,
    EventType.VALIDATED: 1,
    EventType.EXECUTED: 2,
    EventType.FAILED: 3,
    EventType.COMPLETED: 3,
}


def timeline_order(envelope: dict[str, Any]) -> tuple[str, int]:
    """Time order; events of the same millisecond in lifecycle order."""
    return (
        str(envelope.get("occurredAt", "")),
        LIFECYCLE_RANK.get(str(envelope.get("eventType")), 9),
    )


def _normalised(moment: Any) -> Any:
    """createdAt as the job store shows it (milliseconds, Z), when it parses."""
    try:
        return iso(parse_iso(str(moment)))
    except (ValueError, OverflowError):  # e.g. year 1 at +23:59 has no UTC form
        return moment


def queued_detail(created: dict[str, Any]) -> dict[str, Any]:
    """A job's detail, in the shape of JobRecord.detail(), from its job.created envelope."""
    job = created.get("payload") or {}
    return {
        "id": job.get("id"),
        "type": job.get("type"),
        "status": JobStatus.PENDING,
        "createdAt": _normalised(job.get("createdAt")),
        "updatedAt": created.get("occurredAt"),
        "attempts": 0,
        "error": None,
        "payload": job.get("payload") or {},
        "metadata": job.get("metadata") or {},
        "completedAt": None,
        "run": job.get("run", 1),
        "attemptHistory": [],
    }


class Queries:
    def __init__(
        self,
        *,
        jobs: JobStore,
        events: EventStore,
        counters: Counters,
        clock: Clock | None = None,
        trace_url: str | None = None,
    ) -> None:
        self.jobs, self.events, self.counters = jobs, events, counters
        self.trace_url = trace_url  # ODTO_TRACE_URL: a template with {traceId}
        self.clock = clock or SystemClock()
        self._series_cache: dict[tuple[int, int], tuple[float, bytes]] = {}
        self._series_locks: dict[tuple[int, int], asyncio.Lock] = {}

    async def series(self, query: SeriesQuery) -> bytes:
        """The window's points as JSON (see `_series`), computed at most once per
        SERIES_CACHE_SECONDS for each window and step however many ask: dashboards open
        on the same window share one reading of the buckets (concurrent askers wait for
        the one in progress)."""
        key = (query.window, query.step)
        now = self.clock.monotonic()
        cached = self._series_cache.get(key)
        if cached is not None and now - cached[0] < SERIES_CACHE_SECONDS:
            return cached[1]
        lock = self._series_locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._series_cache.get(key)
            if cached is not None and self.clock.monotonic() - cached[0] < SERIES_CACHE_SECONDS:
                return cached[1]
            body = orjson.dumps(await self._series(query))
            self._series_cache[key] = (self.clock.monotonic(), body)
            return body

    async def _series(self, query: SeriesQuery) -> dict[str, Any]:
        """The window's points, oldest first, the last one the step now in progress; from
        the counters' time buckets (core.stores.series), never from the jobs table."""
        now = int(self.clock.now().timestamp())
        end = now - now % query.step + query.step
        start = end - query.window
        steps = await self.counters.series(start, query.step, query.points)
        points = merge(steps, start=start, step=query.step)
        if all(p["queueDepth"] is None for p in points):
            # No batch was counted in the window, so the depth has not moved in it.
            depth = (await self.counters.snapshot()).in_flight
            for point in points:
                point["queueDepth"] = depth
        for point in points:
            point["t"] = iso(datetime.fromtimestamp(point["t"], UTC))
        return {
            "window": render_duration(query.window),
            "step": render_duration(query.step),
            "points": points,
        }

    async def stats(self) -> dict[str, Any]:
        snap = await self.counters.snapshot()
        return {
            "totalJobs": snap.total,
            "completedJobs": snap.completed,
            "failedJobs": snap.failed,
            "inFlightJobs": snap.in_flight,
            "retriedJobs": snap.retried,
            "deadLetters": snap.dead_letters,
            "lastEventTime": snap.last_event_time,
            "cancelledJobs": snap.cancelled,
        }

    async def recent_jobs(self, limit: int) -> list[dict[str, Any]]:
        return [job.summary() for job in await self.jobs.recent(limit)]

    async def jobs_page(
        self, job_filter: JobFilter, *, limit: int, cursor: str | None
    ) -> dict[str, Any]:
        page = await self.jobs.page(job_filter, limit=limit, cursor=cursor)
        return {"items": [job.summary() for job in page.items], "nextCursor": page.next_cursor}

    async def job(self, job_id: str) -> dict[str, Any] | None:
        """The job, its attempts and its timeline (events, and audit entries as `audit`). A
        job accepted a moment ago may have no row yet (the gateway writes PENDING rows in
        batches, and a row written late is not lost: the processor creates it); it is
        answered from its job.created event, as PENDING, so an accepted job is never "not
        found".

        `job_id` is canonical (core.contracts.ids): the routes normalise what they get."""
        # The three reads at once (the job and event stores have pools of their own): the
        # answer waits for the slowest one, not for their sum. Each ends before a failure
        # is raised (the first one, e.g. DependencyDown: 503), so none is left running.
        found = await asyncio.gather(
            self.jobs.get(job_id),
            self.events.for_job(job_id, limit=500, newest_first=False),
            self._audit_of(job_id),
            return_exceptions=True,
        )
        for outcome in found:
            if isinstance(outcome, BaseException):
                raise outcome
        record, timeline, audit = cast(
            tuple[JobRecord | None, list[dict[str, Any]], list[dict[str, Any]]], tuple(found)
        )
        events = sorted(timeline, key=timeline_order)
        trace = trace_of(events)
        if record is not None:
            detail = record.detail()
        else:
            created = next((e for e in events if e.get("eventType") == EventType.CREATED), None)
            if created is None:
                return None
            detail = queued_detail(created)
        if trace is not None:
            detail["traceId"] = trace
            if self.trace_url:
                detail["traceUrl"] = self.trace_url.replace("{traceId}", trace)
        return {**detail, "events": events, "audit": audit}

    async def _audit_of(self, job_id: str) -> list[dict[str, Any]]:
        """The audit entries of the job (who submitted, retried, cancelled it), oldest first:
        part of its timeline beside the lifecycle events."""
        return await self.events.audit_for_job(job_id, 200)

    async def audit(self, limit: int, cursor: str | None) -> dict[str, Any]:
        page = await self.events.audit(limit, cursor)
        return {"items": page.items, "nextCursor": page.next_cursor}

    async def events_for(self, job_id: str | None, limit: int) -> list[dict[str, Any]]:
        if job_id:
            events = await self.events.for_job(job_id, limit=limit, newest_first=True)
        else:
            events = await self.events.recent(limit)
        return sorted(events, key=timeline_order, reverse=True)

    async def events_for_recent(self, limit: int) -> list[dict[str, Any]]:
        return await self.events.recent(limit)

    async def dead_letters(
        self, limit: int, query: DeadLetterQuery | None = None
    ) -> list[dict[str, Any]]:
        return await self.events.find_dead_letters(query or DeadLetterQuery(), limit)


def trace_of(events: list[dict[str, Any]]) -> str | None:
    """The trace of a job's latest run: the `traceId` its newest job.created event carries
    (tracing on in the gateway), else the newest any event carries; None untraced."""
    traced = [e for e in events if isinstance(e.get("traceId"), str)]
    created = [e for e in traced if e.get("eventType") == EventType.CREATED]
    chosen = (created or traced)[-1:]
    return str(chosen[0]["traceId"]) if chosen else None
