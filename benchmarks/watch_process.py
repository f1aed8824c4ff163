"""A screen watcher in a process of its own: `python -m benchmarks.watch_process tui|stream
GATEWAY_URL READ_MODEL_URL`. The TUI and the stream client would otherwise share the
harness's event loop with the load generator, the browser's driver and each other, and
a Textual refresh there delays the other's reading (a user's TUI is a process of its own).

The child prints `ready` once its watcher is live, then one line `<job id> <ms>` per job
the first time it shows as COMPLETED (the time the watcher noted, not when it printed).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
from collections.abc import AsyncIterator
from typing import Any

from benchmarks import watchers

POLL_S = 0.02  # how often the child looks for new sightings (their times are exact)


async def _child(kind: str, gateway_url: str, read_model_url: str) -> None:
    opened: Any = (
        watchers.TuiWatch.open(gateway_url, read_model_url)
        if kind == "tui"
        else watchers.StreamWatch.open(read_model_url)
    )
    printed: set[str] = set()
    async with opened as watch:
        print("ready", flush=True)
        while True:
            for job_id, (at, _) in (await watch.seen()).items():
                if job_id not in printed:
                    printed.add(job_id)
                    print(f"{job_id} {at:.3f}", flush=True)
            await asyncio.sleep(POLL_S)


class ProcessWatch:
    """The parent's side: sightings read from the child's output."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.first: dict[str, float] = {}

    async def seen(self) -> dict[str, tuple[float, str]]:
        return {job_id: (at, self.where) for job_id, at in self.first.items()}

    @classmethod
    @contextlib.asynccontextmanager
    async def open(
        cls, kind: str, gateway_url: str, read_model_url: str, where: str
    ) -> AsyncIterator[ProcessWatch]:
        watch = cls(where)
        errors = tempfile.TemporaryFile()  # noqa: SIM115 — closed below, after the child
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks.watch_process",
            kind,
            gateway_url,
            read_model_url,
            stdout=asyncio.subprocess.PIPE,
            stderr=errors,
        )
        assert child.stdout is not None
        try:
            line = await asyncio.wait_for(child.stdout.readline(), watchers.READY_S + 10)
            if line.strip() != b"ready":
                errors.seek(0)
                error = errors.read()[-600:].decode(errors="replace")
                raise RuntimeError(f"the {kind} watcher did not start: {error}")
            reader = asyncio.create_task(watch._read(child.stdout))
            try:
                yield watch
            finally:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
        finally:
            if child.returncode is None:
                child.terminate()
                try:
                    await asyncio.wait_for(child.wait(), 10)
                except TimeoutError:
                    child.kill()
                    await child.wait()
            errors.close()

    async def _read(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            job_id, _, at = line.decode().strip().partition(" ")
            if at:
                self.first.setdefault(job_id, float(at))


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_child(*sys.argv[1:4]))
