"""promtool and amtool accept the shipped configs, and every alert rule passes its unit tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).parent
RULE_TESTS = sorted(HERE.glob("*_test.yml"))


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def test_prometheus_config_is_valid(promtool: str) -> None:
    result = run(promtool, "check", "config", str(ROOT / "deploy/prometheus/prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_rules_are_valid(promtool: str) -> None:
    result = run(
        promtool, "check", "rules", str(ROOT / "deploy/prometheus/rules/observatory.rules.yml")
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 6 rules found" in result.stdout


def test_rule_tests_exist() -> None:
    assert RULE_TESTS, "no *_test.yml next to this file"


@pytest.mark.parametrize("rule_test", RULE_TESTS, ids=lambda p: p.name)
def test_every_alert_fires_and_stays_quiet_as_its_unit_tests_say(
    promtool: str, rule_test: Path
) -> None:
    result = run(promtool, "test", "rules", str(rule_test))
    assert result.returncode == 0, result.stdout + result.stderr


def test_alertmanager_config_is_valid(amtool: str) -> None:
    result = run(amtool, "check-config", str(ROOT / "deploy/alertmanager/alertmanager.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_alertmanager_routes_by_alert_and_service_to_the_read_model(amtool: str) -> None:
    config = str(ROOT / "deploy/alertmanager/alertmanager.yml")
    result = run(
        amtool,
        "config",
        "routes",
        "test",
        "--config.file",
        config,
        "--verify.receivers=read-model",
        "alertname=ServiceDown",
        "service=processor",
        "severity=critical",
    )
    assert result.returncode == 0, result.stdout + result.stderr
