"""The read model's answers as typed values, parsed leniently.

The TUI must keep drawing whatever a (possibly newer or older) read model sends, so each
parser takes what it knows, fills gaps with neutral defaults, and raises BadResponse only
when the shape is wrong (e.g. an object where a list belongs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from observatory.core.contracts.vocabulary import JobStatus

STATUSES = tuple(JobStatus)


class BadResponse(ValueError):
    """The body does not have the shape the contract promises."""


def _obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadResponse(f"{what} is not a JSON object")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise BadResponse(f"{what} is not a JSON array")
    return value


def _sub(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    return "" if value is None else str(value)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


@dataclass(frozen=True, slots=True)
class JobFilter:
    """What the jobs table shows: everything, or the jobs the read model's search selects
    (GET /jobs: status, type, id prefix, error text, metadata key=value pairs)."""

    status: str = ""
    job_type: str = ""
    id_prefix: str = ""
    error: str = ""
    meta: tuple[tuple[str, str], ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.status or self.job_type or self.id_prefix or self.error or self.meta)

    def params(self) -> dict[str, str]:
        """The GET /jobs query of this filter (empty fields left out)."""
        found = {
            "status": self.status,
            "type": self.job_type,
            "idPrefix": self.id_prefix,
            "error": self.error,
        }
        found.update({f"meta.{key}": value for key, value in self.meta})
        return {k: v for k, v in found.items() if v}

    def describe(self) -> str:
        parts = (
            f"status={self.status}" if self.status else "",
            f"type={self.job_type}" if self.job_type else "",
            f"id={self.id_prefix}…" if self.id_prefix else "",
            f"error~{self.error}" if self.error else "",
            *(f"{key}={value}" for key, value in self.meta),
        )
        return " ".join(p for p in parts if p)


@dataclass(frozen=True, slots=True)
class BulkRetryResult:
    """POST /jobs/retry's answer."""

    matched: int
    retried: int
    job_ids: tuple[str, ...]

    @classmethod
    def parse(cls, body: Any) -> BulkRetryResult:
        if not isinstance(body, dict):
            raise BadResponse("bulk retry answer is not an object")
        matched, retried, ids = body.get("matched"), body.get("retried"), body.get("jobIds")
        if (
            not isinstance(matched, int)
            or not isinstance(retried, int)
            or not isinstance(ids, list)
        ):
            raise BadResponse("bulk retry answer lacks matched/retried/jobIds")
        return cls(matched, retried, tuple(str(i) for i in ids))


@dataclass(frozen=True, slots=True)
class BulkReplayResult:
    """POST /dead-letters/replay's answer: how many matched, were replayed, and the ids of
    the letters whose message was refused again (marked replay_failed)."""

    matched: int
    replayed: int
    failed: tuple[str, ...]

    @classmethod
    def parse(cls, body: Any) -> BulkReplayResult:
        if not isinstance(body, dict):
            raise BadResponse("bulk replay answer is not an object")
        matched, replayed, failed = body.get("matched"), body.get("replayed"), body.get("failed")
        if (
            not isinstance(matched, int)
            or not isinstance(replayed, int)
            or not isinstance(failed, list)
        ):
            raise BadResponse("bulk replay answer lacks matched/replayed/failed")
        return cls(matched, replayed, tuple(str(i) for i in failed))


@dataclass(frozen=True, slots=True)
class Stats:
    total: int = 0
    completed: int = 0
    failed: int = 0
    in_flight: int = 0
    dead_letters: int = 0
    last_event: str = ""

    @classmethod
    def parse(cls, body: Any) -> Stats:
        data = _obj(body, "/stats")
        return cls(
            total=_int(data.get("totalJobs")),
            completed=_int(data.get("completedJobs")),
            failed=_int(data.get("failedJobs")),
            in_flight=_int(data.get("inFlightJobs")),
            dead_letters=_int(data.get("deadLetters")),
            last_event=_str(data.get("lastEventTime")),
        )


@dataclass(frozen=True, slots=True)
class Series:
    """GET /stats/series: per-step counts, oldest first (the sparklines' data)."""

    window: str = ""
    step: str = ""
    created: tuple[int, ...] = ()
    completed: tuple[int, ...] = ()
    failed: tuple[int, ...] = ()
    cancelled: tuple[int, ...] = ()

    @classmethod
    def parse(cls, body: Any) -> Series:
        data = _obj(body, "/stats/series")
        points = [_obj(p, "a series point") for p in _list(data.get("points"), "points")]

        def column(key: str) -> tuple[int, ...]:
            return tuple(_int(p.get(key)) for p in points)

        return cls(
            window=_str(data.get("window")),
            step=_str(data.get("step")),
            created=column("created"),
            completed=column("completed"),
            failed=column("failed"),
            cancelled=column("cancelled"),
        )


