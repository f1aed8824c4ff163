"""Fake read model and gateway for the web service's unit tests (httpx.MockTransport)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

Handler = Callable[[httpx.Request], httpx.Response]
READ_MODEL = "http://read-model.test:8080"
GATEWAY = "http://gateway.test:3000"


@dataclass
class Upstreams:
    """Fake read model and gateway behind the proxy."""

    handlers: dict[str, Handler] = field(default_factory=dict)
    seen: list[httpx.Request] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        handler = self.handlers.get(request.url.host)
        if handler is None:
            raise httpx.ConnectError("connection refused", request=request)
        return handler(request)
