"""Read proxies: the dashboard's view of Alertmanager and Prometheus through the gateway.

`GET /proxy/alerts` answers Alertmanager's `/api/v2/alerts`, `GET /proxy/targets`
Prometheus's `/api/v1/targets`, as the upstream answered them. An upstream that is not
configured or does not answer JSON is 502, one that is too slow 504.
"""

from __future__ import annotations

import httpx
from starlette.responses import JSONResponse, Response

from observatory.core.http import json_error


class Proxies:
    """Holds one HTTP client for both upstreams; `aclose` on shutdown."""

    def __init__(
        self, *, alertmanager_url: str | None, prometheus_url: str | None, timeout: float
    ) -> None:
        self.upstreams = {"alertmanager": alertmanager_url, "prometheus": prometheus_url}
        self.http = httpx.AsyncClient(timeout=timeout)

    async def alerts(self) -> Response:
        return await self._proxy("alertmanager", "/api/v2/alerts")

    async def targets(self) -> Response:
        return await self._proxy("prometheus", "/api/v1/targets")

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _proxy(self, name: str, path: str) -> Response:
        base = self.upstreams[name]
        label = name.capitalize()
        if not base:
            return json_error(502, f"{label} unavailable", f"{name} is not configured")
        try:
            upstream = await self.http.get(
                base.rstrip("/") + path, headers={"Accept": "application/json"}
            )
        except httpx.TimeoutException:
            return json_error(504, f"{label} timeout")
        except httpx.HTTPError as exc:
            return json_error(502, f"{label} unavailable", type(exc).__name__)
        try:
            body = upstream.json()
        except ValueError:
            return json_error(502, f"{label} unavailable", "upstream did not answer JSON")
        return JSONResponse(body, status_code=upstream.status_code)
