"""Read-model routes: stats, jobs, events, dead letters, alerts, the UI registry and the
live stream (README, "HTTP API in brief")."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from observatory.__about__ import __version__
from observatory.core.contracts.ids import canonical_uuid
from observatory.core.contracts.registry import Registry
from observatory.core.contracts.validator import Violation
from observatory.core.dead_letter_filter import dead_letter_query
from observatory.core.errors import InvalidMessage, NotFound
from observatory.core.http import is_json, json_error, token_denied
from observatory.core.job_filter import parse_filter
from observatory.core.stores.series import SERIES_HELP, series_query
from observatory.services.read_model.alerts import AlertSource, parse_notification
from observatory.services.read_model.queries import Queries
from observatory.services.read_model.search import SEARCH_HELP, filter_parameters, search_params
from observatory.services.read_model.stream import Broadcaster


def answer(body: Any) -> Response:
    """`body` as JSON, encoded once by orjson: FastAPI would validate it against the
    return type and walk it value by value first (most of a page's time in Python).
    Everything the stores return encodes (json_text stores only what orjson encodes);
    the bytes are what FastAPI sends, but for float spelling (`1e16`, not `1e+16`)."""
    return Response(orjson.dumps(body), media_type="application/json")


def build_router(
    queries: Queries,
    alerts: AlertSource,
    stream: Broadcaster,
    registry: Registry,
    *,
    token: str | None = None,
) -> APIRouter:
    """The read model's routes; `token`, when set, guards the one write route (the webhook)."""
    router = APIRouter()

    @router.get("/health", tags=["health"], summary="Health in the seed's shape")
    async def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @router.get("/stats", tags=["stats"], summary="Live counters")
    async def stats() -> Response:
        return answer(await queries.stats())

    @router.get(
        "/stats/series",
        tags=["stats"],
        summary="Counts, submit→done latency percentiles and queue depth per step",
        description=SERIES_HELP,
        responses={"400": {"description": "window/step malformed or beyond a limit (named)"}},
    )
    async def stats_series(
        window: Annotated[str | None, Query(max_length=12, description="15m, 1h, 24h")] = None,
        step: Annotated[str | None, Query(max_length=12, description="10s, 1m, 10m")] = None,
    ) -> Response:
        checked = series_query(window, step)
        if isinstance(checked, tuple):
            name, problem = checked
            raise InvalidMessage("Invalid query", [Violation(f"$.{name}", problem)])
        # Up to 360 points, encoded once (queries.series), not by FastAPI's per-value encoder.
        return Response(await queries.series(checked), media_type="application/json")

    @router.get("/jobs/recent", tags=["jobs"], summary="Newest jobs first")
    async def recent(limit: Annotated[int, Query(ge=1, le=100)] = 10) -> Response:
        return answer(await queries.recent_jobs(limit))

    @router.get(
        "/jobs",
        tags=["jobs"],
        summary="Job search: filters combine (AND), newest first, keyset-paginated",
        description=SEARCH_HELP,
        responses={"400": {"description": "A malformed filter; `details` names the field"}},
        # The filters are listed for the OpenAPI page only; they are read, checked and
        # combined from the query as a whole (with meta.<key>), in parse_filter.
        openapi_extra=filter_parameters(),
    )
    async def jobs(
        request: Request,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, Query(max_length=300)] = None,
    ) -> Response:
        job_filter = parse_filter(search_params(request.query_params.multi_items()))
        try:
            return answer(await queries.jobs_page(job_filter, limit=limit, cursor=cursor))
        except ValueError as exc:
            raise InvalidMessage("Invalid query", [Violation("$.cursor", str(exc))]) from exc

    @router.get("/jobs/{job_id}", tags=["jobs"], summary="One job with attempts and event timeline")
    async def job(job_id: str) -> Response:
        # Any spelling of a UUID finds the job (ids.py); anything else is no job of ours.
        canonical = canonical_uuid(job_id)
        found = await queries.job(canonical) if canonical else None
        if found is None:
            raise NotFound(f"Job {job_id} not found")
        return answer(found)

    @router.get("/events", tags=["events"], summary="Lifecycle events, newest first")
    async def events(
        jobId: Annotated[str | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> Response:
        if jobId is None:
            return answer(await queries.events_for(None, limit))
        canonical = canonical_uuid(jobId)
        return answer(await queries.events_for(canonical, limit) if canonical else [])

    @router.get(
        "/dead-letters",
        tags=["events"],
        summary="Stored dead letters, newest first; filter by state, reason (substring),"
        " queue, from/to (rejected_at)",
    )
    async def dead_letters(
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        state: Annotated[str | None, Query()] = None,
        reason: Annotated[str | None, Query()] = None,
        queue: Annotated[str | None, Query()] = None,
        since: Annotated[str | None, Query(alias="from")] = None,
        until: Annotated[str | None, Query(alias="to")] = None,
    ) -> list[dict[str, Any]]:
        fields = {"state": state, "reason": reason, "queue": queue, "from": since, "to": until}
        return await queries.dead_letters(limit, dead_letter_query(fields))

    @router.get("/audit", tags=["audit"], summary="Who did what, newest first (keyset paging)")
    async def audit(
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        cursor: Annotated[str | None, Query(max_length=100)] = None,
    ) -> dict[str, Any]:
        try:
            return await queries.audit(limit, cursor)
        except ValueError as exc:
            raise InvalidMessage("Invalid query", [Violation("$.cursor", str(exc))]) from exc

    @router.get("/alerts", tags=["alerts"], summary="Active alerts (or why they are unavailable)")
    async def active_alerts() -> dict[str, Any]:
        return await alerts.active()

    @router.post(
        "/webhook/alerts",
        tags=["alerts"],
        summary="Alertmanager webhook receiver (bearer token when one is configured)",
        responses={
            "400": {"description": "Invalid, or nested deeper than 32 levels"},
            "401": {"description": "Token missing or wrong"},
            "413": {"description": "Too large"},
            "415": {"description": "Not JSON"},
        },
    )
    async def webhook(request: Request) -> Response:
        denied = token_denied(token, request.headers.get("authorization", ""))
        if denied:
            return denied.response()
        # JSON only: a text/plain POST is a "simple" cross-origin request browsers send
        # without asking CORS first.
        if not is_json(request.headers.get("content-type", "")):
            return json_error(415, "Content-Type must be application/json")
        notification = parse_notification(await request.body())
        return JSONResponse({"received": alerts.record(notification)})

    @router.get("/alerts/history", tags=["alerts"], summary="Recent webhook notifications")
    async def history() -> list[dict[str, Any]]:
        # Entries are stored flat, string-valued and bounded (alerts.py): always encodable.
        return list(alerts.history)

    @router.get("/registry", tags=["ui"], summary="The UI registry the dashboards open")
    async def ui_registry() -> dict[str, Any]:
        return registry.as_dict()

    @router.get("/stream", tags=["stream"], summary="Server-Sent Events: stats and job events")
    async def stream_events() -> StreamingResponse:
        return StreamingResponse(
            stream.subscribe(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return router
