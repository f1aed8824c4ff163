"""The processor's batch handler: validate, decide, persist, announce, work, finish.

One batch costs two job-store transactions (attempts begun, attempts finished) and two
confirmed publish rounds, however many jobs it holds; work runs concurrently.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import structlog

from observatory.core.bus.port import Bus, Delivery, Outcome, Outgoing
from observatory.core.bus.topology import JOBS_CREATED
from observatory.core.clock import Clock, iso, parse_iso
from observatory.core.contracts.envelope import Producer, build_envelope
from observatory.core.dead_letters import dead_letter, parse_envelope, rejected
from observatory.core.errors import InvalidMessage
from observatory.core.stores.ports import JobStore
from observatory.core.stores.records import AttemptEnd, AttemptStart
from observatory.services.processor.lifecycle import (
    ATTEMPT_HEADER,
    Action,
    Work,
    attempt_fails,
    backoff,
    decide,
    event_id,
    simulation,
    work_from,
)
from observatory.services.processor.metrics import ProcessorMetrics
from observatory.services.processor.settings import ProcessorSettings

log = structlog.get_logger("observatory.processor")


@dataclass(slots=True)
class Result:
    work: Work
    failed: bool
    error: str | None
    seconds: float


class JobHandler:
    """Handles batches from jobs.created (see module docstring)."""

    def __init__(
        self,
        *,
        bus: Bus,
        jobs: JobStore,
        clock: Clock,
        settings: ProcessorSettings,
        metrics: ProcessorMetrics,
        rng: random.Random | None = None,
    ) -> None:
        self.bus, self.jobs, self.clock = bus, jobs, clock
        self.settings, self.metrics = settings, metrics
        self.rng = rng or random.Random()
        self.producer = Producer.for_service("processor")

    async def __call__(self, batch: Sequence[Delivery]) -> list[Outcome]:
        outcomes: list[Outcome] = [Outcome.ACK] * len(batch)
        letters: list[Outgoing] = []
        works: dict[str, tuple[int, Work]] = {}
        for index, delivery in enumerate(batch):
            self.metrics.processed.inc()
            try:
                envelope = parse_envelope(delivery.body)
                if envelope["eventType"] != "job.created":
                    raise InvalidMessage(
                        f"unexpected event type {envelope['eventType']} on jobs.created"
                    )
            except InvalidMessage as exc:
                self.metrics.validation_failed.inc()
                letters.append(
                    dead_letter(
                        rejected(delivery.body, exc, delivery.queue),
                        service="processor",
                        clock=self.clock,
                    )
                )
                outcomes[index] = Outcome.REJECT
                log.warning("message dead-lettered", reason=exc.describe()[:300])
                continue
            work = work_from(envelope, dict(delivery.headers))
            if work.job_id in works:
                outcomes[index] = Outcome.RETRY  # same job twice in one batch: handle it later
                continue
            works[work.job_id] = (index, work)
        if letters:
            await self.bus.publish_many(letters)
        if works:
            await self._process([w for _, w in works.values()])
        return outcomes

    async def _process(self, works: list[Work]) -> None:
        states = await self.jobs.load([w.job_id for w in works])
        run, again = [], []
        for work in works:
            action = decide(work, states.get(work.job_id))
            if action is Action.RUN:
                run.append(work)
            elif action is Action.REANNOUNCE:
                again.append(work)
        if again:
            await self._reannounce(again)
        if run:
            await self._run(run)

    async def _run(self, works: list[Work]) -> None:
        now = self.clock.now()
        await self.jobs.begin([self._start(w, now) for w in works])
        announcements = []
        for w in works:
            if w.attempt_in_run == 1:
                announcements.append(
                    self._event(w, "job.validated", "VALIDATED", now, step="validated")
                )
            announcements.append(
                self._event(w, "job.executed", "EXECUTING", now, step=f"executed:{w.attempt}")
            )
        await self.bus.publish_many(announcements)
        results = await asyncio.gather(*(self._attempt(w) for w in works))
        await self._finish(results)

    def _start(self, w: Work, now: Any) -> AttemptStart:
        return AttemptStart(
            job_id=w.job_id,
            type=str(w.job["type"]),
            payload=dict(w.job.get("payload") or {}),
            metadata=dict(w.job.get("metadata") or {}),
            created_at=parse_iso(str(w.job["createdAt"])),
            attempt=w.attempt,
            run=w.run,
            event_id=str(w.envelope["eventId"]),
            correlation_id=str(w.envelope["correlationId"]),
            at=now,
        )

    async def _attempt(self, w: Work) -> Result:
        sim = simulation(w.job, self.settings.work_ms, self.settings.fail_rate)
        started = time.perf_counter()
        self.metrics.in_progress.inc()
        try:
            if sim.duration_s > 0:
                await asyncio.sleep(sim.duration_s)
            failed = attempt_fails(sim, w.attempt_in_run, self.rng)
        finally:
            self.metrics.in_progress.dec()
        seconds = time.perf_counter() - started
        self.metrics.processing.observe(seconds)
        error = f"Simulated failure on attempt {w.attempt}" if failed else None
        return Result(w, failed, error, seconds)

    async def _finish(self, results: list[Result]) -> None:
        now = self.clock.now()
        ends, events, retries = [], [], []
        for r in results:
            w = r.work
            last = w.attempt_in_run >= self.settings.max_attempts
            if not r.failed:
                status = "COMPLETED"
            elif last:
                status = "FAILED"
            else:
                status = "EXECUTING"
                retries.append(w)
            ends.append(
                AttemptEnd(
                    w.job_id, w.attempt, status, "failed" if r.failed else "completed", r.error, now
                )
            )
            if status in ("COMPLETED", "FAILED"):
                events.append(self._terminal(w, status, r.error, now))
        await self.jobs.finish(ends)
        if events:
            await self.bus.publish_many(events)
        for w in retries:
            delay = backoff(self.settings.backoff_base, w.attempt_in_run, self.rng)
            headers = {ATTEMPT_HEADER: w.attempt_in_run + 1}
            await self.bus.schedule(JOBS_CREATED, orjson.dumps(w.envelope), headers, delay)
            self.metrics.retried.inc()
        for r in results:
            if r.work not in retries:
                self._count_terminal(r, now)

    def _count_terminal(self, r: Result, now: Any) -> None:
        (self.metrics.failed if r.failed else self.metrics.completed).inc()
        created = parse_iso(str(r.work.job["createdAt"]))
        self.metrics.latency.observe(max(0.0, (now - created).total_seconds()))
        log.debug(
            "job finished",
            job_id=r.work.job_id,
            status="FAILED" if r.failed else "COMPLETED",
            attempt=r.work.attempt,
            correlation_id=r.work.envelope["correlationId"],
        )

    async def _reannounce(self, works: list[Work]) -> None:
        events = []
        for w in works:
            record = await self.jobs.get(w.job_id)
            if record is None or record.status not in ("COMPLETED", "FAILED"):
                continue
            moment = record.completed_at or record.updated_at
            events.append(
                self._terminal(
                    w, record.status, record.last_error, moment, attempts=record.attempts
                )
            )
        if events:
            await self.bus.publish_many(events)

    def _terminal(
        self, w: Work, status: str, error: str | None, at: Any, attempts: int | None = None
    ) -> Outgoing:
        event_type = "job.completed" if status == "COMPLETED" else "job.failed"
        return self._event(
            w, event_type, status, at, step=status.lower(), error=error, attempts=attempts
        )

    def _event(
        self,
        w: Work,
        event_type: str,
        status: str,
        at: Any,
        *,
        step: str,
        error: str | None = None,
        attempts: int | None = None,
    ) -> Outgoing:
        job = {
            **w.job,
            "status": status,
            "updatedAt": iso(at),
            "attempts": attempts or w.attempt,
            "run": w.run,
        }
        if error:
            job["error"] = error
        envelope = build_envelope(
            event_type,
            job,
            producer=self.producer,
            clock=self.clock,
            correlation_id=str(w.envelope["correlationId"]),
            idempotency_key=f"{w.job_id}:{w.run}:{step}",
            event_id=event_id(w.job_id, w.run, step),
            occurred_at=iso(at),
        )
        return Outgoing(event_type, orjson.dumps(envelope), message_id=envelope["eventId"])
