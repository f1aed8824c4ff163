"""What the gateway remembers of recent submits, so a resubmit republishes the original.

A client that got `503 outcome: "unknown"` (or lost a 202 on the way back) sends the same
body with the same `id` again. The first job.created may already sit in some queues (a
refused confirm can leave copies in some of the queues the exchange routes to), so a
new envelope would give the job a second job.created with another eventId and later
times: its created time would move. Instead the gateway publishes the original message
again, byte for byte, and every consumer deduplicates it by eventId.

The memory is per process and bounded in entries, bytes and age; two tiers, so the many
accepted submits never push out the few whose outcome is unknown:

- `unknown`: envelopes whose confirm never came (or has not come yet: a resubmit may
  arrive while the first publish still waits for it), kept until a publish of them is
  confirmed (they then move to `accepted`) or they age out; one that was certainly not
  published, and never may have been, is forgotten;
- `accepted`: recently confirmed envelopes, for a client that lost the 202.

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


@dataclass(frozen=True, slots=True)
class Submitted:
    """One job.created as first published: its envelope and the exact bytes sent."""

    digest: bytes
    envelope: dict[str, Any]
    message: bytes
    at: float  # clock.monotonic() when remembered
    maybe_sent: bool = False  # a publish of it ended with its outcome unknown

    @property
    def size(self) -> int:
        return len(self.message) * 2  # the bytes, and about as much again for the dict


class Recall:
    """`Submitted` by job id, bounded in entries, bytes and age (seconds); the oldest
    entries go first."""

    def __init__(self, *, entries: int, size: int, ttl: float) -> None:
        self.entries, self.size, self.ttl = entries, size, ttl
        self._items: OrderedDict[str, Submitted] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    def get(self, job_id: str, now: float) -> Submitted | None:
        item = self._items.get(job_id)
        if item is not None and now - item.at > self.ttl:
            self.pop(job_id)
            return None
        return item

    def put(self, job_id: str, item: Submitted) -> None:
        self.pop(job_id)
        if item.size > self.size:
            return  # larger than the whole budget: not remembered at all
        self._items[job_id] = item
        self._bytes += item.size
        while len(self._items) > self.entries or self._bytes > self.size:
            self.pop(next(iter(self._items)))
        self._expire(item.at)

    def pop(self, job_id: str) -> Submitted | None:
        item = self._items.pop(job_id, None)
        if item is not None:
            self._bytes -= item.size
        return item

    def _expire(self, now: float) -> None:
        while self._items:  # oldest first: stop at the first one still young enough
            job_id, oldest = next(iter(self._items.items()))
            if now - oldest.at <= self.ttl:
                return
            self.pop(job_id)


class Resubmits:
    """The two tiers (module docstring) over one clock."""

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

    def recall(self, job_id: str) -> Submitted | None:
        """The remembered first submit of `job_id`, if any (unknown outcome first)."""
        now = self.clock.monotonic()
        return self.unknown.get(job_id, now) or self.accepted.get(job_id, now)

    def entry(self, digest: bytes, envelope: dict[str, Any], message: bytes) -> Submitted:
        return Submitted(digest, envelope, message, self.clock.monotonic())

    def publishing(self, job_id: str, item: Submitted) -> None:
        """A new envelope is about to be published: its outcome is unknown until confirmed."""
        self.unknown.put(job_id, item)

    def outcome_unknown(self, job_id: str, item: Submitted) -> None:
        self.accepted.pop(job_id)
        self.unknown.put(job_id, replace(item, maybe_sent=True))

    def not_published(self, job_id: str, item: Submitted) -> None:
        """A publish of `item` certainly failed: forget it, unless a copy may be out (an
        earlier or concurrent publish of it ended unknown, or one was confirmed)."""
        if self.unknown.get(job_id, self.clock.monotonic()) is item and not item.maybe_sent:
            self.unknown.pop(job_id)

    def confirmed(self, job_id: str, item: Submitted) -> None:
        self.unknown.pop(job_id)
        self.accepted.put(job_id, replace(item, at=self.clock.monotonic()))
