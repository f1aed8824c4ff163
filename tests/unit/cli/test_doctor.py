"""`odto doctor` on the embedded profile: no backend to probe (probing real ports is in
tests/integration/cli/test_doctor_probes.py)."""

from __future__ import annotations

from pathlib import Path

from observatory.core.settings import Backends
from observatory.interfaces.cli.doctor import backend_checks
from observatory.interfaces.tui.doctor import Level


def test_embedded_profile_needs_no_backend(tmp_path: Path) -> None:
    checks = backend_checks(Backends.model_validate({"ODTO_DATA_DIR": tmp_path}))
    assert [(c.level, c.name) for c in checks] == [(Level.OK, "backends")]
