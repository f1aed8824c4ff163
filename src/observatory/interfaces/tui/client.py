"""The TUI's only way to the system: async HTTP to the read model and the gateway.

Every call has a timeout and every failure becomes a RequestError whose `kind` says what
the user should think (timeout, nothing listening, their input was rejected, the server
broke) and whose text is ready to show. Callers run these coroutines in Textual workers.
A submission carries its own job id and is sent again with it while its fate is open
(interfaces/submission.py); when the tries run out, the error says so and names the id.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Mapping
from enum import Enum
from typing import Any, TypeVar

import httpx

from observatory.__about__ import __version__
from observatory.core.actor import cli_actor
from observatory.interfaces.submission import (
    INTERACTIVE,
    Retrying,
    RetryPolicy,
    Sleep,
    new_job_id,
    submit_job,
)
from observatory.interfaces.tui.models import (
    Alerts,
    BadResponse,
    JobDetail,
    JobSummary,
    Series,
    Stats,
)
from observatory.interfaces.tui.operator_client import OperatorActions
from observatory.interfaces.tui.validation import Simulation

READ_TIMEOUT = 3.0
WRITE_TIMEOUT = 5.0
CONNECT_TIMEOUT = 1.5
STREAM_IDLE_TIMEOUT = 45.0
"""The read model sends a keep-alive every 15 s; three missed ones mean the stream is dead."""
T = TypeVar("T")


class ErrorKind(Enum):
    TIMEOUT = "timeout"
    CONNECTION_REFUSED = "connection refused"
    VALIDATION = "validation"
    UNAUTHORIZED = "unauthorized"
    NOT_FOUND = "not found"
    CONFLICT = "conflict"
    UNAVAILABLE = "unavailable"
    SERVER_ERROR = "server error"
    NETWORK = "network"
    BAD_RESPONSE = "bad response"


class RequestError(Exception):
    """A call to a service failed; str() is the message for the user."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        status: int | None = None,
        *,
        job_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.job_id = job_id
        """Set when a submission gave up with its fate open: resubmitting this id is safe."""


