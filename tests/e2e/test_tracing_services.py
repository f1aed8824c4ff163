"""Tracing across the services as separate processes (`odto serve`, real backends), each
appending to one trace file (ODTO_TRACE_FILE): the spans of one job form one trace in
the right parent/link structure, and the other signals name the same trace (SPEC §14).
"""

from __future__ import annotations

import json
import re
import signal
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.test_tracing import spans_of
from tests.system import ServiceProcess, free_port, job_status, start_service, wait_until

pytestmark = pytest.mark.e2e

SERVICES = ("gateway", "processor", "metrics-engine", "read-model")


def attribute(span: dict[str, Any], key: str) -> Any:
    for item in span["attributes"]:
        if item["key"] == key:
            value = item["value"]
            return value.get("stringValue", value.get("intValue"))
    return None


@pytest.fixture
def traced(tmp_path: Path, real_backends: dict[str, str]) -> Iterator[dict[str, ServiceProcess]]:
    env = {
        **real_backends,
        "ODTO_TRACE_FILE": str(tmp_path / "traces.jsonl"),
        "OTEL_BSP_SCHEDULE_DELAY": "100",  # export within a moment, not every 5 s
        "ODTO_LOG_LEVEL": "debug",
        "PROCESSOR_BACKOFF_SECONDS": "0.2",
    }
    running: dict[str, ServiceProcess] = {}
    try:
        for name in SERVICES:
            running[name] = start_service(name, env, free_port(), tmp_path, 60)
        yield running
    finally:
        for service in running.values():
            service.kill(signal.SIGTERM)


def submit(client: httpx.Client, running: dict[str, ServiceProcess], job: dict[str, Any]) -> str:
    posted = client.post(f"{running['gateway'].url}/jobs", json=job)
    assert posted.status_code == 202, posted.text
    job_id: str = posted.json()["jobId"]
    return job_id


def trace_of_job(
    path: Path,
    job_id: str,
    wanted: int,
    complete: Callable[[list[dict[str, Any]]], bool] = lambda spans: True,
) -> list[dict[str, Any]]:
    """The spans of the trace whose gateway request published `job_id`'s job.created,
    once at least `wanted` of them are in the file and they are `complete` (each process
    exports on its own schedule: a count alone may be reached before a span that matters)."""

    def found() -> list[dict[str, Any]] | None:
        if not path.exists():
            return None
        spans = spans_of(path)
        ids = {s["traceId"] for s in spans if attribute(s, "observatory.job.id") == job_id}
        if len(ids) != 1:
            return None
        trace = [s for s in spans if s["traceId"] in ids]
        return trace if len(trace) >= wanted and complete(trace) else None

    result: list[dict[str, Any]] = wait_until(found, 30, 0.2, "the job's spans in the file")
    return result


def completion_taken(spans: list[dict[str, Any]]) -> bool:
    """The metrics engine's span for the batch that took job.completed is in the file: a
    batch linked to the processor's attempt (each process exports on its own schedule)."""
    attempts = {s["spanId"] for s in spans if s["name"].endswith(" message")}
    return any(
        link["spanId"] in attempts
        for s in spans
        if s["service"] == "observatory-metrics-engine"
        for link in s.get("links", [])
    )


