"""The read model's live and auxiliary surfaces, the API docs, the gate, and shutdown."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from tests.system import RunningSystem, wait_until

from observatory.core.contracts.registry import load_registry


def test_stream_pushes_stats_and_job_events(system: RunningSystem) -> None:
    """GET /stream sends a stats snapshot at once, then the job's events as they happen."""
    seen: list[tuple[str, dict[str, Any]]] = []
    with (
        httpx.Client(timeout=httpx.Timeout(5, read=20)) as client,
        client.stream("GET", f"{system.read_model_url}/stream") as stream,
    ):
        assert stream.headers["content-type"].startswith("text/event-stream")
        job_id = None
        event = None
        deadline = time.monotonic() + 30
        for line in stream.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event:
                seen.append((event, json.loads(line[6:])))
                if job_id is None and event == "stats":
                    job_id = client.post(
                        f"{system.gateway_url}/jobs", json={"type": "LIVE"}
                    ).json()["jobId"]
                if any(e == "job-event" and d["eventType"] == "job.completed" for e, d in seen):
                    break
            if time.monotonic() > deadline:
                break
    kinds = [e for e, _ in seen]
    assert kinds[0] == "stats"
    job_events = [d for e, d in seen if e == "job-event"]
    assert {d["payload"]["id"] for d in job_events} == {job_id}
    assert "job.completed" in [d["eventType"] for d in job_events]


def test_alerts_unavailable_without_alertmanager_and_webhook_history(system: RunningSystem) -> None:
    """Without Alertmanager, /alerts says "unavailable" with a reason (no hang, no 500);
    notifications posted to the webhook are kept and listed newest first."""
    with httpx.Client(timeout=5) as client:
        alerts = client.get(f"{system.read_model_url}/alerts").json()
        assert alerts["status"] == "unavailable"
        assert "ALERTMANAGER_URL" in alerts["reason"]
        assert alerts["alerts"] == []
        proxied = client.get(f"{system.gateway_url}/proxy/alerts")
        assert proxied.status_code == 502
        assert proxied.json()["error"] == "Alertmanager unavailable"
        for name in ("First", "Second"):
            note = {
                "status": "firing",
                "groupLabels": {"alertname": name},
                "alerts": [
                    {
                        "labels": {"alertname": name, "severity": "warning", "service": "gateway"},
                        "annotations": {"summary": f"{name} summary"},
                        "status": "firing",
                        "startsAt": "2026-01-01T00:00:00Z",
                    }
                ],
            }
            assert client.post(f"{system.read_model_url}/webhook/alerts", json=note).json() == {
                "received": 1
            }
        history = client.get(f"{system.read_model_url}/alerts/history").json()
        assert [h["alerts"][0]["alertname"] for h in history] == ["Second", "First"]
        assert history[0]["alerts"][0]["summary"] == "Second summary"
        bad = client.post(f"{system.read_model_url}/webhook/alerts", json={"alerts": "nope"})
        assert bad.status_code == 400


def test_registry_docs_and_health_surfaces(system: RunningSystem) -> None:
    """The registry the UIs open, offline Swagger UI, OpenAPI, and the health trio."""
    with httpx.Client(timeout=5) as client:
        registry = client.get(f"{system.read_model_url}/registry").json()
        assert registry == load_registry().as_dict()
        for base in (system.gateway_url, system.read_model_url):
            docs = client.get(f"{base}/docs").text
            assert "/docs/assets/swagger-ui-bundle.js" in docs
            assert "unpkg" not in docs
            assert "cdn" not in docs.lower()
            assert client.get(f"{base}/docs/assets/swagger-ui-bundle.js").status_code == 200
        gateway_api = client.get(f"{system.gateway_url}/openapi.json").json()
        assert {"/jobs", "/jobs/{job_id}/retry", "/proxy/alerts", "/healthz", "/readyz"} <= set(
            gateway_api["paths"]
        )
        read_api = client.get(f"{system.read_model_url}/openapi.json").json()
        assert {"/stats", "/jobs/recent", "/jobs", "/jobs/{job_id}", "/events", "/stream"} <= set(
            read_api["paths"]
        )
        for url in (
            system.gateway_url,
            system.processor_url,
            system.metrics_engine_url,
            system.read_model_url,
        ):
            assert client.get(f"{url}/healthz").json()["status"] == "ok"
            assert client.get(f"{url}/readyz").status_code == 200
            assert "odto_dependency_up" in client.get(f"{url}/metrics").text


def test_gate_passes_against_a_running_system(system: RunningSystem) -> None:
    """`odto gate` prints [PASS] lines and exits 0 against a healthy system."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "observatory.interfaces.cli.main",
            "gate",
            "--gateway-url",
            system.gateway_url,
            "--read-model-url",
            system.read_model_url,
            "--jobs",
            "3",
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[FAIL]" not in result.stdout
    for check in (
        "gateway health",
        "jobs processed",
        "event ids unique",
        "stats aggregation",
        "gateway metrics",
    ):
        assert f"[PASS] {check}" in result.stdout


def test_gate_fails_when_nothing_answers() -> None:
    """Against nothing, the gate fails fast with a [FAIL] line and exit 1."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "observatory.interfaces.cli.main",
            "gate",
            "--gateway-url",
            "http://127.0.0.1:9",
            "--read-model-url",
            "http://127.0.0.1:9",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "[FAIL] gateway health" in result.stdout


def test_sigterm_stops_cleanly_and_keeps_accepted_jobs(tmp_path: Path) -> None:
    """SIGTERM ends `odto up` with exit 0; jobs accepted before it finish after a restart."""
    from tests.system import start_system

    system = start_system(tmp_path)
    with httpx.Client(timeout=5) as client:
        ids = [
            client.post(
                f"{system.gateway_url}/jobs",
                json={"type": "TERM", "payload": {"simulate": {"durationMs": 300}}},
            ).json()["jobId"]
            for _ in range(10)
        ]
        assert system.stop(signal.SIGTERM) == 0
        again = start_system(tmp_path, data_dir=system.data_dir, ports=system.ports)
        try:
            wait_until(
                lambda: (
                    client.get(f"{again.read_model_url}/stats").json()["completedJobs"] == len(ids)
                ),
                timeout=40,
                message="all accepted jobs to complete",
            )
        finally:
            again.stop()
