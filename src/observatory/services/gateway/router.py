"""The gateway's route table: every route, its handler and its OpenAPI description, in
one place (the handlers are in routes.py, operate_routes.py and proxies.py).

`POST /jobs` is also answered by the plain-ASGI lane (lane.py) in front of this router;
it is registered here too, for a request the lane hands on (one with an `Origin`) and
for the OpenAPI document.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from observatory.core.contracts.job_request import request_schema
from observatory.services.gateway.bulk_retry import BULK_HELP, BULK_SCHEMA
from observatory.services.gateway.operate_routes import OperateRoutes
from observatory.services.gateway.proxies import Proxies
from observatory.services.gateway.routes import GatewayRoutes

ACCEPTED: dict[int | str, dict[str, Any]] = {"202": {"description": "Accepted: `{jobId, eventId}`"}}


def gateway_router(intake: GatewayRoutes, operate: OperateRoutes, proxies: Proxies) -> APIRouter:
    router = APIRouter()
    # Intake (routes.py)
    router.add_api_route(
        "/jobs",
        intake.submit,
        methods=["POST"],
        status_code=202,
        tags=["jobs"],
        summary="Submit a job (full Job or short form {type, payload?, metadata?, id?})",
        responses={
            **ACCEPTED,
            "400": {"description": "Invalid"},
            "413": {"description": "Too large"},
            "409": {"description": "This id was submitted with another body: `{error, jobId}`"},
            "415": {"description": "Not JSON"},
            "503": {"description": "Broker down, or outcome unknown: `{error, jobId, outcome}`"},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": request_schema()}},
            }
        },
    )
    # The operator's actions (operate_routes.py)
    router.add_api_route(
        "/jobs/{job_id}/retry",
        operate.retry,
        methods=["POST"],
        status_code=202,
        tags=["jobs"],
        summary="Run a FAILED job again",
        responses={
            **ACCEPTED,
            "404": {"description": "Unknown job"},
            "409": {"description": "Not FAILED: `{error, status}`"},
        },
    )
    router.add_api_route(
        "/jobs/retry",
        operate.bulk_retry,
        methods=["POST"],
        tags=["jobs"],
        summary="Run again the FAILED jobs a filter selects (dry run: count only)",
        description=BULK_HELP,
        responses={
            "200": {"description": "`{matched, retried, jobIds}`"},
            "400": {"description": "Malformed, or more than 1,000 match without a limit"},
            "503": {"description": "Broker down midway: what was retried, repeat to resume"},
        },
        openapi_extra={
            "requestBody": {
                "required": False,
                "content": {"application/json": {"schema": BULK_SCHEMA}},
            }
        },
    )
    router.add_api_route(
        "/jobs/{job_id}/cancel",
        operate.cancel,
        methods=["POST"],
        tags=["jobs"],
        summary="Cancel a PENDING job or one waiting for a retry",
        responses={
            "200": {"description": '`{jobId, status: "CANCELLED"}`'},
            "404": {"description": "Unknown job"},
            "409": {"description": "Running or finished (CANCELLED too): `{error, status}`"},
        },
    )
    router.add_api_route(
        "/dead-letters/replay",
        operate.replay_many,
        methods=["POST"],
        tags=["dead letters"],
        summary="Replay the new dead letters a filter matches ({filter, dryRun?, limit?})",
        responses={
            "200": {"description": "`{matched, replayed, failed}`"},
            "400": {"description": "Invalid filter, or more than 1,000 without a limit"},
        },
    )
    router.add_api_route(
        "/dead-letters/{letter_id}/replay",
        operate.replay_one,
        methods=["POST"],
        status_code=202,
        tags=["dead letters"],
        summary="Replay one dead letter (checked again like a new message)",
        responses={
            "202": {"description": "`{deadLetterId, state}`"},
            "404": {"description": "Unknown dead letter"},
            "409": {"description": "Replayed already: `{error, state}`"},
            "422": {"description": "Invalid again: `{error, details, deadLetterId, state}`"},
        },
    )
    # Read proxies (proxies.py)
    router.add_api_route(
        "/proxy/alerts",
        proxies.alerts,
        methods=["GET"],
        tags=["proxy"],
        summary="Active alerts from Alertmanager /api/v2/alerts",
    )
    router.add_api_route(
        "/proxy/targets",
        proxies.targets,
        methods=["GET"],
        tags=["proxy"],
        summary="Scrape targets from Prometheus /api/v1/targets",
    )
    return router