def test_one_job_is_one_trace_across_the_service_processes(
    tmp_path: Path, traced: dict[str, ServiceProcess]
) -> None:
    with httpx.Client(timeout=5) as client:
        job_id = submit(client, traced, {"type": "T", "payload": {"simulate": {"durationMs": 20}}})
        read_model = traced["read-model"].url
        wait_until(lambda: job_status(client, read_model, job_id) == "COMPLETED", 30)
        spans = trace_of_job(tmp_path / "traces.jsonl", job_id, 12, completion_taken)
        by_id = {s["spanId"]: s for s in spans}
        services = {s["service"] for s in spans}
        assert {"observatory-gateway", "observatory-processor"} <= services
        assert "observatory-metrics-engine" in services, sorted(services)

        (root,) = [s for s in spans if "parentSpanId" not in s]
        assert (root["name"], root["service"]) == ("POST /jobs", "observatory-gateway")
        assert attribute(root, "http.response.status_code") == "202"

        def parent(span: dict[str, Any]) -> dict[str, Any]:
            return by_id[span["parentSpanId"]]

        validate = next(s for s in spans if s["name"] == "validate job")
        assert parent(validate) is root
        publish = next(
            s for s in spans if s["service"] == "observatory-gateway" and s["kind"] == 4
        )  # PRODUCER
        assert parent(publish) is root
        processor = [s for s in spans if s["service"] == "observatory-processor"]
        batch = next(s for s in processor if s["kind"] == 5 and "links" in s)  # CONSUMER
        assert parent(batch) is publish
        assert batch["links"][0]["spanId"] == publish["spanId"]
        # the job's own span, its attempt: child of its producer, linked to its batch
        attempt = next(s for s in processor if s["name"].endswith(" message"))
        assert parent(attempt) is publish
        assert attempt["links"][0]["spanId"] == batch["spanId"]
        assert attribute(attempt, "observatory.job.attempt") == "1"
        assert attribute(attempt, "observatory.job.id") == job_id
        assert attribute(attempt, "messaging.message.conversation_id")
        work = next(s for s in processor if s["name"] == "simulated work")
        assert parent(work) is attempt
        writes = {s["name"] for s in processor if parent(s) in (attempt, batch)}
        assert {"job_store.begin", "job_store.finish"} <= writes, writes
        engine = [s for s in spans if s["service"] == "observatory-metrics-engine"]
        consumed = [s for s in engine if s["kind"] == 5]
        # each batch linked to what made each of its messages: a publish, or the attempt
        # whose end it announces (published in one round with other jobs' ends, in its
        # own trace); one job's events taken together are still this trace, the batch a
        # child of one of its messages' producers
        linked = [by_id[link["spanId"]] for s in consumed for link in s.get("links", [])]
        assert all(s["kind"] == 4 or s is attempt for s in linked)
        assert all(parent(s) in linked for s in consumed)
        producers = {s["service"] for s in linked}
        assert producers == {"observatory-gateway", "observatory-processor"}, producers
        assert attempt in linked  # job.completed
        assert {s["name"].split(".")[0] for s in engine} >= {"event_store", "counters"}
        assert all(s["status"]["code"] != 2 for s in spans), "a span ended in error"

        # the same trace in /jobs/{id}, in its events, in the processor's log lines
        detail = client.get(f"{read_model}/jobs/{job_id}").json()
        assert detail["traceId"] == root["traceId"]
        assert {e.get("traceId") for e in detail["events"]} == {root["traceId"]}
        lines = [
            json.loads(line)
            for line in traced["processor"].log_path.read_text().splitlines()
            if line.startswith("{")
        ]
        finished = [x for x in lines if x.get("event") == "job finished"]
        assert finished, "no `job finished` line"
        assert finished[0]["trace_id"] == root["traceId"]
        assert finished[0]["span_id"] in by_id

        # and as the exemplar of the histograms, in an OpenMetrics scrape
        scrape = client.get(
            f"{traced['processor'].url}/metrics",
            headers={"Accept": "application/openmetrics-text; version=1.0.0"},
        )
        assert scrape.headers["content-type"].startswith("application/openmetrics-text")
        exemplars = re.findall(
            r'_bucket\{[^}]*\} \S+ # \{[^}]*trace_id="([0-9a-f]{32})"', scrape.text
        )
        assert root["traceId"] in exemplars
        plain = client.get(f"{traced['processor'].url}/metrics")
        assert "trace_id" not in plain.text  # the Prometheus text format has no exemplars


def test_a_failing_jobs_trace_shows_each_attempt(
    tmp_path: Path, traced: dict[str, ServiceProcess]
) -> None:
    with httpx.Client(timeout=5) as client:
        job_id = submit(
            client, traced, {"type": "T", "payload": {"simulate": {"failProbability": 1}}}
        )
        read_model = traced["read-model"].url
        wait_until(lambda: job_status(client, read_model, job_id) == "FAILED", 30)

        def attempts(spans: list[dict[str, Any]]) -> list[int]:
            return sorted(
                int(attribute(s, "observatory.job.attempt"))
                for s in spans
                if s["name"].endswith(" message")
            )

        def retries(spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [
                s
                for s in spans
                if s["name"].startswith("publish ") and s["name"].endswith(".created")
            ]

        spans = trace_of_job(
            tmp_path / "traces.jsonl",
            job_id,
            20,
            lambda spans: len(attempts(spans)) >= 3 and len(retries(spans)) >= 2,
        )
        assert attempts(spans) == [1, 2, 3]
        assert len(retries(spans)) == 2  # two retries scheduled, each in the job's trace
        assert len({s["traceId"] for s in spans}) == 1
        assert client.get(f"{read_model}/jobs/{job_id}").json()["traceId"] == spans[0]["traceId"]


def test_untraced_routes_open_no_trace(tmp_path: Path, traced: dict[str, ServiceProcess]) -> None:
    """Probes and scrapes stay out of the traces; a read-model query is a trace of its own
    with its store call inside."""
    with httpx.Client(timeout=5) as client:
        for service in traced.values():
            for path in ("/healthz", "/readyz", "/metrics"):
                assert client.get(f"{service.url}{path}").status_code == 200
        marker = str(uuid.uuid4())
        assert client.get(f"{traced['read-model'].url}/jobs/{marker}").status_code == 404

    def spans() -> list[dict[str, Any]] | None:
        path = tmp_path / "traces.jsonl"
        found = spans_of(path) if path.exists() else []
        return found if any(s["name"] == "GET /jobs/{job_id}" for s in found) else None

    found: list[dict[str, Any]] = wait_until(spans, 30, 0.2, "the query's span")
    assert not [s for s in found if attribute(s, "url.path") in ("/healthz", "/readyz", "/metrics")]
    query = next(s for s in found if s["name"] == "GET /jobs/{job_id}")
    assert attribute(query, "http.response.status_code") == "404"
    inside = {s["name"] for s in found if s.get("parentSpanId") == query["spanId"]}
    assert "job_store.get" in inside, inside
