"""The HTTP client: what each failure is called, against the real gateway where it can be."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from observatory.interfaces.tui.client import ErrorKind, ObservatoryClient, RequestError, SseParser
from observatory.interfaces.tui.models import JobDetail
from observatory.interfaces.tui.validation import Simulation
from tests.system import RunningSystem
from tests.tui.conftest import nowhere, quick_wait
from tests.tui.fake_backend import FakeBackend
from tests.waiting import wait_until_async

POLL_SECONDS = 0.05  # pause between checks while waiting on a condition


@contextlib.asynccontextmanager
async def opened(
    gateway_url: str, read_model_url: str, **options: Any
) -> AsyncIterator[ObservatoryClient]:
    """An ObservatoryClient of these URLs, closed when the block ends, however it ends."""
    client = ObservatoryClient(gateway_url, read_model_url, **options)
    try:
        yield client
    finally:
        await client.aclose()


async def test_the_real_gateway_accepts_a_job_with_a_simulation(live: RunningSystem) -> None:
    async with opened(live.gateway_url, live.read_model_url) as client:
        job_id = await client.submit("CLIENT_OK", Simulation(duration_ms=0))

        async def known() -> JobDetail | None:
            """The job, or None while the read model has not heard of it yet."""
            try:
                return await client.job(job_id)
            except RequestError as exc:
                if exc.kind is not ErrorKind.NOT_FOUND:
                    raise
                return None

        # the read model learns of the job a moment after the gateway accepts it
        detail = await wait_until_async(
            known, 20, POLL_SECONDS, message="the job in the read model"
        )
    assert detail.summary.type == "CLIENT_OK"
    assert detail.payload == {"simulate": {"durationMs": 0}}


async def test_the_real_gateways_400_becomes_a_validation_error_with_its_details(
    live: RunningSystem,
) -> None:
    async with opened(live.gateway_url, live.read_model_url) as client:
        with pytest.raises(RequestError) as caught:
            await client.submit("not valid!")  # bypasses the TUI's own check
    assert caught.value.kind is ErrorKind.VALIDATION
    assert caught.value.status == 400
    assert str(caught.value).startswith("Validation failed: $.type: 'not valid!' does not match")


async def test_retrying_a_job_that_is_not_failed_is_refused_and_unknown_jobs_are_not_found(
    live: RunningSystem,
) -> None:
    async with opened(live.gateway_url, live.read_model_url) as client:
        with pytest.raises(RequestError) as unknown:
            await client.retry("00000000-0000-4000-8000-000000000000")
        with pytest.raises(RequestError) as missing_detail:
            await client.job("00000000-0000-4000-8000-000000000000")
    assert unknown.value.kind is ErrorKind.NOT_FOUND
    assert missing_detail.value.kind is ErrorKind.NOT_FOUND


async def test_nothing_listening_is_connection_refused() -> None:
    url = nowhere()
    async with opened(url, url) as client:
        with pytest.raises(RequestError) as caught:
            await client.stats()
    assert caught.value.kind is ErrorKind.CONNECTION_REFUSED
    assert str(caught.value) == f"Cannot connect to the read model at {url[7:]} - is it running?"


async def test_a_hung_service_times_out(hanging_url: str) -> None:
    async with opened(
        hanging_url, hanging_url, read_timeout=0.3, write_timeout=0.3, sleep=quick_wait
    ) as client:
        with pytest.raises(RequestError) as read:
            await client.stats()
        with pytest.raises(RequestError) as write:
            await client.submit("SLOW")
    assert read.value.kind is ErrorKind.TIMEOUT
    assert write.value.kind is ErrorKind.TIMEOUT
    assert str(write.value).startswith("Gateway timeout (0.3s)")
    assert f"Job {write.value.job_id} was not confirmed after 4 tries" in str(write.value)


def transport(
    status: int, body: object, headers: dict[str, str] | None = None
) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(status, json=body, headers=headers))


@pytest.mark.parametrize(
    ("status", "body", "kind", "text"),
    [
        (401, {"error": "Unauthorized"}, ErrorKind.UNAUTHORIZED, "set ODTO_TOKEN"),
        (
            403,
            {"error": "This needs the operator role", "requiredRole": "operator"},
            ErrorKind.UNAUTHORIZED,
            "ask for a token with the operator role",
        ),
        (409, {"error": "Job is not FAILED"}, ErrorKind.CONFLICT, "Refused: Job is not FAILED"),
        (
            413,
            {"error": "Body too large"},
            ErrorKind.VALIDATION,
            "Validation failed: Body too large",
        ),
        (500, {"error": "Internal error"}, ErrorKind.SERVER_ERROR, "Gateway returned 500"),
        (503, {"error": "Broker down"}, ErrorKind.UNAVAILABLE, "retry after 5s"),
        (202, {"unexpected": True}, ErrorKind.BAD_RESPONSE, "sent no jobId"),
    ],
)
async def test_gateway_answers_map_to_kinds(
    status: int, body: object, kind: ErrorKind, text: str
) -> None:
    async with opened(
        "http://gw",
        "http://rm",
        transport=transport(status, body, {"Retry-After": "5"}),
        sleep=quick_wait,
    ) as client:
        with pytest.raises(RequestError) as caught:
            await client.submit("A")
    assert caught.value.kind is kind
    assert text in str(caught.value)


async def test_a_wrongly_shaped_answer_is_a_bad_response() -> None:
    async with opened(
        "http://gw", "http://rm", transport=transport(200, {"not": "a list"})
    ) as client:
        with pytest.raises(RequestError) as caught:
            await client.jobs(limit=5)
    assert caught.value.kind is ErrorKind.BAD_RESPONSE


async def test_the_api_token_is_sent_as_a_bearer_token() -> None:
    backend = FakeBackend()
    async with opened(
        "http://gw", "http://rm", token="s3cret", transport=backend.transport
    ) as client:
        await client.submit("A")
    assert backend.requests[-1].headers["Authorization"] == "Bearer s3cret"
    assert backend.submitted == [{"id": backend.submitted[0]["id"], "type": "A"}]


def unknown_outcome(job_id: str = "") -> httpx.Response:
    """The gateway's 503 when the broker's confirm timed out: the job may have been published."""
    body = {"error": "bus unavailable", "jobId": job_id, "outcome": "unknown"}
    return httpx.Response(503, json=body, headers={"Retry-After": "5"})


class Waits(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.mark.parametrize(
    "first",
    [
        unknown_outcome(),
        httpx.Response(502, json={"error": "Gateway unavailable"}),
        httpx.ReadTimeout("timed out"),
        httpx.ConnectError("[Errno 111] Connection refused"),
    ],
    ids=["503 unknown", "502 from the proxy", "timeout", "refused"],
)
async def test_a_submission_whose_fate_is_open_is_sent_again_with_the_same_id(
    first: httpx.Response | Exception,
) -> None:
    backend = FakeBackend(gateway_script=[first])
    waits = Waits()
    heard: list[int] = []
    async with opened("http://gw", "http://rm", transport=backend.transport, sleep=waits) as client:
        job_id = await client.submit(
            "A", Simulation(duration_ms=5), on_retry=lambda r: heard.append(r.attempt)
        )
    assert len(backend.submitted) == 2
    assert backend.submitted[0] == backend.submitted[1]
    sent = backend.submitted[0]["id"]
    assert str(uuid.UUID(sent, version=4)) == sent
    assert job_id  # one job, reported once
    assert heard == [2]
    assert len(waits) == 1


@pytest.mark.parametrize("status", [400, 401, 413, 415])
async def test_a_refused_submission_is_not_retried(status: int) -> None:
    backend = FakeBackend(gateway_script=[httpx.Response(status, json={"error": "no"})])
    waits = Waits()
    async with opened("http://gw", "http://rm", transport=backend.transport, sleep=waits) as client:
        with pytest.raises(RequestError) as caught:
            await client.submit("A")
    assert (len(backend.submitted), waits, caught.value.job_id) == (1, [], None)


async def test_an_always_unsure_gateway_ends_after_four_tries_naming_the_job() -> None:
    backend = FakeBackend(gateway_script=[unknown_outcome() for _ in range(10)])
    waits = Waits()
    async with opened("http://gw", "http://rm", transport=backend.transport, sleep=waits) as client:
        with pytest.raises(RequestError) as caught:
            await client.submit("A")
    job_id = backend.submitted[0]["id"]
    assert [b["id"] for b in backend.submitted] == [job_id] * 4
    assert waits == [5.0, 5.0, 5.0]
    error = caught.value
    assert (error.kind, error.status, error.job_id) == (ErrorKind.UNAVAILABLE, 503, job_id)
    assert str(error) == (
        "Gateway unavailable: bus unavailable; retry after 5s\n"
        f"Job {job_id} was not confirmed after 4 tries: its outcome is unknown and it may "
        "still run. Resubmitting it with the same id is safe (it runs once)."
    )


async def test_a_given_job_id_is_the_one_sent() -> None:
    backend = FakeBackend()
    client = ObservatoryClient("http://gw", "http://rm", transport=backend.transport)
    wanted = str(uuid.uuid4())
    try:
        await client.submit("A", job_id=wanted)
    finally:
        await client.aclose()
    assert backend.submitted == [{"id": wanted, "type": "A"}]


async def test_filters_use_the_jobs_query_and_no_filter_uses_recent() -> None:
    backend = FakeBackend()
    async with opened("http://gw", "http://rm", transport=backend.transport) as client:
        failed = await client.jobs(limit=7, status="FAILED", job_type="EMAIL_DIGEST")
        recent = await client.jobs(limit=7)
    first, second = backend.requests[-2:]
    assert (first.url.path, dict(first.url.params)) == (
        "/jobs",
        {"status": "FAILED", "type": "EMAIL_DIGEST", "limit": "7"},
    )
    assert (second.url.path, dict(second.url.params)) == ("/jobs/recent", {"limit": "7"})
    assert {job.status for job in failed} == {"FAILED"}
    assert len(recent) == 12


def test_server_sent_events_are_parsed_into_event_and_json() -> None:
    parser = SseParser()
    lines = [
        ": keep-alive",
        "",
        "event: stats",
        'data: {"totalJobs": 3}',
        "",
        "event: job-event",
        'data: {"eventType":',
        'data: "job.created"}',
        "",
        "data: not json",
        "",
    ]
    events = [e for e in (parser.feed(line) for line in lines) if e is not None]
    assert events == [("stats", {"totalJobs": 3}), ("job-event", {"eventType": "job.created"})]


async def test_the_real_stream_starts_with_a_stats_event(live: RunningSystem) -> None:
    async with opened(live.gateway_url, live.read_model_url) as client:
        async for event, data in client.stream():
            assert event == "stats"
            assert "totalJobs" in data
            break
