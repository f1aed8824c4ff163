"""Tracing through a whole embedded system (`odto up` as a process, SPEC §14).

Off by default: a job goes through every service and the process never imported the
OpenTelemetry SDK. With ODTO_TRACE_FILE: each job leaves one trace in the file, from the
gateway's request and publish through the processor's attempts to the metrics engine, as OTLP JSON
lines.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.conftest import drop_namespace, real_env
from tests.system import RunningSystem, job_status, start_system, wait_until

pytestmark = pytest.mark.e2e

HOOK = Path(__file__).with_name("tracing_hook")
TRACING_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_TRACES_EXPORTER", "ODTO_TRACE_FILE")


def run_one_job(system: RunningSystem, *, fail: bool = False) -> str:
    job_id = str(uuid.uuid4())
    job: dict[str, Any] = {"id": job_id, "type": "T"}
    if fail:
        job["payload"] = {"simulate": {"failProbability": 1}}
    with httpx.Client(timeout=5) as client:
        posted = client.post(f"{system.gateway_url}/jobs", json=job)
        assert posted.status_code == 202, posted.text
        wait_until(
            lambda: (
                job_status(client, system.read_model_url, job_id)
                == ("FAILED" if fail else "COMPLETED")
            ),
            message="the job to finish",
        )
    return job_id


def untraced_environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of `odto up`, with the module report hook and no tracing variables
    inherited from the machine running the tests."""
    path = os.pathsep.join(p for p in (str(HOOK), os.environ.get("PYTHONPATH")) if p)
    env = {"PYTHONPATH": path, "ODTO_TEST_MODULES_REPORT": str(tmp_path / "modules.json")}
    env.update(dict.fromkeys(TRACING_VARIABLES, ""))  # set empty = not asked for
    env.update(extra)
    return env


def loaded_modules(tmp_path: Path, system: RunningSystem) -> list[str]:
    assert system.stop(signal.SIGTERM) == 0, system.log()[-3000:]
    report = tmp_path / "modules.json"
    assert report.exists(), "the child wrote no module report"
    modules: list[str] = json.loads(report.read_text())
    return modules


def test_with_nothing_configured_no_opentelemetry_sdk_is_loaded(tmp_path: Path) -> None:
    system = start_system(tmp_path, untraced_environment(tmp_path))
    run_one_job(system)
    modules = loaded_modules(tmp_path, system)
    assert not [m for m in modules if m.startswith("opentelemetry.sdk")], modules
    # nor any of our modules that import OpenTelemetry (the API itself may be loaded: the
    # web framework imports it for its own optional telemetry)
    assert "observatory.core.tracing.spans" in modules  # the hooks are there, switched off
    loaded = set(modules)
    for module in ("otel_spans", "bus", "provider", "file_exporter", "ports"):
        assert f"observatory.core.tracing.{module}" not in loaded


def spans_of(path: Path) -> list[dict[str, Any]]:
    """Every span in an OTLP JSON lines file, its service name added as `service`."""
    spans = []
    for line in path.read_text().splitlines():
        for resource in json.loads(line)["resourceSpans"]:
            service = next(
                a["value"]["stringValue"]
                for a in resource["resource"]["attributes"]
                if a["key"] == "service.name"
            )
            for scope in resource["scopeSpans"]:
                spans += [{**span, "service": service} for span in scope["spans"]]
    return spans


def attribute_of(span: dict[str, Any], key: str) -> Any:
    return next(a["value"] for a in span["attributes"] if a["key"] == key)


def linked_from(spans: list[dict[str, Any]], prefix: str) -> set[str]:
    """The span ids the batch spans named `prefix…` link to (each message's producer)."""
    return {
        link["spanId"]
        for s in spans
        if s["kind"] == 5 and s["name"].startswith(prefix) and not s["name"].endswith("message")
        for link in s.get("links", [])
    }


@pytest.mark.parametrize("profile", ["embedded", "real"])
def test_a_trace_file_holds_one_trace_per_job_across_the_bus_hops(
    tmp_path: Path, namespace: str, profile: str
) -> None:
    """One trace per job, one after the other on an idle system, on the embedded bus and
    on RabbitMQ: the completing job's reaches the metrics engine; the failing job's holds
    each of its three attempts."""
    trace_file = tmp_path / "traces.jsonl"
    backends = real_env(namespace) if profile == "real" else {}
    env = untraced_environment(tmp_path, ODTO_TRACE_FILE=str(trace_file), **backends)
    system = start_system(tmp_path, env)
    try:
        run_one_job(system)
        run_one_job(system, fail=True)
        modules = loaded_modules(tmp_path, system)  # stops the system: spans are flushed
    finally:
        system.stop()
        if backends:
            asyncio.run(drop_namespace(namespace))
    assert "opentelemetry.sdk.trace" in modules

    spans = spans_of(trace_file)
    assert {s["service"] for s in spans} == {"observatory"}
    system_name = "rabbitmq" if backends else "embedded"
    assert {
        a["value"]["stringValue"]
        for s in spans
        for a in s["attributes"]
        if a["key"] == "messaging.system"
    } == {system_name}
    queue = f"{namespace}.jobs" if backends else "jobs"
    roots = sorted(
        (s for s in spans if "parentSpanId" not in s and s["name"] == "POST /jobs"),
        key=lambda s: int(s["startTimeUnixNano"]),
    )
    assert len(roots) == 2, [s["name"] for s in roots]  # the gateway's request of each job
    completing, failing = ([s for s in spans if s["traceId"] == root["traceId"]] for root in roots)
    by_id = {s["spanId"]: s for s in completing}
    # the metrics engine, three hops later: the batch that took job.completed (alone, or
    # with the job's other events: still this trace) is linked to the attempt announcing it
    attempt = next(s for s in completing if s["name"] == f"process {queue}.created message")
    assert attempt["spanId"] in linked_from(completing, f"process {queue}.")
    publish = next(s for s in completing if s["kind"] == 4)  # the gateway's publish
    assert by_id[publish["parentSpanId"]] is roots[0]
    created = next(s for s in completing if s["name"] == f"process {queue}.created")
    assert by_id[created["parentSpanId"]] is publish  # the processor, child of the publish
    assert created["links"][0]["spanId"] == publish["spanId"]
    assert all(s["status"]["code"] != 2 for s in completing), "a span ended in error"

    attempts = [s for s in failing if s["name"] == f"process {queue}.created"]
    retries = [s for s in failing if s["name"] == f"publish {queue}.created"]
    assert (len(attempts), len(retries)) == (3, 2)  # three attempts, two scheduled retries
    tries = [s for s in failing if s["name"] == f"process {queue}.created message"]
    by_attempt = {attribute_of(s, "observatory.job.attempt")["intValue"]: s for s in tries}
    assert sorted(by_attempt) == ["1", "2", "3"]
    assert by_attempt["3"]["spanId"] in linked_from(failing, f"process {queue}.")  # job.failed
