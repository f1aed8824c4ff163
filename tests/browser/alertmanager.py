"""A tiny fake Alertmanager: GET /api/v2/alerts answers whatever the test put in `alerts`."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeAlertmanager:
    """Serves `alerts` (Alertmanager v2 alert objects) on a free loopback port."""

    def __init__(self) -> None:
        self.alerts: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] != "/api/v2/alerts":
                    self.send_error(404)
                    return
                body = json.dumps(owner.alerts).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeAlertmanager:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def alert(name: str, severity: str, service: str, summary: str) -> dict[str, Any]:
    """One firing alert as Alertmanager's v2 API returns it."""
    return {
        "labels": {"alertname": name, "severity": severity, "service": service},
        "annotations": {"summary": summary, "description": f"{summary} (test)"},
        "status": {"state": "active", "silencedBy": [], "inhibitedBy": []},
        "startsAt": "2026-01-01T00:00:00Z",
        "endsAt": "2099-01-01T00:00:00Z",
        "fingerprint": name,
    }
