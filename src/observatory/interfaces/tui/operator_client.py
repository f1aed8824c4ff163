"""The operator's actions on the system, mixed into ObservatoryClient (client.py): cancel
and retry a job, retry the FAILED jobs a filter selects, list and replay dead letters,
read the audit trail.

Every write goes to the gateway and every read to the read model through the client's own
calls, so their timeouts and errors (RequestError) are the client's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

from observatory.interfaces.tui.models import BulkReplayResult, BulkRetryResult

T = TypeVar("T")


class Calls(Protocol):
    """What the actions need of the client they are mixed into."""

    async def _post(self, path: str, body: Any = None) -> Any:
        """POST to the gateway at `path`; the JSON answer, or RequestError."""

    async def _read(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET from the read model at `path`; the JSON answer, or RequestError."""

    def _parsed(self, parse: Callable[[Any], T], body: Any) -> T:
        """`parse(body)`, a RequestError when the answer is not what it expects."""

    def _job_id(self, answer: Any) -> str:
        """The `jobId` of the gateway's answer, a RequestError without one."""


class OperatorActions:
    """The operator's calls; `self` is the ObservatoryClient they are mixed into."""

    async def retry(self: Calls, job_id: str) -> str:
        """POST /jobs/{id}/retry; the retried job's id."""
        return self._job_id(await self._post(f"/jobs/{job_id}/retry"))

    async def bulk_retry(
        self: Calls, job_filter: Mapping[str, str], *, dry_run: bool, limit: int | None = None
    ) -> BulkRetryResult:
        """POST /jobs/retry: the FAILED jobs `job_filter` (type, from, to, error) selects,
        counted (`dry_run`) or run again."""
        body = _bulk_body(job_filter, dry_run, limit)
        return self._parsed(BulkRetryResult.parse, await self._post("/jobs/retry", body))

    async def cancel(self: Calls, job_id: str) -> str:
        """POST /jobs/{id}/cancel; the job's status afterwards (CANCELLED). A job that runs
        or has finished is a RequestError whose text names its status (409)."""
        answer = await self._post(f"/jobs/{job_id}/cancel")
        return str(answer.get("status", "")) if isinstance(answer, dict) else ""

    async def dead_letters(
        self: Calls, *, state: str = "", reason: str = "", queue: str = "", limit: int = 50
    ) -> list[dict[str, Any]]:
        """GET /dead-letters (newest first), filtered by state, reason (substring) and queue
        when given."""
        params = {"limit": limit, "state": state, "reason": reason, "queue": queue}
        body = await self._read("/dead-letters", params)
        return [d for d in body if isinstance(d, dict)] if isinstance(body, list) else []

    async def replay(self: Calls, letter_id: str) -> str:
        """POST /dead-letters/{id}/replay; the letter's state afterwards."""
        answer = await self._post(f"/dead-letters/{letter_id}/replay")
        return str(answer.get("state", "")) if isinstance(answer, dict) else ""

    async def bulk_replay(
        self: Calls, letter_filter: Mapping[str, str], *, dry_run: bool, limit: int | None = None
    ) -> BulkReplayResult:
        """POST /dead-letters/replay: the new dead letters `letter_filter` (reason, queue,
        from, to) selects, counted (`dry_run`) or replayed."""
        body = _bulk_body(letter_filter, dry_run, limit)
        answer = await self._post("/dead-letters/replay", body)
        return self._parsed(BulkReplayResult.parse, answer)

    async def audit(self: Calls, *, limit: int = 100) -> list[dict[str, Any]]:
        """GET /audit: the newest entries."""
        body = await self._read("/audit", {"limit": limit})
        items = body.get("items") if isinstance(body, dict) else None
        return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _bulk_body(selection: Mapping[str, str], dry_run: bool, limit: int | None) -> dict[str, Any]:
    """The body of a bulk action: its filter, whether only to count, and its cap if any."""
    body: dict[str, Any] = {"filter": dict(selection), "dryRun": dry_run}
    if limit is not None:
        body["limit"] = limit
    return body
