"""`start_observability` runs the real Prometheus and Alertmanager with the shipped rules and
routes: a service that does not answer raises ServiceDown, which Alertmanager delivers to the
read model's webhook, and a critical alert silences the matching warning."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.binaries import need_binary
from tests.waiting import wait_until, wait_until_async

from observatory.interfaces.cli.observability import Timings, start_observability
from observatory.interfaces.cli.observability.checks import check_observability

POLL_SECONDS = 0.3  # pause between checks while waiting on a condition

METRICS = b"""# TYPE odto_dependency_up gauge
odto_dependency_up{dependency="job_store"} 1
# TYPE processor_jobs_failed_total counter
processor_jobs_failed_total 0
"""


class FakeService(BaseHTTPRequestHandler):
    """Serves /metrics and records what arrives at POST /webhook/alerts."""

    notifications: list[dict[str, Any]] = []

    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/metrics" else 404)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()
        self.wfile.write(METRICS)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/webhook/alerts":
            self.notifications.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_service() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    notifications: list[dict[str, Any]] = []
    handler = type("Handler", (FakeService,), {"notifications": notifications})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", notifications
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_service_down_reaches_the_webhook_and_critical_inhibits_warning(
    tmp_path: Path, fake_service: tuple[str, list[dict[str, Any]]]
) -> None:
    need_binary("prometheus")
    need_binary("prometheus-alertmanager", "alertmanager")
    url, notifications = fake_service
    services = {
        "gateway": url,
        "read-model": url,
        "processor": f"http://127.0.0.1:{closed_port()}",  # nothing listens here
    }
    stack = start_observability(
        services, tmp_path, timings=Timings(1, 1, 0.02), prometheus_port=0, alertmanager_port=0
    )
    try:
        assert stack.status == "complete", stack.message
        assert stack.prometheus_url
        assert stack.alertmanager_url

        def scraped_once() -> bool:
            body = httpx.get(f"{stack.prometheus_url}/api/v1/targets").json()
            active = body["data"]["activeTargets"]
            return len(active) == 3 and all(t["health"] != "unknown" for t in active)

        wait_until(scraped_once, 30, POLL_SECONDS, message="the first scrape of every target")
        results = {
            r.name: r
            for r in await check_observability(
                stack.prometheus_url,
                stack.alertmanager_url,
                expected_jobs=services,
                targets_timeout=2,
            )
        }
        assert results["prometheus ready"].ok
        assert results["alertmanager ready"].ok
        assert results["alert rules loaded"].ok, results["alert rules loaded"].detail
        assert results["prometheus sends alerts to alertmanager"].ok
        targets = results["prometheus targets up"]
        assert not targets.ok
        assert "processor" in targets.detail
        assert "gateway" not in targets.detail

        def service_down() -> dict[str, Any] | None:
            for note in notifications:
                for alert in note["alerts"]:
                    labels = alert["labels"]
                    if labels["alertname"] == "ServiceDown" and alert["status"] == "firing":
                        return dict(alert)
            return None

        alert = wait_until(service_down, 60, POLL_SECONDS, message="ServiceDown at the webhook")
        assert alert["labels"]["service"] == "processor"
        assert alert["labels"]["severity"] == "critical"
        assert alert["annotations"]["runbook_url"] == "docs/runbook.md#servicedown"

        # Inhibition: the shipped rule silences a warning while the same alert and service
        # have a critical one.
        now = datetime.now(UTC)
        ends = (now + timedelta(minutes=5)).isoformat()
        pair = [
            {"labels": {"alertname": "Probe", "service": "s1", "severity": sev}, "endsAt": ends}
            for sev in ("critical", "warning")
        ]
        other = {"labels": {"alertname": "Probe", "service": "s2", "severity": "warning"}}
        async with httpx.AsyncClient(base_url=stack.alertmanager_url) as client:
            posted = await client.post("/api/v2/alerts", json=[*pair, {**other, "endsAt": ends}])
            assert posted.status_code == 200

            async def states() -> dict[tuple[str, str], str]:
                response = await client.get("/api/v2/alerts", params={"filter": "alertname=Probe"})
                return {
                    (a["labels"]["service"], a["labels"]["severity"]): a["status"]["state"]
                    for a in response.json()
                }

            async def warning_suppressed() -> dict[tuple[str, str], str] | None:
                seen = await states()
                return seen if seen.get(("s1", "warning")) == "suppressed" else None

            seen = await wait_until_async(
                warning_suppressed, 20, POLL_SECONDS, message="the s1 warning to be suppressed"
            )
            assert seen == {
                ("s1", "critical"): "active",
                ("s1", "warning"): "suppressed",
                ("s2", "warning"): "active",
            }
    finally:
        stack.stop()

    assert all(p.process.poll() is not None for p in stack.processes) or not stack.processes
    with httpx.Client() as after, pytest.raises(httpx.ConnectError):
        after.get(f"{stack.prometheus_url}/-/ready")
