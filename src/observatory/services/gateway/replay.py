"""Replaying dead letters (SPEC §13): one by id, or many by filter with a dry run.

A letter is replayed only from `new` or `replay_failed`; its message is checked again
(core.replay) and, when it passes, published, then the letter is marked `replayed` with
the key its message would get if dead-lettered again and the moment before publishing
(its `stateAt`): only a dead letter rejected since then is that replay failing
(core/stores/dead_letter_rows.py); a copy of the original's dead letter delivered again
later is not. Publishing comes before marking:
a replay interrupted between the two is sent again by the next request (the consumers
are idempotent), never lost. A message that fails the checks is not sent; its letter
is marked `replay_failed` with the problems.

Bulk replay takes letters in state `new` matching `{reason?, queue?, from?, to?}`,
newest first, at most `limit` (default and cap 1,000; more matches without a `limit`
is 400). It works in chunks, each published and then marked, so a bulk replay killed
midway has marked exactly what it sent, and the same request again finishes the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import structlog

from observatory.core.bus.port import Bus
from observatory.core.clock import Clock
from observatory.core.contracts.validator import Violation
from observatory.core.dead_letter_filter import dead_letter_query
from observatory.core.errors import InvalidMessage
from observatory.core.http import Reply
from observatory.core.replay import Replay, replay_message
from observatory.core.stores.ports import EventStore

log = structlog.get_logger("observatory.gateway")

CAP = 1000
CHUNK = 100
REPLAYABLE = ("new", "replay_failed")


@dataclass(frozen=True, slots=True)
class BulkReplay:
    """A parsed bulk request."""

    filter: dict[str, Any]
    dry_run: bool
    limit: int | None


@dataclass
class BulkResult:
    matched: int = 0
    replayed: int = 0
    failed: list[str] = field(default_factory=list)
    job_ids: list[str] = field(default_factory=list)  # of the letters replayed (audit)

    def as_dict(self) -> dict[str, Any]:
        return {"matched": self.matched, "replayed": self.replayed, "failed": self.failed}


def parse_bulk(body: dict[str, Any]) -> BulkReplay:
    problems: list[Violation] = []
    unknown = sorted(set(body) - {"filter", "dryRun", "limit"})
    problems += [Violation(f"$.{name}", "is not a field of a bulk replay") for name in unknown]
    raw_filter = body.get("filter", {})
    if not isinstance(raw_filter, dict):
        problems.append(Violation("$.filter", "must be an object"))
        raw_filter = {}
    dry_run = body.get("dryRun", False)
    if not isinstance(dry_run, bool):
        problems.append(Violation("$.dryRun", "must be true or false"))
    limit = body.get("limit")
    if limit is not None and (
        not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= CAP
    ):
        problems.append(Violation("$.limit", f"must be an integer from 1 to {CAP}"))
    if problems:
        raise InvalidMessage("Invalid bulk replay", problems)
    return BulkReplay(raw_filter, dry_run is True, limit)


def job_ids_of(letters: list[dict[str, Any]]) -> list[str]:
    """The job ids the letters' messages carry (for their timelines), where they have one."""
    found = []
    for letter in letters:
        original = letter.get("original_event")
        payload = original.get("payload") if isinstance(original, dict) else None
        job_id = payload.get("id") if isinstance(payload, dict) else None
        if isinstance(job_id, str):
            found.append(job_id)
    return found


class Replayer:
    """Replays letters over the bus and the event store (see module docstring)."""

    def __init__(self, *, bus: Bus, events: EventStore, clock: Clock) -> None:
        self.bus, self.events, self.clock = bus, events, clock

    async def one(self, letter_id: str) -> tuple[Reply, dict[str, Any] | None]:
        """The answer to POST /dead-letters/{id}/replay, and the letter (None if unknown)."""
        letter = await self.events.dead_letter(letter_id)
        if letter is None:
            return Reply(404, {"error": f"Dead letter {letter_id} not found"}), None
        if letter["state"] not in REPLAYABLE:
            error = f"Dead letter {letter_id} was replayed already"
            return Reply(409, {"error": error, "state": letter["state"]}), letter
        try:
            replay = replay_message(letter)
        except InvalidMessage as exc:
            await self._failed(letter_id, exc)
            return Reply(
                422,
                {
                    "error": exc.reason,
                    "details": [v.as_dict() for v in exc.violations] or None,
                    "deadLetterId": letter_id,
                    "state": "replay_failed",
                },
            ), letter
        await self._send(letter_id, replay)
        return Reply(202, {"deadLetterId": letter_id, "state": "replayed"}), letter

    async def bulk(self, request: BulkReplay) -> BulkResult | Reply:
        """The result of POST /dead-letters/replay, or a 400 when it would touch too many."""
        query = replace(dead_letter_query(request.filter, prefix="$.filter"), state="new")
        limit = request.limit or CAP
        found = await self.events.find_dead_letters(query, limit + 1)
        if len(found) > limit and request.limit is None:
            return Reply(
                400,
                {
                    "error": f"the filter matches more than {CAP} dead letters; narrow it or"
                    f" give a limit (at most {CAP})",
                    "details": [{"path": "$.filter", "message": f"matches more than {CAP}"}],
                },
            )
        letters = found[:limit]
        result = BulkResult(matched=len(letters))
        if request.dry_run:
            return result
        for start in range(0, len(letters), CHUNK):
            sendable: list[tuple[str, Replay]] = []
            for letter in letters[start : start + CHUNK]:
                try:
                    sendable.append((letter["id"], replay_message(letter)))
                except InvalidMessage as exc:
                    await self._failed(letter["id"], exc)
                    result.failed.append(letter["id"])
            if sendable:
                sent = self._now()
                await self.bus.publish_many([r.message for _, r in sendable])
                for letter_id, replay in sendable:
                    await self.events.mark_dead_letter(
                        letter_id, "replayed", at=sent, replay_key=replay.replay_key
                    )
                result.replayed += len(sendable)
                result.job_ids += job_ids_of(
                    [
                        letter
                        for letter in letters[start : start + CHUNK]
                        if letter["id"] in {i for i, _ in sendable}
                    ]
                )
        return result

    def _now(self) -> datetime:
        """Now, to the millisecond below: dead letters say when they were rejected in
        milliseconds, and one rejected in the same millisecond the replay went out must
        not look older than it."""
        now = self.clock.now()
        return now.replace(microsecond=now.microsecond // 1000 * 1000)

    async def _send(self, letter_id: str, replay: Replay) -> None:
        sent = self._now()
        await self.bus.publish_many([replay.message])
        await self.events.mark_dead_letter(
            letter_id, "replayed", at=sent, replay_key=replay.replay_key
        )

    async def _failed(self, letter_id: str, exc: InvalidMessage) -> None:
        log.info("dead letter replay refused", dead_letter_id=letter_id, reason=exc.describe())
        await self.events.mark_dead_letter(
            letter_id, "replay_failed", at=self.clock.now(), error=exc.describe()[:1000]
        )
