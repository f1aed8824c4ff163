"""The proxy relays requests and answers faithfully, and turns upstream failures into JSON."""

from __future__ import annotations

import json
import uuid

import httpx
from tests.unit.web.upstreams import Upstreams

CORRELATION_ID = "c0ffee00-0000-4000-8000-000000000001"


async def test_api_request_reaches_read_model_with_path_query_and_headers(
    client: httpx.AsyncClient, upstreams: Upstreams
) -> None:
    """A dashboard GET arrives at the read model unchanged, with correlation id and token."""
    upstreams.handlers["read-model.test"] = lambda r: httpx.Response(
        200, json={"items": [], "nextCursor": None}, headers={"x-total": "0"}
    )
    response = await client.get(
        "/api/jobs",
        params={"status": "FAILED", "limit": "25"},
        headers={
            "X-Correlation-Id": "c0ffee00-0000-4000-8000-000000000001",
            "Authorization": "Bearer t",
        },
    )
    assert response.status_code == 200
    assert response.json() == {"items": [], "nextCursor": None}
    assert response.headers["x-total"] == "0"
    sent = upstreams.seen[-1]
    assert str(sent.url) == "http://read-model.test:8080/jobs?status=FAILED&limit=25"
    assert sent.headers["x-correlation-id"] == CORRELATION_ID
    assert sent.headers["authorization"] == "Bearer t"
    assert sent.headers["host"] == "read-model.test:8080"
    assert sent.headers["x-forwarded-for"] == "203.0.113.7"
    assert sent.headers["x-forwarded-host"] == "dashboard.test"


async def test_gateway_post_forwards_body_and_relays_accepted(
    client: httpx.AsyncClient, upstreams: Upstreams
) -> None:
    """POST /gateway/jobs submits the job and the page gets the gateway's 202 body."""
    upstreams.handlers["gateway.test"] = lambda r: httpx.Response(
        202, json={"jobId": "j-1", "eventId": "e-1", "echo": json.loads(r.content)}
    )
    response = await client.post("/gateway/jobs", json={"type": "PROCESS"})
    assert response.status_code == 202
    assert response.json() == {"jobId": "j-1", "eventId": "e-1", "echo": {"type": "PROCESS"}}
    sent = upstreams.seen[-1]
    assert sent.method == "POST"
    assert sent.url.path == "/jobs"
    assert sent.headers["content-type"] == "application/json"


async def test_upstream_error_responses_pass_through_unchanged(
    client: httpx.AsyncClient, upstreams: Upstreams
) -> None:
    """The server's own error message (e.g. a 409 on retry) reaches the page as sent."""
    body = {"error": "Job is not FAILED", "details": [{"path": "status", "message": "COMPLETED"}]}
    upstreams.handlers["gateway.test"] = lambda r: httpx.Response(409, json=body)
    response = await client.post(f"/gateway/jobs/{uuid.uuid4()}/retry")
    assert response.status_code == 409
    assert response.json() == body


async def test_unreachable_upstreams_answer_502_json(client: httpx.AsyncClient) -> None:
    """With nothing listening, the page gets a 502 naming the missing service."""
    api = await client.get("/api/stats")
    gateway = await client.post("/gateway/jobs", json={"type": "X"})
    assert (api.status_code, api.json()) == (502, {"error": "Read model unavailable"})
    assert (gateway.status_code, gateway.json()) == (502, {"error": "Gateway unavailable"})


async def test_upstream_timeout_answers_504_json(
    client: httpx.AsyncClient, upstreams: Upstreams
) -> None:
    """A hanging upstream becomes a 504 instead of a hanging page."""

    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    upstreams.handlers["read-model.test"] = hang
    response = await client.get("/api/jobs/recent")
    assert response.status_code == 504
    assert response.json() == {"error": "Read model timed out"}


async def test_missing_correlation_id_is_created_and_returned(
    client: httpx.AsyncClient, upstreams: Upstreams
) -> None:
    """Every proxied request carries a correlation id, and the page can read it back."""
    upstreams.handlers["gateway.test"] = lambda r: httpx.Response(202, json={})
    response = await client.post("/gateway/jobs", json={"type": "X"})
    sent_id = upstreams.seen[-1].headers["x-correlation-id"]
    assert uuid.UUID(sent_id)
    assert response.headers["x-correlation-id"] == sent_id


async def test_oversized_body_is_refused_without_reaching_the_gateway(
    client: httpx.AsyncClient, upstreams: Upstreams
) -> None:
    """A body over the limit gets 413 here; the gateway never sees it."""
    upstreams.handlers["gateway.test"] = lambda r: httpx.Response(202, json={})
    response = await client.post("/gateway/jobs", content=b"x" * 2048)
    assert response.status_code == 413
    assert "exceeds 1024 bytes" in response.json()["error"]
    assert upstreams.seen == []


async def test_path_segments_are_forwarded_encoded(
    client: httpx.AsyncClient, upstreams: Upstreams
) -> None:
    """Odd characters in an id stay inside their path segment upstream."""
    upstreams.handlers["read-model.test"] = lambda r: httpx.Response(404, json={"error": "nope"})
    response = await client.get("/api/jobs/a%20b%3Fc")
    assert response.status_code == 404
    assert upstreams.seen[-1].url.raw_path == b"/jobs/a%20b%3Fc"
