"""The processor's batch handler: validate, decide, persist, announce, work, finish.

A batch shares one job-store transaction for its attempts' starts and two confirmed
publish rounds for their announcements (job.validated, then job.executed). Then every
job works on its own: its delivery is answered when its own attempt is finished
(finisher.py, which groups the ends of attempts that finish together), so a long job
holds neither its batch nor anyone else's acknowledgement.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from datetime import datetime

import orjson
import structlog

from observatory.core.bus.port import Bus, Delivery, Outcome, Outgoing, Settlement
from observatory.core.bus.topology import JOBS_CREATED
from observatory.core.bus.tracing import job_attributes, message_span, publish_each
from observatory.core.clock import Clock, parse_iso
from observatory.core.contracts.ids import canonical_uuid
from observatory.core.contracts.vocabulary import TERMINAL, EventType, JobStatus
from observatory.core.dead_letters import dead_letter, parse_envelope, rejected
from observatory.core.errors import DependencyDown, InvalidMessage
from observatory.core.stores.ports import JobStore
from observatory.core.stores.records import AttemptEnd, AttemptStart
from observatory.core.tracing.spans import attached, capture, carrier, exemplar, span
from observatory.services.processor.events import Announcer
from observatory.services.processor.finisher import Finisher, Result
from observatory.services.processor.lifecycle import (
    ATTEMPT_HEADER,
    Action,
    Work,
    attempt_fails,
    backoff,
    decide,
    simulation,
    work_from,
)
from observatory.services.processor.metrics import ProcessorMetrics
from observatory.services.processor.settings import ProcessorSettings

log = structlog.get_logger("observatory.processor")
SERVICE = "processor"


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
        self.announce = Announcer(clock)
        self.finisher = Finisher(self._flush)

    async def __call__(self, batch: Sequence[Delivery]) -> list[Settlement]:
        outcomes: list[Settlement] = [Outcome.ACK] * len(batch)
        letters: list[tuple[Delivery, Outgoing]] = []
        works: dict[str, tuple[int, Work]] = {}
        deliveries: dict[str, Delivery] = {}
        for index, delivery in enumerate(batch):
            self.metrics.processed.inc()
            try:
                envelope = parse_envelope(delivery.body)
                if envelope["eventType"] != EventType.CREATED:
                    raise InvalidMessage(
                        f"unexpected event type {envelope['eventType']} on jobs.created"
                    )
            except InvalidMessage as exc:
                letters.append((delivery, self._dead_letter(delivery, exc)))
                outcomes[index] = Outcome.REJECT
                continue
            work = work_from(envelope, dict(delivery.headers))
            if work.job_id in works:
                outcomes[index] = Outcome.RETRY  # same job twice in one batch: handle it later
                continue
            works[work.job_id] = (index, work)
            deliveries[work.job_id] = delivery
        if letters:
            await publish_each(self.bus, letters)
        if works:
            running = await self._process([w for _, w in works.values()], deliveries)
            for job_id, (index, _) in works.items():
                outcomes[index] = running.get(job_id, Outcome.ACK)
        return outcomes

    async def reject(self, delivery: Delivery, reason: str) -> Outcome:
        """A message isolated as poison (core.bus.isolation): dead-letter it with the reason."""
        await self.bus.publish_many([self._dead_letter(delivery, InvalidMessage(reason))])
        return Outcome.REJECT

    def _dead_letter(self, delivery: Delivery, exc: InvalidMessage) -> Outgoing:
        self.metrics.validation_failed.inc()
        log.warning("message dead-lettered", reason=exc.describe()[:300])
        return dead_letter(
            rejected(delivery.body, exc, delivery.queue), service=SERVICE, clock=self.clock
        )

    async def _process(
        self, works: list[Work], deliveries: dict[str, Delivery]
    ) -> dict[str, asyncio.Task[Outcome]]:
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
        if not run:
            return {}
        started = await self._begin(run)
        return {
            w.job_id: asyncio.create_task(
                self._traced_work(w, deliveries[w.job_id]), name=f"job-{w.job_id}"
            )
            for w in started
        }

    async def _begin(self, works: list[Work]) -> list[Work]:
        """Start the attempts the job store lets start (a job cancelled meanwhile does not:
        its delivery is acked without effects) and announce them."""
        now = self.clock.now()
        begun = set(await self.jobs.begin([self._start(w, now) for w in works]))
        skipped = [w.job_id for w in works if canonical_uuid(w.job_id) not in begun]
        if skipped:
            log.info("cancelled jobs not started", job_ids=skipped[:20], count=len(skipped))
        works = [w for w in works if canonical_uuid(w.job_id) in begun]
        validated = [
            self.announce.event(w, EventType.VALIDATED, JobStatus.VALIDATED, now, step="validated")
            for w in works
            if w.attempt_in_run == 1
        ]
        executed = [
            self.announce.event(
                w, EventType.EXECUTED, JobStatus.EXECUTING, now, step=f"executed:{w.attempt}"
            )
            for w in works
        ]
        # Two confirmed rounds, in lifecycle order. A round that fails can leave some of its
        # events stored and not others (their queues may have leaders on other nodes); the
        # delivery comes back, the attempt begins again and announces with a later time,
        # and consumers keep the first copy of each event id. In one round a lost
        # job.validated would be stored from the second begin, after the first job.executed.
        for announcements in (validated, executed):
            if announcements:
                await self.bus.publish_many(announcements)
        return works

    def _start(self, w: Work, now: datetime) -> AttemptStart:
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

    async def _traced_work(self, w: Work, delivery: Delivery) -> Outcome:
        """`_work` in the job's own span when tracing is on: its message's span (child of
        the publish that delivered it, whatever batch it came in), which is the attempt:
        it carries the job id, attempt and correlation id (one delivery, one attempt)."""
        attributes = job_attributes(w.job_id, w.attempt, str(w.envelope["correlationId"]))
        with message_span(delivery, message_id=str(w.envelope["eventId"]), attributes=attributes):
            return await self._work(w)

    async def _work(self, w: Work) -> Outcome:
        """One job's attempt, then its finish: the outcome of its delivery."""
        result = await self._attempt(w)
        try:
            await self.finisher.finish(result)
        except DependencyDown as exc:
            log.warning("finish not written; job handed back", job_id=w.job_id, error=str(exc))
            return Outcome.RETRY
        except Exception as exc:  # this job's own values broke the write
            reason = exc.describe() if isinstance(exc, InvalidMessage) else type(exc).__name__
            return await self.reject_work(w, f"could not record the attempt's end: {reason}")
        return Outcome.ACK

    async def reject_work(self, w: Work, reason: str) -> Outcome:
        body = orjson.dumps(w.envelope)
        letter = dead_letter(
            rejected(body, InvalidMessage(reason), JOBS_CREATED), service=SERVICE, clock=self.clock
        )
        self.metrics.validation_failed.inc()
        log.warning("job dead-lettered", job_id=w.job_id, reason=reason[:300])
        await self.bus.publish_many([letter])
        return Outcome.REJECT

    async def _attempt(self, w: Work) -> Result:
        sim = simulation(w.job, self.settings.work_ms, self.settings.fail_rate)
        started = time.perf_counter()
        self.metrics.in_progress.inc()
        try:
            if sim.duration_s > 0:
                with span("simulated work", {"observatory.work.seconds": sim.duration_s}):
                    await asyncio.sleep(sim.duration_s)
            failed = attempt_fails(sim, w.attempt_in_run, self.rng)
        finally:
            self.metrics.in_progress.dec()
        seconds = time.perf_counter() - started
        self.metrics.processing.observe(seconds, exemplar())
        error = f"Simulated failure on attempt {w.attempt}" if failed else None
        return Result(w, failed, error, seconds, capture())

    async def _flush(self, results: Sequence[Result]) -> None:
        """Write a group of attempt ends, announce the terminal ones, schedule retries."""
        now = self.clock.now()
        ends, events = [], []
        retries: list[Result] = []
        terminal: list[Result] = []
        for r in results:
            w = r.work
            last = w.attempt_in_run >= self.settings.max_attempts
            if not r.failed:
                status = JobStatus.COMPLETED
            elif last:
                status = JobStatus.FAILED
            else:
                status = JobStatus.EXECUTING
                retries.append(r)
            ends.append(
                AttemptEnd(
                    w.job_id, w.attempt, status, "failed" if r.failed else "completed", r.error, now
                )
            )
            if status in TERMINAL:
                terminal.append(r)
                events.append((r.context, self.announce.terminal(w, status, r.error, now)))
        await self.jobs.finish(ends)
        if events:
            await self._publish_events(events)
        for r in retries:
            w = r.work
            delay = backoff(self.settings.backoff_base, w.attempt_in_run, self.rng)
            headers = {ATTEMPT_HEADER: w.attempt_in_run + 1}
            with attached(r.context):  # the retry joins its own job's trace
                await self.bus.schedule(JOBS_CREATED, orjson.dumps(w.envelope), headers, delay)
            self.metrics.retried.inc()
        for r in terminal:
            with attached(r.context):  # its log line and exemplar name its own trace
                self._count_terminal(r, now)

    async def _publish_events(self, events: list[tuple[object | None, Outgoing]]) -> None:
        """One confirmed publish round for the group; traced, each event carries its own
        job's trace context (the bus keeps a message's own `traceparent`), so the group
        stays one round and every job's event stays in its job's trace."""
        await self.bus.publish_many(
            [
                Outgoing(
                    event.routing_key,
                    event.body,
                    {**event.headers, **headers} if event.headers else headers,
                    event.message_id,
                )
                if (headers := carrier(context))
                else event
                for context, event in events
            ]
        )

    def _count_terminal(self, r: Result, now: datetime) -> None:
        (self.metrics.failed if r.failed else self.metrics.completed).inc()
        try:
            waited = (now - parse_iso(str(r.work.job["createdAt"]))).total_seconds()
        except (ValueError, OverflowError):
            waited = 0.0
        self.metrics.latency.observe(max(0.0, waited), exemplar())
        log.debug(
            "job finished",
            job_id=r.work.job_id,
            status=JobStatus.FAILED if r.failed else JobStatus.COMPLETED,
            attempt=r.work.attempt,
            correlation_id=r.work.envelope["correlationId"],
        )

    async def _reannounce(self, works: list[Work]) -> None:
        events = []
        for w in works:
            record = await self.jobs.get(w.job_id)
            if record is None or record.status not in TERMINAL:
                continue
            moment = record.completed_at or record.updated_at
            events.append(
                self.announce.terminal(
                    w, record.status, record.last_error, moment, attempts=record.attempts
                )
            )
        if events:
            await self.bus.publish_many(events)
