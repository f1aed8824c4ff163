"""Test tiers and access to the real services on this machine.

Each test folder is a tier (unit, integration, e2e, browser, tui) and gets its marker
here. Integration-style tests ask for a real service through `require_*` fixtures: on a
laptop without it they skip and print why; with CI=true a missing service fails the run.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.sweep import HANDED_OUT, new_namespace, sweep
from tests.system import RunningSystem, start_system

TIERS = ("unit", "integration", "e2e", "browser", "tui")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# Test-only URLs of the services this machine runs; the code itself has no defaults.
RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    root = Path(__file__).parent
    for item in items:
        parts = Path(str(item.path)).relative_to(root).parts
        if parts and parts[0] in TIERS:
            item.add_marker(getattr(pytest.mark, parts[0]))


def reachable(url: str, default_port: int) -> bool:
    """True when something accepts TCP connections at the URL's host and port."""
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def need(url: str, default_port: int, what: str) -> str:
    """Return `url` if its service answers; otherwise skip (laptop) or fail (CI)."""
    if reachable(url, default_port):
        return url
    message = (
        f"{what} is not reachable at {urlparse(url).hostname}:{urlparse(url).port or default_port}"
    )
    if IN_CI:
        pytest.fail(f"{message}, and CI=true requires it")
    pytest.skip(message)


@pytest.fixture
def rabbitmq_url() -> str:
    return need(RABBITMQ_URL, 5672, "RabbitMQ")


@pytest.fixture
def postgres_url() -> str:
    return need(POSTGRES_URL, 5432, "PostgreSQL")


@pytest.fixture
def redis_url() -> str:
    return need(REDIS_URL, 6379, "Redis")


@pytest.fixture
def namespace(request: pytest.FixtureRequest) -> str:
    """A prefix unique to this test for queues, keys and tables (swept at session end)."""
    return new_namespace(request.node.nodeid)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Remove what tests left of their namespaces on the real services (tests/sweep.py),
    and say which namespaces still had something: a test that leaks is worth mending."""
    if not HANDED_OUT:
        return
    here = {
        "postgres": POSTGRES_URL if reachable(POSTGRES_URL, 5432) else None,
        "rabbitmq": RABBITMQ_URL if reachable(RABBITMQ_URL, 5672) else None,
        "redis": REDIS_URL if reachable(REDIS_URL, 6379) else None,
    }
    try:
        left = asyncio.run(sweep(set(HANDED_OUT), **here))
    except Exception as exc:  # a sweep that fails must not fail the run it follows
        print(f"\nnamespace sweep failed: {type(exc).__name__}: {exc}")
        return
    for service, namespaces in left.items():
        if namespaces:
            print(f"\nswept {len(namespaces)} namespaces left in {service}:")
            for namespace in namespaces[:20]:
                print(f"  {namespace} ({HANDED_OUT[namespace] or 'a test of its own'})")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "odto"
    path.mkdir()
    return path


@pytest.fixture
def system(tmp_path: Path) -> Iterator[RunningSystem]:
    """A whole embedded system on free ports, stopped after the test."""
    running = start_system(tmp_path)
    try:
        yield running
    finally:
        running.stop()
