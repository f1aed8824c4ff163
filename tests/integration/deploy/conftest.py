"""The kind overlay rendered once per test session (kustomize is the slow part)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.integration.deploy.kustomize import render_kind_overlay


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    workdir: Path = tmp_path_factory.mktemp("kustomize")
    return render_kind_overlay(workdir)