@dataclass(frozen=True, slots=True)
class JobSummary:
    id: str
    type: str
    status: str
    created_at: str = ""
    updated_at: str = ""
    attempts: int = 0
    error: str = ""

    @classmethod
    def parse(cls, body: Any) -> JobSummary:
        data = _obj(body, "job")
        return cls(
            id=_str(data.get("id")),
            type=_str(data.get("type")),
            status=_str(data.get("status")).upper(),
            created_at=_str(data.get("createdAt")),
            updated_at=_str(data.get("updatedAt")),
            attempts=_int(data.get("attempts")),
            error=_str(data.get("error")),
        )

    @classmethod
    def parse_list(cls, body: Any) -> list[JobSummary]:
        if isinstance(body, dict) and "items" in body:
            body = body["items"]
        return [cls.parse(item) for item in _list(body, "job list")]


@dataclass(frozen=True, slots=True)
class Attempt:
    number: int
    started_at: str
    finished_at: str
    outcome: str
    error: str


@dataclass(frozen=True, slots=True)
class Event:
    occurred_at: str
    event_type: str
    service: str
    status: str
    event_id: str


@dataclass(frozen=True, slots=True)
class JobDetail:
    summary: JobSummary
    completed_at: str = ""
    run: int = 1
    payload: dict[str, Any] = field(default_factory=dict)
    attempts: tuple[Attempt, ...] = ()
    events: tuple[Event, ...] = ()
    trace_id: str = ""  # the job's trace (tracing on), "" untraced
    trace_url: str = ""  # its link to the trace backend (ODTO_TRACE_URL), "" without one

    @classmethod
    def parse(cls, body: Any) -> JobDetail:
        data = _obj(body, "job detail")
        attempts = tuple(
            Attempt(
                number=_int(a.get("attempt")),
                started_at=_str(a.get("startedAt")),
                finished_at=_str(a.get("finishedAt")),
                outcome=_str(a.get("outcome")) or "running",
                error=_str(a.get("error")),
            )
            for a in (
                _obj(x, "attempt") for x in _list(data.get("attemptHistory") or [], "attempts")
            )
        )
        events = []
        for raw in _list(data.get("events") or [], "events"):
            env = _obj(raw, "event")
            producer = _sub(env, "producer")
            job = _sub(env, "payload")
            events.append(
                Event(
                    occurred_at=_str(env.get("occurredAt")),
                    event_type=_str(env.get("eventType")),
                    service=_str(producer.get("service")),
                    status=_str(job.get("status")),
                    event_id=_str(env.get("eventId")),
                )
            )
        return cls(
            summary=JobSummary.parse(data),
            completed_at=_str(data.get("completedAt")),
            run=_int(data.get("run")) or 1,
            payload=_sub(data, "payload"),
            attempts=attempts,
            events=tuple(events),
            trace_id=_str(data.get("traceId")),
            trace_url=_link(data.get("traceUrl")),
        )


@dataclass(frozen=True, slots=True)
class Alert:
    name: str
    severity: str
    service: str
    summary: str


@dataclass(frozen=True, slots=True)
class Alerts:
    """GET /alerts: `available` False means the read model has no alert source right now."""

    available: bool
    reason: str = ""
    alerts: tuple[Alert, ...] = ()

    @classmethod
    def parse(cls, body: Any) -> Alerts:
        data = _obj(body, "/alerts")
        items = []
        for raw in _list(data.get("alerts") or [], "alerts"):
            alert = _obj(raw, "alert")
            labels = _sub(alert, "labels")
            items.append(
                Alert(
                    name=_str(alert.get("alertname") or labels.get("alertname")) or "Unknown",
                    severity=_str(alert.get("severity") or labels.get("severity")).lower(),
                    service=_str(alert.get("service") or labels.get("service")),
                    summary=_str(alert.get("summary")),
                )
            )
        status = _str(data.get("status")) or "ok"
        return cls(status == "ok", _str(data.get("reason")), tuple(items))


def _link(value: Any) -> str:
    """An http(s) link from the API, or "" (nothing else is shown as a link)."""
    text = _str(value)
    return text if text.startswith(("http://", "https://")) else ""
