"""The hint and remediation steps shown when setup fails, read from the error message."""

from __future__ import annotations

import pytest

from observatory.interfaces.tui.hints import diagnose


def test_docker_not_running_says_so_and_how_to_start_it_per_platform() -> None:
    message = "Docker is not running: cannot connect to the Docker daemon"
    linux = diagnose(message, "linux")
    assert linux.hint == "Docker is not running"
    assert any("systemctl start docker" in step for step in linux.steps)
    assert any("open -a Docker" in step for step in diagnose(message, "darwin").steps)
    assert any("Docker Desktop" in step for step in diagnose(message, "win32").steps)


def test_docker_missing_is_told_apart_from_docker_stopped() -> None:
    assert diagnose("docker: command not found", "linux").hint == "Docker is not installed"


@pytest.mark.parametrize("tool", ["kind", "kubectl"])
def test_a_missing_cluster_tool_gets_install_steps(tool: str) -> None:
    result = diagnose(f"{tool} not found on PATH", "darwin")
    assert result.hint == f"The '{tool}' tool is not installed"
    assert any(f"brew install {tool}" in step for step in result.steps)
    assert any("winget" in step for step in diagnose(f"{tool} not found", "win32").steps)


def test_port_in_use_names_the_ports_from_the_message() -> None:
    result = diagnose("Cannot bind 127.0.0.1:8081: port 8081 is already in use", "linux")
    assert result.hint == "A required port is already in use by another program"
    assert result.steps[0] == "Find it: lsof -i :8081"
    assert len([s for s in result.steps if s.startswith("Find it")]) == 1


def test_pythons_address_in_use_error_counts_as_a_port_conflict() -> None:
    message = (
        "[Errno 98] error while attempting to bind on address ('127.0.0.1', 3000): "
        "address already in use"
    )
    result = diagnose(message, "linux")
    assert result.hint == "A required port is already in use by another program"
    assert result.steps[0] == "Find it: lsof -i :3000"
    assert not any(":98" in step for step in result.steps)


def test_port_in_use_without_a_number_lists_the_default_ports_and_windows_uses_netstat() -> None:
    result = diagnose("a port is already in use", "win32")
    assert result.steps[:3] == (
        "Find it: netstat -ano | findstr :3000",
        "Find it: netstat -ano | findstr :8080",
        "Find it: netstat -ano | findstr :8081",
    )


def test_timeouts_suggest_retrying() -> None:
    result = diagnose("Timed out waiting for the read model to answer", "linux")
    assert "timed out" in result.hint
    assert any("retry" in step for step in result.steps)


def test_permission_problems_are_platform_specific() -> None:
    assert "docker group" in diagnose("permission denied on docker.sock", "linux").steps[0]
    assert "Administrator" in diagnose("Access denied", "win32").steps[0]
    assert "writable" in diagnose("Permission denied: '.odto/jobs.db'", "linux").steps[0]


def test_anything_else_gets_generic_advice() -> None:
    result = diagnose("something odd happened", "linux")
    assert result.hint == "An error occurred during setup"
    assert any("odd-dashboard doctor" in step for step in result.steps)
