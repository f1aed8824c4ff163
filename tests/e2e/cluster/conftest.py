"""The `fake_cluster` fixture: a FakeCluster (world.py) whose port-forwards end with the test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.e2e.cluster.world import FakeCluster


@pytest.fixture
def fake_cluster(tmp_path: Path) -> Iterator[FakeCluster]:
    world = FakeCluster(tmp_path)
    yield world
    world.cleanup()
