"""What the gateway remembers of recent submits, so a resubmit republishes the original.

A client that got `503 outcome: "unknown"` (or lost a 202 on the way back) sends the same
body with the same `id` again. The first job.created may already sit in some queues (a
refused confirm can leave copies in some of the queues the exchange routes to), so a
new envelope would give the job a second job.created with another eventId and later
times: its created time would move. Instead the gateway publishes the original message
again, byte for byte, and every consumer deduplicates it by eventId.

The memory is per process and bounded in entries, bytes and age; two tiers, so the many
accepted submits never push out the few whose outcome is unknown:

- `unknown`: envelopes whose confirm never came, kept until a publish of them is
  confirmed (they then move to `accepted`) or they age out;
- `accepted`: recently confirmed envelopes, for a client that lost the 202.

A submit whose publish still awaits its confirm is remembered too (a client that gave up
waiting may resubmit meanwhile); one certainly not published is then forgotten.

A resubmit whose body differs from the remembered one is a conflict (409): the id names
a job that may already exist with the other body. An id this process does not remember
(another gateway process took the first submit, or it aged out) is published as a new
envelope, as before: the processor still runs and counts the job once.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any

import orjson

from observatory.core.clock import Clock


def body_digest(body: dict[str, Any], job_id: str) -> bytes:
    """The submitted body as a client means it: key order and the id's spelling aside."""
    canonical = orjson.dumps({**body, "id": job_id}, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(canonical, digest_size=16).digest()


def message_bytes(envelope: dict[str, Any]) -> bytes:
    """The envelope's bytes, in an allocation their own size: orjson's result keeps its
    whole working buffer (4 KiB for a 450-byte job.created), which the thousands of
    remembered submits would hold for nothing (about 15 MB of resident memory)."""
    return bytes(memoryview(orjson.dumps(envelope)))


@dataclass(frozen=True, slots=True)
class Submitted:
    """One job.created as first published: the exact bytes sent (its envelope is read
    from them again for a resubmit; the thousands remembered do not keep the dicts)."""

    digest: bytes
    message: bytes
    maybe_sent: bool = False  # a publish of it ended with its outcome unknown

    @property
    def size(self) -> int:
        return len(self.message) * 2  # the bytes, and about as much again around them


class Recall:
    """`Submitted` by job id, bounded in entries, bytes and age (seconds of the clock's
    monotonic time since each was put); the oldest entries go first."""

    def __init__(self, *, entries: int, size: int, ttl: float) -> None:
        self.entries, self.size, self.ttl = entries, size, ttl
        self._items: OrderedDict[str, tuple[float, Submitted]] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    def get(self, job_id: str, now: float) -> Submitted | None:
        found = self._items.get(job_id)
        if found is None:
            return None
        if now - found[0] > self.ttl:
            self.pop(job_id)
            return None
        return found[1]

    def put(self, job_id: str, item: Submitted, now: float) -> None:
        self.pop(job_id)
        if item.size > self.size:
            return  # larger than the whole budget: not remembered at all
        self._items[job_id] = (now, item)
        self._bytes += item.size
        while len(self._items) > self.entries or self._bytes > self.size:
            self.pop(next(iter(self._items)))
        oldest = next(iter(self._items))  # at most one aged out per put: enough to drain
        if now - self._items[oldest][0] > self.ttl:
            self.pop(oldest)

    def pop(self, job_id: str) -> Submitted | None:
        found = self._items.pop(job_id, None)
        if found is None:
            return None
        self._bytes -= found[1].size
        return found[1]


class Resubmits:
    """The two tiers (module docstring) over one clock, and the submits whose publish
    awaits its confirm now (as many as requests in flight)."""

    def __init__(
        self,
        clock: Clock,
        *,
        unknown: Recall | None = None,
        accepted: Recall | None = None,
    ) -> None:
        self.clock = clock
        # clients retry after Retry-After (5 s) a few times; a quarter of an hour is ample
        self.unknown = (
            unknown if unknown is not None else Recall(entries=10_000, size=16 << 20, ttl=900.0)
        )
        # a lost 202 is retried at once or not at all
        self.accepted = (
            accepted if accepted is not None else Recall(entries=4_096, size=8 << 20, ttl=60.0)
        )
        self.in_flight: dict[str, Submitted] = {}

    def recall(self, job_id: str) -> Submitted | None:
        """The remembered first submit of `job_id`, if any."""
        found = self.in_flight.get(job_id)
        if found is not None:
            return found
        now = self.clock.monotonic()
        return self.unknown.get(job_id, now) or self.accepted.get(job_id, now)

    def publishing(self, job_id: str, item: Submitted) -> None:
        """A new envelope is about to be published; call `settled` once that publish ended."""
        self.in_flight[job_id] = item

    def settled(self, job_id: str, item: Submitted) -> None:
        """A publish of `item` ended, however (a certain failure forgets a new envelope)."""
        if self.in_flight.get(job_id) is item:
            del self.in_flight[job_id]

    def outcome_unknown(self, job_id: str, item: Submitted) -> None:
        self.accepted.pop(job_id)
        self.unknown.put(job_id, replace(item, maybe_sent=True), self.clock.monotonic())

    def confirmed(self, job_id: str, item: Submitted) -> None:
        if self.unknown:
            self.unknown.pop(job_id)
        self.accepted.put(job_id, item, self.clock.monotonic())
