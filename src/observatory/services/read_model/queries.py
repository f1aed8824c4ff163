"""Read-side queries over the job store, event store and counters."""

from __future__ import annotations

from typing import Any

from observatory.core.stores.ports import Counters, EventStore, JobStore

LIFECYCLE_RANK = {
    "job.created": 0,
    "job.validated": 1,
    "job.executed": 2,
    "job.failed": 3,
    "job.completed": 3,
}


def timeline_order(envelope: dict[str, Any]) -> tuple[str, int]:
    """Time order; events of the same millisecond in lifecycle order."""
    return (
        str(envelope.get("occurredAt", "")),
        LIFECYCLE_RANK.get(str(envelope.get("eventType")), 9),
    )


class Queries:
    def __init__(self, *, jobs: JobStore, events: EventStore, counters: Counters) -> None:
        self.jobs, self.events, self.counters = jobs, events, counters

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
        }

    async def recent_jobs(self, limit: int) -> list[dict[str, Any]]:
        return [job.summary() for job in await self.jobs.recent(limit)]

    async def jobs_page(
        self, *, status: str | None, type: str | None, limit: int, cursor: str | None
    ) -> dict[str, Any]:
        page = await self.jobs.page(status=status, type=type, limit=limit, cursor=cursor)
        return {"items": [job.summary() for job in page.items], "nextCursor": page.next_cursor}

    async def job(self, job_id: str) -> dict[str, Any] | None:
        record = await self.jobs.get(job_id)
        if record is None:
            return None
        events = await self.events.for_job(job_id, limit=500, newest_first=False)
        return {**record.detail(), "events": sorted(events, key=timeline_order)}

    async def events_for(self, job_id: str | None, limit: int) -> list[dict[str, Any]]:
        if job_id:
            events = await self.events.for_job(job_id, limit=limit, newest_first=True)
        else:
            events = await self.events.recent(limit)
        return sorted(events, key=timeline_order, reverse=True)

    async def events_for_recent(self, limit: int) -> list[dict[str, Any]]:
        return await self.events.recent(limit)

    async def dead_letters(self, limit: int) -> list[dict[str, Any]]:
        return await self.events.dead_letters(limit)
