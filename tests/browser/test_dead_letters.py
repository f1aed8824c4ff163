"""Dead letters are shown, and markup in what someone published stays text."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from observatory.core.backends import make_bus
from observatory.core.bus.port import Outgoing
from observatory.core.settings import Backends
from tests.browser.conftest import Console, open_dashboard, screenshot
from tests.system import RunningSystem


def publish_raw(system: RunningSystem, body: bytes) -> None:
    """Put `body` on the system's bus as if it were a job.created event."""

    async def publish() -> None:
        backends = Backends(
            data_dir=system.data_dir,
            rabbitmq_url=None,
            postgres_url=None,
            redis_url=None,
            event_store_url=None,
        )
        bus = make_bus(backends)
        await bus.open()
        try:
            await bus.publish_many([Outgoing("job.created", body)])
        finally:
            await bus.close()

    # Its own thread and event loop: Playwright's sync API owns this thread's loop.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, publish()).result(timeout=30)


def test_markup_in_a_dead_letter_is_shown_as_text(
    page: Any, console: Console, observatory: RunningSystem
) -> None:
    """An <img onerror> in a refused message is displayed literally and never runs."""
    marker = uuid.uuid4().hex[:12]
    raw = f'<img src=x onerror="window.__pwned=1"> garbage {marker}'
    publish_raw(observatory, raw.encode())

    open_dashboard(page, observatory, "#/dead-letters")
    # Both consumers of job.created (processor, metrics engine) may refuse it.
    row = page.locator("#dead-letters-body tr", has_text=marker).first
    row.wait_for(timeout=20_000)
    assert row.locator("summary").inner_text() == raw
    row.locator("summary").click()
    assert row.locator("pre.raw").inner_text() == raw
    assert row.locator(".error-text").inner_text() != ""
    assert page.locator("#dead-letters-body img").count() == 0
    assert page.evaluate("window.__pwned") is None
    screenshot(page, "dead-letters")
    assert console.errors == []
