"""The Prometheus tools as fixtures: skipped on a laptop without them, required in CI."""

from __future__ import annotations

import pytest
from tests.binaries import need_binary


@pytest.fixture
def promtool() -> str:
    return need_binary("promtool")


@pytest.fixture
def amtool() -> str:
    return need_binary("amtool")
