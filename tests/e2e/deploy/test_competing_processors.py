"""Scaling the processor out: two processors on one queue finish every job exactly once.

This is what `replicas: 2` in the kind overlay (and `--scale processor=N` in compose) rely
on. The whole system runs on the local RabbitMQ/PostgreSQL/Redis (`odto up`, with its own
processor) and a second processor runs beside it as `odto serve processor`, the command
the container image runs.
"""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
from tests.system import free_port, start_system, wait_until

JOBS = 40


def completed_count(metrics: str) -> float:
    return sum(
        float(value)
        for value in re.findall(
            r"^processor_jobs_completed_total(?:\{[^}]*\})? (\S+)$", metrics, re.M
        )
    )


def ready(client: httpx.Client, url: str) -> bool:
    try:
        return client.get(url).status_code == 200
    except httpx.TransportError:
        return False


def test_two_processors_on_one_queue_complete_every_job_exactly_once(
    tmp_path: Path, real_backends: dict[str, str]
) -> None:
    system = start_system(tmp_path, real_backends)
    port = free_port()
    env = {**system.env, "PROCESSOR_PORT": str(port)}
    with (tmp_path / "processor-2.log").open("w") as log:
        second = subprocess.Popen(
            [sys.executable, "-m", "observatory.interfaces.cli.main", "serve", "processor"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        with httpx.Client(timeout=10) as client:

            def second_ready() -> bool:
                assert second.poll() is None, (tmp_path / "processor-2.log").read_text()
                return ready(client, f"http://127.0.0.1:{port}/readyz")

            wait_until(second_ready, 60, 0.2, "the second processor to be ready")
            run = uuid.uuid4().hex[:8]
            ids = []
            for index in range(JOBS):
                response = client.post(
                    f"{system.gateway_url}/jobs",
                    json={
                        "type": f"scale-{run}",
                        "payload": {"n": index, "simulate": {"durationMs": 50}},
                    },
                )
                assert response.status_code == 202, response.text
                ids.append(response.json()["jobId"])

            pending = set(ids)

            def all_completed() -> bool:
                """The row says COMPLETED (the processor's write) and the timeline holds
                job.completed (the metrics engine's, which may come a moment later)."""
                for job_id in list(pending):
                    job = client.get(f"{system.read_model_url}/jobs/{job_id}")
                    if job.status_code == 200 and job.json()["status"] == "COMPLETED":
                        types = {e["eventType"] for e in job.json()["events"]}
                        if "job.completed" in types:
                            pending.discard(job_id)
                return not pending

            wait_until(all_completed, 90, 0.2, "every job to complete")

            for job_id in ids:
                job = client.get(f"{system.read_model_url}/jobs/{job_id}").json()
                assert job["attempts"] == 1, job
                completions = [e for e in job["events"] if e["eventType"] == "job.completed"]
                assert len(completions) == 1, job_id

            first = completed_count(client.get(f"{system.processor_url}/metrics").text)
            other = completed_count(client.get(f"http://127.0.0.1:{port}/metrics").text)
        assert first + other == JOBS
        assert first > 0
        assert other > 0, "the second processor took no work: not competing consumers"
    finally:
        second.terminate()
        second.wait(20)
        system.stop()
