"""The `odd-dashboard` command line: --version, --help, doctor and bad options."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from observatory import __version__
from observatory.interfaces.tui.main import main
from tests.system import free_port

SCRIPT = Path(sys.executable).with_name("odd-dashboard")


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_prints_version_commit_build_time_and_python(
    flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([flag]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"task-observatory {__version__}"
    assert re.fullmatch(r"  commit: +([0-9a-f]{40}|unknown)", lines[1])
    assert lines[2].startswith("  built:")
    assert lines[3] == f"  python:    {sys.version.split()[0]} (CPython)"


def test_help_lists_commands_options_keys_and_environment(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for text in (
        "usage: odd-dashboard",
        "doctor",
        "--version",
        "--gateway-url",
        "--read-model-url",
        "--registry",
        "ODTO_GATEWAY_URL",
        "ODTO_READ_MODEL_URL",
        "ODTO_UI_REGISTRY",
        "ODD_DASHBOARD_LAUNCH_CMD",
        "Ctrl+P",
    ):
        assert text in out, text


def test_an_unknown_option_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--frobnicate"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --frobnicate" in capsys.readouterr().err


def test_the_console_script_runs_doctor_and_fails_without_cluster_tools(tmp_path: Path) -> None:
    """Installed entry point, real checks: free ports pass; --cluster needs docker/kind/kubectl."""
    env = {**os.environ, "PATH": str(tmp_path)}  # no docker, kubectl or kind on PATH
    for name in ("GATEWAY", "PROCESSOR", "READ_MODEL", "WEB", "METRICS_ENGINE"):
        env[f"{name}_PORT"] = str(free_port())
    local = subprocess.run([SCRIPT, "doctor"], env=env, capture_output=True, text=True, timeout=60)
    assert local.returncode == 0, local.stdout
    assert "[OK] Python:" in local.stdout
    assert "[WARN] kind: not found on PATH" in local.stdout
    cluster = subprocess.run(
        [SCRIPT, "doctor", "--cluster"], env=env, capture_output=True, text=True, timeout=60
    )
    assert cluster.returncode == 1
    assert "[FAIL] docker: not found on PATH" in cluster.stdout
    assert "[FAIL] kubectl: not found on PATH" in cluster.stdout


def test_the_console_script_prints_its_version() -> None:
    done = subprocess.run([SCRIPT, "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout.startswith(f"task-observatory {__version__}\n")
