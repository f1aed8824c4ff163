"""`python -m benchmarks.delayed` against the real RabbitMQ, small: every delayed retry
arrives on both queue types, none before it was due, and the run prints its figures. It
checks the harness, not the speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.slow


@pytest.mark.timeout(200)
def test_delayed_retries_smoke_run_counts_every_arrival(rabbitmq_url: str) -> None:
    command = [
        sys.executable,
        "-m",
        "benchmarks.delayed",
        "--messages",
        "300",
        "--delay",
        "1.0",
        "--rounds",
        "1",
        "--rabbitmq-url",
        rabbitmq_url,
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    for kind in ("classic", "quorum"):
        figures = result[kind]
        assert figures["arrived"] == 300
        assert figures["lateMinMs"] > -2  # none before its due time (ms rounding aside)
        assert figures["arrivedPerS"] > 0
    assert "| quorum |" in done.stdout
