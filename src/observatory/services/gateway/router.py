"""The gateway's route table: every route, its handler and its OpenAPI description, in
one place (the handlers are in routes.py, operate_routes.py and proxies.py).

`POST /jobs` is also answered by the plain-ASGI lane (lane.py) in front of this router;
it is registered here too, for a request the lane hands on (one with an `Origin`) and
for the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter

from observatory.core.contracts.job_request import request_schema
from observatory.services.gateway.bulk_retry import BULK_HELP, BULK_SCHEMA
from observatory.services.gateway.operate_routes import OperateRoutes
from observatory.services.gateway.proxies import Proxies
from observatory.services.gateway.routes import GatewayRoutes

Responses = dict[str, str]  # status code → what the answer is
ACCEPTED: Responses = {"202": "Accepted: `{jobId, eventId}`"}


@dataclass(frozen=True)
class Route:
    """One row of the table: what `add_api_route` is told, and the JSON schema of the
    request body when the handler reads the body itself (so FastAPI cannot infer it)."""

    method: str
    path: str
    endpoint: Callable[..., Any]
    tag: str
    summary: str
    responses: Responses = field(default_factory=dict)
    status_code: int | None = None
    description: str | None = None
    body: dict[str, Any] | None = None
    body_required: bool = True

    def add_to(self, router: APIRouter) -> None:
        extra = None
        if self.body is not None:
            content = {"application/json": {"schema": self.body}}
            extra = {"requestBody": {"required": self.body_required, "content": content}}
        router.add_api_route(
            self.path,
            self.endpoint,
            methods=[self.method],
            status_code=self.status_code,
            tags=[self.tag],
            summary=self.summary,
            description=self.description,
            responses={code: {"description": text} for code, text in self.responses.items()},
            openapi_extra=extra,
        )


def routes(intake: GatewayRoutes, operate: OperateRoutes, proxies: Proxies) -> list[Route]:
    """The gateway's routes, in the OpenAPI document's order."""
    return [
        # Intake (routes.py)
        Route(
            "POST",
            "/jobs",
            intake.submit,
            "jobs",
            "Submit a job (full Job or short form {type, payload?, metadata?, id?})",
            {
                **ACCEPTED,
                "400": "Invalid",
                "409": "This id was submitted with another body: `{error, jobId}`",
                "413": "Too large",
                "415": "Not JSON",
                "503": "Broker down, or outcome unknown: `{error, jobId, outcome}`",
            },
            status_code=202,
            body=request_schema(),
        ),
        # The operator's actions (operate_routes.py)
        Route(
            "POST",
            "/jobs/{job_id}/retry",
            operate.retry,
            "jobs",
            "Run a FAILED job again",
            {
                **ACCEPTED,
                "404": "Unknown job",
                "409": "Not FAILED: `{error, status}`",
            },
            status_code=202,
        ),
        Route(
            "POST",
            "/jobs/retry",
            operate.bulk_retry,
            "jobs",
            "Run again the FAILED jobs a filter selects (dry run: count only)",
            {
                "200": "`{matched, retried, jobIds}`",
                "400": "Malformed, or more than 1,000 match without a limit",
                "503": "Broker down midway: what was retried, repeat to resume",
            },
            description=BULK_HELP,
            body=BULK_SCHEMA,
            body_required=False,
        ),
        Route(
            "POST",
            "/jobs/{job_id}/cancel",
            operate.cancel,
            "jobs",
            "Cancel a PENDING job or one waiting for a retry",
            {
                "200": '`{jobId, status: "CANCELLED"}`',
                "404": "Unknown job",
                "409": "Running or finished (CANCELLED too): `{error, status}`",
            },
        ),
        Route(
            "POST",
            "/dead-letters/replay",
            operate.replay_many,
            "dead letters",
            "Replay the new dead letters a filter matches ({filter, dryRun?, limit?})",
            {
                "200": "`{matched, replayed, failed}`",
                "400": "Invalid filter, or more than 1,000 without a limit",
            },
        ),
        Route(
            "POST",
            "/dead-letters/{letter_id}/replay",
            operate.replay_one,
            "dead letters",
            "Replay one dead letter (checked again like a new message)",
            {
                "202": "`{deadLetterId, state}`",
                "404": "Unknown dead letter",
                "409": "Replayed already: `{error, state}`",
                "422": "Invalid again: `{error, details, deadLetterId, state}`",
            },
            status_code=202,
        ),
        # Read proxies (proxies.py)
        Route(
            "GET",
            "/proxy/alerts",
            proxies.alerts,
            "proxy",
            "Active alerts from Alertmanager /api/v2/alerts",
        ),
        Route(
            "GET",
            "/proxy/targets",
            proxies.targets,
            "proxy",
            "Scrape targets from Prometheus /api/v1/targets",
        ),
    ]


def gateway_router(intake: GatewayRoutes, operate: OperateRoutes, proxies: Proxies) -> APIRouter:
    router = APIRouter()
    for route in routes(intake, operate, proxies):
        route.add_to(router)
    return router
