"""Submitting one job so that sending it again is safe (README, "HTTP API in brief"),
for every client of ours.

The client chooses the job's id and sends it in the body; `POST /jobs` is idempotent by
id, so whenever an answer leaves the job's fate open the very same body goes out again:

    answer                               the job                    what happens
    2xx                                  accepted                   done
    503 {outcome: "unknown", jobId}      may have been published    retried after Retry-After
    503 (any other)                      certainly not published    retried after Retry-After
    502 / 504 (the web proxy)            the gateway may have it    retried with back-off
    timeout, connection dropped          may have been sent         retried with back-off
    connection refused                   not sent                   retried with back-off
    anything else (400, 401, 413, 415…)  refused                    final, never retried

Tries are bounded in number and in time, so no client loops. When they run out the caller
gets the last answer and whether the job may exist anyway, to tell the user plainly.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

Sleep = Callable[[float], Awaitable[None]]
OPEN_STATUSES = frozenset({502, 503, 504})
"""Answers after which the job's fate is open: the same body may be sent again."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard one submission tries before it tells the user."""

    attempts: int = 4
    """Tries in all, the first included."""
    budget: float = 30.0
    """Seconds from the first try; a wait that would end later is not started."""
    backoff: float = 1.0
    """The first wait when the answer names none (no Retry-After); it doubles each time."""
    max_wait: float = 10.0
    """The longest single wait, whatever Retry-After asks for."""


INTERACTIVE = RetryPolicy()
"""For a person waiting on the answer: three more tries within about 30 s."""


@dataclass(frozen=True, slots=True)
class Retrying:
    """Told to the caller before each wait: which try comes next, when, and why."""

    job_id: str
    attempt: int
    """The try about to be made (2 for the first retry)."""
    attempts: int
    """The most tries there will be."""
    wait: float
    reason: str


@dataclass(frozen=True, slots=True)
class Submission:
    """How one submission ended: the last answer (or transport error) and what is known."""

    job_id: str
    attempts: int
    response: httpx.Response | None
    error: httpx.TransportError | None
    """Set when the last try got no answer."""
    maybe_published: bool
    """True when some try may have reached the broker (so the job may run anyway)."""

    @property
    def accepted(self) -> bool:
        return self.response is not None and self.response.is_success

    @property
    def gave_up(self) -> bool:
        """The tries ran out while the job's fate was still open."""
        return self.error is not None or (
            self.response is not None and self.response.status_code in OPEN_STATUSES
        )

    def note(self) -> str:
        """One sentence for the user after giving up: the job id and what is safe to do."""
        tries = f"{self.attempts} {'try' if self.attempts == 1 else 'tries'}"
        if self.maybe_published:
            return (
                f"Job {self.job_id} was not confirmed after {tries}: its outcome is unknown "
                "and it may still run. Resubmitting it with the same id is safe (it runs once)."
            )
        return (
            f"Job {self.job_id} was not accepted after {tries} (nothing was published). "
            "Resubmitting it with the same id is safe."
        )


def new_job_id() -> str:
    """A fresh job id (UUID v4), chosen by the client so that retries are idempotent."""
    return str(uuid.uuid4())


def describe(response: httpx.Response | None, error: httpx.TransportError | None) -> str:
    """A short reason for a retry: `503 bus unavailable, outcome unknown`, `timeout`, …"""
    if error is not None:
        if isinstance(error, httpx.TimeoutException):
            return "timeout"
        if isinstance(error, httpx.ConnectError):
            return "connection refused"
        return f"network error ({type(error).__name__})"
    assert response is not None
    body = json_object(response)
    text = f"{response.status_code} {body.get('error') or response.reason_phrase}"
    return f"{text}, outcome unknown" if body.get("outcome") == "unknown" else text


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object, or {} when it is not one."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _maybe_published(response: httpx.Response | None, error: httpx.TransportError | None) -> bool:
    if error is not None:
        # A refused or timed-out connect, or no free connection, never sent the request.
        return not isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    assert response is not None
    if response.status_code == 503:
        return json_object(response).get("outcome") == "unknown"
    return True  # 502/504: the proxy may have passed the request on before failing


def retry_after(response: httpx.Response | None) -> float | None:
    """Retry-After in seconds (the delta form; an HTTP date is ignored), or None."""
    raw = response.headers.get("Retry-After") if response is not None else None
    try:
        seconds = float(raw) if raw is not None else math.nan
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


async def submit_job(
    client: httpx.AsyncClient,
    url: str,
    body: Mapping[str, Any],
    *,
    headers: Mapping[str, str] | None = None,
    timeout: httpx.Timeout | None = None,
    policy: RetryPolicy = INTERACTIVE,
    sleep: Sleep = asyncio.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    on_retry: Callable[[Retrying], None] | None = None,
) -> Submission:
    """POST `body` (which carries its `id`) to `url`, sending the same bytes again while the
    job's fate is open, within `policy`. Never raises for an HTTP or transport failure."""
    job_id = body.get("id")
    if not isinstance(job_id, str):
        raise ValueError("a submission carries its own job id (body['id'])")
    content = json.dumps(body).encode()
    request_headers = {**(headers or {}), "Content-Type": "application/json"}
    started = monotonic()
    maybe_published = False
    attempt = 0
    while True:
        attempt += 1
        response: httpx.Response | None = None
        error: httpx.TransportError | None = None
        try:
            response = await client.post(
                url,
                content=content,
                headers=request_headers,
                timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.TransportError as exc:
            error = exc
        if error is None and response is not None and response.status_code not in OPEN_STATUSES:
            return Submission(job_id, attempt, response, None, maybe_published)
        maybe_published = maybe_published or _maybe_published(response, error)
        wait = retry_after(response)
        if wait is None:
            wait = policy.backoff * 2 ** (attempt - 1)
        wait = min(wait, policy.max_wait)
        if attempt >= policy.attempts or monotonic() - started + wait > policy.budget:
            return Submission(job_id, attempt, response, error, maybe_published)
        if on_retry is not None:
            on_retry(
                Retrying(job_id, attempt + 1, policy.attempts, wait, describe(response, error))
            )
        await sleep(wait)