def _error_text(response: httpx.Response) -> tuple[str, str]:
    """(error, details) from a JSON error body, falling back to the raw text."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200] or response.reason_phrase, ""
    if not isinstance(body, dict):
        return str(body)[:200], ""
    error = str(body.get("error") or response.reason_phrase)
    details = body.get("details")
    parts = []
    if isinstance(details, list):
        for item in details:
            if isinstance(item, dict):
                path, msg = item.get("path"), item.get("message")
                parts.append(f"{path}: {msg}" if path else str(msg))
    return error, "; ".join(parts)


def _required_role(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    role = body.get("requiredRole") if isinstance(body, dict) else None
    return str(role) if role else None


def _error_for(service: str, response: httpx.Response) -> RequestError | None:
    code = response.status_code
    if code < 400:
        return None
    error, details = _error_text(response)
    if code in (400, 413, 415, 422):
        text = f"Validation failed: {details or error}"
        return RequestError(ErrorKind.VALIDATION, text, code)
    if code == 401:
        text = f"{service} needs a token (401): set ODTO_TOKEN or --token-file to one it knows"
        return RequestError(ErrorKind.UNAUTHORIZED, text, code)
    if code == 403:
        needed = _required_role(response)
        text = f"{service} refused (403): {error}" + (
            f" - ask for a token with the {needed} role" if needed else ""
        )
        return RequestError(ErrorKind.UNAUTHORIZED, text, code)
    if code == 404:
        return RequestError(ErrorKind.NOT_FOUND, f"Not found: {error}", code)
    if code == 409:
        return RequestError(ErrorKind.CONFLICT, f"Refused: {error}", code)
    if code == 503:
        after = response.headers.get("Retry-After")
        suffix = f"; retry after {after}s" if after else ""
        return RequestError(ErrorKind.UNAVAILABLE, f"{service} unavailable: {error}{suffix}", code)
    return RequestError(ErrorKind.SERVER_ERROR, f"{service} returned {code}: {error}", code)


def _raise_for(service: str, response: httpx.Response) -> None:
    error = _error_for(service, response)
    if error is not None:
        raise error


def _transport_error(service: str, url: str, limit: float, exc: httpx.HTTPError) -> RequestError:
    if isinstance(exc, httpx.TimeoutException):
        text = f"{service} timeout ({limit:g}s) - the system may be starting or overloaded"
        return RequestError(ErrorKind.TIMEOUT, text)
    if isinstance(exc, httpx.ConnectError):
        text = f"Cannot connect to the {service.lower()} at {url.split('/', 3)[2]}"
        return RequestError(ErrorKind.CONNECTION_REFUSED, text + " - is it running?")
    return RequestError(ErrorKind.NETWORK, f"Network error: {exc}")


class SseParser:
    """Turns Server-Sent Events lines into (event, JSON data) pairs; feed it one line at a time."""

    def __init__(self) -> None:
        self._event = "message"
        self._data: list[str] = []

    def feed(self, line: str) -> tuple[str, Any] | None:
        """The completed event when `line` ends one (a blank line), else None."""
        if line.startswith(":"):
            return None
        if line:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                self._event = value
            elif field == "data":
                self._data.append(value)
            return None
        event, data = self._event, "\n".join(self._data)
        self._event, self._data = "message", []
        if not data:
            return None
        try:
            return event, json.loads(data)
        except ValueError:
            return None


class ObservatoryClient(OperatorActions):
    """HTTP access to one running system; `transport` lets tests pass a fake backend. The
    operator's actions (cancel, retry, replay, audit) are OperatorActions'."""

    def __init__(
        self,
        gateway_url: str,
        read_model_url: str,
        *,
        token: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        read_timeout: float = READ_TIMEOUT,
        write_timeout: float = WRITE_TIMEOUT,
        retry: RetryPolicy = INTERACTIVE,
        sleep: Sleep = asyncio.sleep,
        new_id: Callable[[], str] = new_job_id,
    ) -> None:
        self.read_timeout = read_timeout
        self.write_timeout = write_timeout
        self.retry_policy = retry
        self._sleep = sleep
        self.new_id = new_id
        self.gateway_url = gateway_url.rstrip("/")
        self.read_model_url = read_model_url.rstrip("/")
        # The actor our audit entries name (core.actor): a label, not a credential.
        headers = {"User-Agent": f"odd-dashboard/{__version__}", "X-Odto-Actor": cli_actor()}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.AsyncClient(
            headers=headers,
            transport=transport,
            timeout=httpx.Timeout(read_timeout, connect=CONNECT_TIMEOUT),
        )

    def set_urls(self, gateway_url: str | None, read_model_url: str | None) -> None:
        """Point at another system (e.g. the URLs `odto up` reported)."""
        if gateway_url:
            self.gateway_url = gateway_url.rstrip("/")
        if read_model_url:
            self.read_model_url = read_model_url.rstrip("/")

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(
        self, service: str, method: str, url: str, *, limit: float, body: Any = None
    ) -> Any:
        try:
            response = await self._http.request(
                method, url, json=body, timeout=httpx.Timeout(limit, connect=CONNECT_TIMEOUT)
            )
        except httpx.HTTPError as exc:
            raise _transport_error(service, url, limit, exc) from None
        _raise_for(service, response)
        return self._body(service, response)

    @staticmethod
    def _body(service: str, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            text = f"{service} sent a body that is not JSON"
            raise RequestError(ErrorKind.BAD_RESPONSE, text, response.status_code) from None

    async def _read(self, path: str, params: dict[str, Any] | None = None) -> Any:
        query = httpx.QueryParams({k: v for k, v in (params or {}).items() if v not in (None, "")})
        url = f"{self.read_model_url}{path}" + (f"?{query}" if query else "")
        return await self._call("Read model", "GET", url, limit=self.read_timeout)

    async def _post(self, path: str, body: Any = None) -> Any:
        url = f"{self.gateway_url}{path}"
        return await self._call("Gateway", "POST", url, limit=self.write_timeout, body=body)

    @staticmethod
    def _parsed(parse: Callable[[Any], T], body: Any) -> T:
        try:
            return parse(body)
        except BadResponse as exc:
            raise RequestError(ErrorKind.BAD_RESPONSE, f"Unexpected answer: {exc}") from None

    async def whoami(self) -> tuple[str, str, bool]:
        """(name, role, tokens on) of our token, from the read model's /auth/whoami."""
        body = await self._read("/auth/whoami")
        if not isinstance(body, dict) or "role" not in body:
            raise RequestError(ErrorKind.BAD_RESPONSE, "Unexpected answer from /auth/whoami")
        return str(body.get("name", "?")), str(body["role"]), body.get("access") == "tokens"

    async def stats(self) -> Stats:
        return self._parsed(Stats.parse, await self._read("/stats"))

    async def series(self, window: str = "15m") -> Series:
        """GET /stats/series for `window` at the read model's default step."""
        return self._parsed(Series.parse, await self._read("/stats/series", {"window": window}))

    async def jobs(
        self,
        *,
        limit: int,
        status: str = "",
        job_type: str = "",
        search: Mapping[str, str] | None = None,
    ) -> list[JobSummary]:
        """Newest jobs, optionally filtered (`search`: more GET /jobs filters); uses
        /jobs/recent when unfiltered."""
        if status or job_type or search:
            params: dict[str, Any] = {"status": status, "type": job_type, **(search or {})}
            body = await self._read("/jobs", {**params, "limit": limit})
        else:
            body = await self._read("/jobs/recent", {"limit": limit})
        return self._parsed(JobSummary.parse_list, body)

    async def job(self, job_id: str) -> JobDetail:
        return self._parsed(JobDetail.parse, await self._read(f"/jobs/{job_id}"))

    async def alerts(self) -> Alerts:
        return self._parsed(Alerts.parse, await self._read("/alerts"))

    async def stream(self) -> AsyncIterator[tuple[str, Any]]:
        """Events from the read model's GET /stream until it ends; RequestError on failure."""
        url = f"{self.read_model_url}/stream"
        parser = SseParser()
        timeout = httpx.Timeout(STREAM_IDLE_TIMEOUT, connect=CONNECT_TIMEOUT)
        headers = {"Accept": "text/event-stream"}
        try:
            async with self._http.stream("GET", url, timeout=timeout, headers=headers) as response:
                if response.status_code >= 400:
                    await response.aread()
                    _raise_for("Read model", response)
                async for line in response.aiter_lines():
                    event = parser.feed(line)
                    if event is not None:
                        yield event
        except httpx.TimeoutException:
            raise RequestError(ErrorKind.TIMEOUT, "Read model stream went quiet") from None
        except httpx.ConnectError:
            text = f"Cannot connect to the read model at {url.split('/', 3)[2]}"
            raise RequestError(ErrorKind.CONNECTION_REFUSED, text) from None
        except httpx.HTTPError as exc:
            raise RequestError(ErrorKind.NETWORK, f"Network error: {exc}") from None

    async def submit(
        self,
        job_type: str,
        simulation: Simulation | None = None,
        *,
        job_id: str | None = None,
        on_retry: Callable[[Retrying], None] | None = None,
    ) -> str:
        """POST /jobs with our own id (`job_id`, else a new one), sent again with that id
        while the job's fate is open (`on_retry` hears of each wait); the accepted job's id.
        A RequestError after the tries ran out names the job and carries its `job_id`."""
        body: dict[str, Any] = {"id": job_id or self.new_id(), "type": job_type}
        simulate = simulation.as_payload() if simulation else {}
        if simulate:
            body["payload"] = {"simulate": simulate}
        url = f"{self.gateway_url}/jobs"
        try:
            result = await submit_job(
                self._http,
                url,
                body,
                timeout=httpx.Timeout(self.write_timeout, connect=CONNECT_TIMEOUT),
                policy=self.retry_policy,
                sleep=self._sleep,
                on_retry=on_retry,
            )
        except httpx.HTTPError as exc:  # not a transport failure (e.g. a body that won't decode)
            raise _transport_error("Gateway", url, self.write_timeout, exc) from None
        if result.error is not None:
            error = _transport_error("Gateway", url, self.write_timeout, result.error)
        else:
            assert result.response is not None
            found = _error_for("Gateway", result.response)
            if found is None:
                return self._job_id(self._body("Gateway", result.response))
            error = found
        if result.gave_up:
            text = f"{error}\n{result.note()}"
            raise RequestError(error.kind, text, error.status, job_id=result.job_id)
        raise error

    @staticmethod
    def _job_id(answer: Any) -> str:
        job_id = answer.get("jobId") if isinstance(answer, dict) else None
        if isinstance(job_id, str):
            return job_id
        raise RequestError(ErrorKind.BAD_RESPONSE, "Gateway accepted the job but sent no jobId")
