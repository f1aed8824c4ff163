"""`odto up --observability` with ODTO_API_TOKEN: the read model's webhook refuses callers
without the token, and the local Alertmanager (real binary, generated config) sends it, so
its notifications still reach the alert history."""

from __future__ import annotations

import stat
import uuid
from typing import Any

import httpx
import pytest
from tests.e2e.observability.prom import need_prometheus_and_alertmanager
from tests.system import free_port, start_system, wait_until

# Alertmanager's 30 s group_wait shortened to its 1 s floor.
FAST = {"ODTO_SCRAPE_INTERVAL": "1", "ODTO_EVALUATION_INTERVAL": "1", "ODTO_RULE_TIMESCALE": "0.02"}


def history_names(read_model_url: str, token: str) -> set[str]:
    """The alert names in the webhook history (a read: it needs the token too)."""
    history: list[dict[str, Any]] = httpx.get(
        f"{read_model_url}/alerts/history",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()
    return {alert["alertname"] for note in history for alert in note["alerts"]}


@pytest.mark.slow
def test_local_alertmanager_sends_the_token_the_webhook_requires(tmp_path: Any) -> None:
    need_prometheus_and_alertmanager()
    token = f"am-{uuid.uuid4().hex}"
    env = {
        **FAST,
        "PROMETHEUS_PORT": str(free_port()),
        "ALERTMANAGER_PORT": str(free_port()),
        "ODTO_API_TOKEN": token,
    }
    system = start_system(tmp_path, env=env, args=("--observability",))
    try:
        (ready,) = [p for p in system.progress if p.get("step") == "ready"]
        urls = ready["urls"]
        assert isinstance(urls, dict)
        alertmanager = str(urls["alertmanager"])
        name = f"TokenCheck{uuid.uuid4().hex[:8]}"
        note = {"status": "firing", "alerts": [{"labels": {"alertname": name}}]}
        refused = httpx.post(f"{system.read_model_url}/webhook/alerts", json=note, timeout=10)
        assert refused.status_code == 401

        alert = {"labels": {"alertname": name, "service": "gateway", "severity": "warning"}}
        posted = httpx.post(f"{alertmanager}/api/v2/alerts", json=[alert], timeout=10)
        assert posted.status_code == 200, posted.text
        wait_until(
            lambda: name in history_names(system.read_model_url, token),
            timeout=30,
            interval=0.5,
            message="Alertmanager's notification in the webhook history",
        )
        token_file = system.data_dir / "observability" / "api-token"
        assert token_file.read_text() == token
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert token not in (system.data_dir / "observability" / "alertmanager.yml").read_text()
    finally:
        system.stop()
