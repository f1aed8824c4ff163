"""Alerts for the UIs: active alerts from Alertmanager, normalised, with a clear
"unavailable" state; and a bounded history of what Alertmanager's webhook sent.

Whatever a webhook caller posts, only normalised, bounded, string-valued data is kept:
flat label sets of at most `MAX_LABELS` pairs, strings cut at `MAX_TEXT` characters, at
most `MAX_ALERTS` alerts per notification. So GET /alerts/history always answers.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import Any

import httpx
import orjson

from observatory.core.clock import Clock, iso
from observatory.core.contracts.limits import too_deep, too_deep_in_text
from observatory.core.contracts.validator import Violation
from observatory.core.errors import InvalidMessage

MAX_TEXT = 1024
"""Characters kept of any string (a label, an annotation, a status)."""
MAX_LABELS = 64
"""Pairs kept of a label set (Alertmanager's own are a handful)."""
MAX_ALERTS = 100
"""Alerts kept of one notification (the count received is still reported)."""


def text(value: Any, default: str = "") -> str:
    """A scalar as bounded text; `default` for a missing value, an object or a list."""
    if isinstance(value, str):
        return value[:MAX_TEXT]
    if isinstance(value, bool | int | float):
        return str(value)[:MAX_TEXT]
    return default


def label_set(value: Any) -> dict[str, str]:
    """A flat str -> str mapping of at most MAX_LABELS pairs; nested values are dropped
    (labels are flat in Alertmanager's model, so there is nothing to keep of them)."""
    if not isinstance(value, dict):
        return {}
    labels: dict[str, str] = {}
    for key, item in value.items():
        if len(labels) == MAX_LABELS:
            break
        if not isinstance(item, dict | list):
            labels[str(key)[:MAX_TEXT]] = text(item)
    return labels


def normalise(alert: dict[str, Any]) -> dict[str, Any]:
    labels, notes = label_set(alert.get("labels")), label_set(alert.get("annotations"))
    status = alert.get("status")
    state = status.get("state") if isinstance(status, dict) else status
    return {
        "alertname": labels.get("alertname", "unknown"),
        "severity": labels.get("severity", "none"),
        "service": labels.get("service", ""),
        "summary": notes.get("summary", ""),
        "description": notes.get("description", ""),
        "runbookUrl": notes.get("runbook_url", ""),
        "state": text(state) or "active",
        "startsAt": text(alert.get("startsAt")),
        "labels": labels,
    }


def parse_notification(raw: bytes) -> dict[str, Any]:
    """A webhook body as a notification object; InvalidMessage (with the path) when it is
    not JSON, is nested past the edge limit, or carries no `alerts` list."""
    reason = "Invalid webhook notification"
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        # orjson stops at 1024 levels; a body that deep is refused for its depth, by path.
        raise InvalidMessage(reason, [too_deep_in_text(raw) or Violation("$", str(exc))]) from exc
    deep = too_deep(body)
    if deep is not None:
        raise InvalidMessage(reason, [deep])
    if not isinstance(body, dict):
        raise InvalidMessage(reason, [Violation("$", "must be a JSON object")])
    if not isinstance(body.get("alerts"), list):
        raise InvalidMessage(reason, [Violation("$.alerts", "must be a list of alerts")])
    return body


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
        """Keep the bounded, normalised form of a parsed notification; the alerts received."""
        alerts = notification.get("alerts")
        if not isinstance(alerts, list):
            raise InvalidMessage(
                "Invalid webhook notification", [Violation("$.alerts", "must be a list of alerts")]
            )
        self.history.appendleft(
            {
                "receivedAt": iso(self.clock.now()),
                "status": text(notification.get("status")),
                "groupLabels": label_set(notification.get("groupLabels")),
                "alerts": [normalise(a) for a in alerts[:MAX_ALERTS] if isinstance(a, dict)],
            }
        )
        return len(alerts)

    async def close(self) -> None:
        await self.http.aclose()

    def forget_before(self, before: datetime) -> int:
        """Retention: drop the notifications received before `before`; how many."""
        cutoff = iso(before)
        kept = [entry for entry in self.history if entry["receivedAt"] >= cutoff]
        gone = len(self.history) - len(kept)
        if gone:
            self.history.clear()
            self.history.extend(kept)
        return gone
