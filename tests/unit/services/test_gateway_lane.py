"""POST /jobs answers the same through the gateway's plain-ASGI lane (no Origin header)
as through the full FastAPI stack (a browser's request, which carries an Origin)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from pydantic import SecretStr

from observatory.core.bus.port import BatchHandler, Outgoing
from observatory.core.errors import DependencyDown
from observatory.core.settings import HttpSettings
from observatory.core.stores.sqlite_events import SqliteEventStore
from observatory.core.stores.sqlite_jobs import SqliteJobStore
from observatory.services.gateway.app import create_app
from observatory.services.gateway.lane import SubmitLane
from observatory.services.gateway.settings import GatewaySettings

ORIGIN = "http://localhost:8081"
PATHS = {"lane": {}, "framework": {"Origin": ORIGIN}}


class RecordingBus:
    """A bus that keeps what is published, or is down when the test says so."""

    def __init__(self) -> None:
        self.published: list[Outgoing] = []
        self.down = False

    async def open(self) -> None:
        pass

    async def publish_many(self, messages: Sequence[Outgoing]) -> None:
        if self.down:
            raise DependencyDown("bus", "test says so")
        self.published.extend(messages)

    async def schedule(
        self, queue: str, body: bytes, headers: Mapping[str, Any], delay: float
    ) -> None:
        raise AssertionError("the gateway never schedules")

    async def consume(
        self, queues: str | Sequence[str], handler: BatchHandler, *, prefetch: int, batch_size: int
    ) -> None:
        raise AssertionError("the gateway never consumes")

    async def queue_depth(self, queue: str) -> int:
        raise AssertionError("the gateway never asks for a queue depth")

    async def ping(self) -> bool:
        return not self.down

    async def close(self) -> None:
        pass


def gateway(bus: RecordingBus, token: str | None = None) -> SubmitLane:
    http = HttpSettings(cors_origins=ORIGIN, api_token=SecretStr(token) if token else None)
    # POST /jobs never reads the job store; an unopened one only answers /metrics' ping.
    jobs = SqliteJobStore(Path("never-opened.sqlite3"))
    events = SqliteEventStore(Path("never-opened-events.sqlite3"))
    return create_app(GatewaySettings(), http, bus=bus, jobs=jobs, events=events, owned=False)


@pytest.fixture
def bus() -> RecordingBus:
    return RecordingBus()


@pytest.fixture
async def client(bus: RecordingBus) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=gateway(bus))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        yield client


async def post_both(
    client: httpx.AsyncClient, content: bytes, headers: dict[str, str] | None = None
) -> dict[str, httpx.Response]:
    return {
        path: await client.post("/jobs", content=content, headers={**(headers or {}), **extra})
        for path, extra in PATHS.items()
    }


JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("content", "headers", "status"),
    [
        (b"{not json", JSON, 400),
        (b"[1, 2]", JSON, 400),
        (b"{}", JSON, 400),
        (b'{"type": "a.b"}', JSON, 400),
        (b'{"type": "A", "status": "COMPLETED"}', JSON, 400),
        (b'{"type": "A", "id": "123"}', JSON, 400),
        (b'{"type": "A"}', {"Content-Type": "text/plain"}, 415),
        (b'{"type": "A"}', {**JSON, "X-Correlation-Id": "not-a-uuid"}, 400),
        (b'{"type": "A", "pad": "' + b"x" * 70_000 + b'"}', JSON, 413),
    ],
)
async def test_client_mistakes_get_the_same_json_error_on_both_paths(
    client: httpx.AsyncClient,
    bus: RecordingBus,
    content: bytes,
    headers: dict[str, str],
    status: int,
) -> None:
    answers = await post_both(client, content, headers)
    lane, framework = answers["lane"], answers["framework"]
    assert lane.status_code == framework.status_code == status
    assert lane.headers["content-type"] == "application/json"
    assert lane.json() == framework.json()
    assert set(lane.json()) <= {"error", "details"}
    assert uuid.UUID(lane.headers["x-correlation-id"])
    assert bus.published == []


async def test_an_accepted_job_is_published_once_per_request_and_echoes_the_correlation_id(
    client: httpx.AsyncClient, bus: RecordingBus
) -> None:
    correlation = str(uuid.uuid4())
    headers = {**JSON, "X-Correlation-Id": correlation}
    answers = await post_both(client, b'{"type": "DEMO", "payload": {"n": 1}}', headers)

    for answer in answers.values():
        assert answer.status_code == 202
        assert set(answer.json()) == {"jobId", "eventId"}
        assert answer.headers["x-correlation-id"] == correlation
    assert answers["framework"].headers["access-control-allow-origin"] == ORIGIN
    envelopes = [orjson.loads(m.body) for m in bus.published]
    assert [m.routing_key for m in bus.published] == ["job.created", "job.created"]
    assert [e["payload"]["id"] for e in envelopes] == [a.json()["jobId"] for a in answers.values()]
    assert {e["correlationId"] for e in envelopes} == {correlation}
    assert all(e["payload"]["type"] == "DEMO" for e in envelopes)


async def test_broker_down_is_503_with_retry_after_on_both_paths(
    client: httpx.AsyncClient, bus: RecordingBus
) -> None:
    bus.down = True
    answers = await post_both(client, b'{"type": "A"}', JSON)
    for answer in answers.values():
        assert answer.status_code == 503
        assert answer.headers["retry-after"] == "5"
        assert answer.json() == {"error": "bus unavailable"}


async def test_the_token_guards_the_lane_too(bus: RecordingBus) -> None:
    transport = httpx.ASGITransport(app=gateway(bus, token="s3cret"))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        denied = await post_both(client, b'{"type": "A"}', JSON)
        allowed = await post_both(
            client, b'{"type": "A"}', {**JSON, "Authorization": "Bearer s3cret"}
        )
    for answer in denied.values():
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == "Bearer"
    assert [a.status_code for a in allowed.values()] == [202, 202]
    assert len(bus.published) == 2


async def test_lane_requests_are_counted_in_the_gateway_metrics(
    client: httpx.AsyncClient, bus: RecordingBus
) -> None:
    await client.post("/jobs", content=b'{"type": "COUNTED"}', headers=JSON)
    await client.post("/jobs", content=b"{}", headers=JSON)
    text = (await client.get("/metrics")).text

    def value(sample: str) -> float:
        line = next(line for line in text.splitlines() if line.startswith(sample + " "))
        return float(line.split()[-1])

    assert value('gateway_jobs_submitted_total{type="COUNTED"}') == 1
    assert value('gateway_jobs_submitted_total{type="invalid"}') == 1
    assert value("gateway_jobs_accepted_total") == 1
    route = 'method="POST",route="/jobs"'
    assert value(f'gateway_http_request_duration_seconds_count{{{route},status="202"}}') == 1
    assert value(f'gateway_http_request_duration_seconds_count{{{route},status="400"}}') == 1


async def test_everything_else_still_goes_through_the_framework(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/healthz")).json()["status"] == "ok"
    assert (await client.get("/jobs")).status_code == 405
    missing = await client.post("/nope", content=b"{}", headers=JSON)
    assert missing.status_code == 404
    assert missing.json() == {"error": "Not found"}
    assert "/jobs" in (await client.get("/openapi.json")).json()["paths"]
