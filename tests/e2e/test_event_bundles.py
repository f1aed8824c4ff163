"""The whole system with event bundles on (ODTO_EVENT_BUNDLES=true, docs/bundles.md) on
RabbitMQ/PostgreSQL/Redis: jobs submitted together have their lifecycle events travel in
bundles (seen by a tap on the exchange), and each job is still counted once with its
whole lifecycle; in a forged bundle, each bad event is dead-lettered alone while the
good one counts, and a malformed bundle is one dead letter."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import orjson
import pytest
from tests.e2e.conftest import drop_namespace, real_env
from tests.e2e.test_bad_input import bus_for
from tests.e2e.test_event_admission import envelope
from tests.e2e.test_pipeline import LIFECYCLE
from tests.system import RunningSystem, start_system, wait_until

from observatory.core.bus.bundles import PARTS_HEADER
from observatory.core.bus.topology import EXCHANGE

JOBS = 60


@pytest.fixture
def bundling(tmp_path: Path, namespace: str) -> Iterator[RunningSystem]:
    env = {**real_env(namespace), "ODTO_EVENT_BUNDLES": "true"}
    running = start_system(tmp_path, env)
    try:
        yield running
    finally:
        running.stop()
        asyncio.run(drop_namespace(namespace))


async def submit_together(system: RunningSystem, count: int) -> list[str]:
    async with httpx.AsyncClient(timeout=10) as client:
        url = f"http://127.0.0.1:{system.ports['gateway']}/jobs"
        answers = await asyncio.gather(
            *(client.post(url, json={"type": "BUNDLED"}) for _ in range(count))
        )
    assert {a.status_code for a in answers} == {202}
    return [a.json()["jobId"] for a in answers]


async def tapped(system: RunningSystem, count: int) -> tuple[list[str], list[int]]:
    """Submit `count` jobs at once with a queue of our own bound to job.completed; return
    their ids and how many events each completion message held."""
    namespace = system.env["ODTO_NAMESPACE"]
    connection = await aio_pika.connect(system.env["RABBITMQ_URL"])
    async with connection:
        channel = await connection.channel()
        tap = await channel.declare_queue(f"{namespace}.tap", exclusive=True)
        await tap.bind(f"{namespace}.{EXCHANGE}", "job.completed")
        ids = await submit_together(system, count)
        sizes: list[int] = []
        async with asyncio.timeout(30):
            async with tap.iterator() as messages:
                async for message in messages:
                    await message.ack()
                    sizes.append(int(str(message.headers.get(PARTS_HEADER, "1"))))
                    if sum(sizes) >= count:
                        break
    return ids, sizes


def stats(client: httpx.Client, system: RunningSystem) -> dict[str, Any]:
    return dict(client.get(f"{system.read_model_url}/stats").json())


def test_jobs_submitted_together_travel_in_bundles_and_count_once_each(
    bundling: RunningSystem,
) -> None:
    system = bundling
    ids, sizes = asyncio.run(tapped(system, JOBS))
    assert sum(sizes) == JOBS
    assert max(sizes) > 1, sizes  # some completions shared a message
    with httpx.Client(timeout=5) as client:
        wait_until(
            lambda: stats(client, system)["completedJobs"] == JOBS,
            timeout=30,
            message="every job counted",
        )
        counted = stats(client, system)
        assert counted["totalJobs"] == JOBS
        assert counted["inFlightJobs"] == 0
        assert counted["deadLetters"] == 0
        for job_id in ids:
            events = client.get(f"{system.read_model_url}/events", params={"jobId": job_id}).json()
            assert [e["eventType"] for e in events] == list(reversed(LIFECYCLE)), job_id


async def put_bundle(system: RunningSystem, queue: str, parts: list[bytes], count: str) -> None:
    bus = bus_for(system)
    await bus.open()
    try:
        await bus.schedule(queue, b"\n".join(parts), {PARTS_HEADER: count}, 0)
    finally:
        await bus.close()


def test_each_bad_event_of_a_bundle_is_dead_lettered_alone(bundling: RunningSystem) -> None:
    system = bundling
    job = str(uuid.uuid4())
    stray = str(uuid.uuid4())
    created = envelope("job.created", job, "PENDING")
    good = envelope("job.completed", job, "COMPLETED")
    misplaced = envelope("job.created", stray, "PENDING")
    asyncio.run(put_bundle(system, "jobs.created.metrics", [orjson.dumps(created)], "1"))
    with httpx.Client(timeout=5) as client:
        wait_until(lambda: stats(client, system)["totalJobs"] == 1, message="the job created")
        parts = [b"not json", orjson.dumps(good), orjson.dumps(misplaced)]
        asyncio.run(put_bundle(system, "jobs.completed", parts, "3"))
        asyncio.run(put_bundle(system, "jobs.completed", [b"{}", b"{}"], "7"))  # malformed

        def letters() -> list[dict[str, Any]]:
            found = client.get(f"{system.read_model_url}/dead-letters", params={"limit": 50})
            return list(found.json())

        wait_until(lambda: len(letters()) == 3, timeout=30, message="three dead letters")
        reasons = sorted(d["validation_error"] for d in letters())
        assert any("does not belong on queue jobs.completed" in r for r in reasons), reasons
        originals = [d.get("original_event") for d in letters()]
        assert "not json" in originals  # the bad part alone, kept as it came
        assert "{}\n{}" in originals  # the malformed bundle, whole
        wait_until(
            lambda: stats(client, system)["completedJobs"] == 1, message="the good event counted"
        )
        events = client.get(f"{system.read_model_url}/events", params={"jobId": job}).json()
        assert sorted(e["eventType"] for e in events) == ["job.completed", "job.created"]
