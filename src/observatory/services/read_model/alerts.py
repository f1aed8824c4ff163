"""Alerts for the UIs: active alerts from Alertmanager, normalised, with a clear
"unavailable" state; and a bounded history of what Alertmanager's webhook sent."""

from __future__ import annotations

from collections import deque
from typing import Any

import httpx

from observatory.core.clock import Clock, iso


def normalise(alert: dict[str, Any]) -> dict[str, Any]:
    raw_labels, raw_notes = alert.get("labels"), alert.get("annotations")
    labels: dict[str, Any] = raw_labels if isinstance(raw_labels, dict) else {}
    notes: dict[str, Any] = raw_notes if isinstance(raw_notes, dict) else {}
    status = alert.get("status")
    state = status.get("state") if isinstance(status, dict) else status
    return {
        "alertname": str(labels.get("alertname", "unknown")),
        "severity": str(labels.get("severity", "none")),
        "service": str(labels.get("service", "")),
        "summary": str(notes.get("summary", "")),
        "description": str(notes.get("description", "")),
        "runbookUrl": str(notes.get("runbook_url", "")),
        "state": str(state or "active"),
        "startsAt": str(alert.get("startsAt", "")),
        "labels": {str(k): str(v) for k, v in labels.items()},
    }


class AlertSource:
    """Reads Alertmanager; remembers webhook notifications (bounded)."""

    def __init__(self, url: str | None, *, timeout: float, history: int, clock: Clock) -> None:
        self.url = url.rstrip("/") if url else None
        self.http = httpx.AsyncClient(timeout=timeout)
        self.history: deque[dict[str, Any]] = deque(maxlen=history)
        self.clock = clock

    async def active(self) -> dict[str, Any]:
        if not self.url:
            return {
                "status": "unavailable",
                "reason": "Alertmanager is not configured (ALERTMANAGER_URL)",
                "alerts": [],
            }
        try:
            response = await self.http.get(
                f"{self.url}/api/v2/alerts", params={"active": "true", "silenced": "false"}
            )
            response.raise_for_status()
            body = response.json()
        except httpx.TimeoutException:
            return {
                "status": "unavailable",
                "reason": "Alertmanager did not answer in time",
                "alerts": [],
            }
        except (httpx.HTTPError, ValueError) as exc:
            return {
                "status": "unavailable",
                "reason": f"Alertmanager unreachable ({type(exc).__name__})",
                "alerts": [],
            }
        if not isinstance(body, list):
            return {
                "status": "unavailable",
                "reason": "Alertmanager answered something unexpected",
                "alerts": [],
            }
        alerts = [normalise(a) for a in body if isinstance(a, dict)]
        rank = {"critical": 0, "warning": 1, "info": 2}
        alerts.sort(key=lambda a: (rank.get(a["severity"], 3), a["alertname"], a["service"]))
        return {"status": "ok", "alerts": alerts}

    def record(self, notification: dict[str, Any]) -> int:
        alerts = notification.get("alerts")
        if not isinstance(alerts, list):
            raise ValueError("a webhook notification must carry an 'alerts' list")
        self.history.appendleft(
            {
                "receivedAt": iso(self.clock.now()),
                "status": str(notification.get("status", "")),
                "groupLabels": notification.get("groupLabels") or {},
                "alerts": [normalise(a) for a in alerts if isinstance(a, dict)],
            }
        )
        return len(alerts)

    async def close(self) -> None:
        await self.http.aclose()
