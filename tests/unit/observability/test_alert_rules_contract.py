"""The alert rules and scrape config keep their contract: names, labels, runbooks, metrics."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.promql import unknown_metrics

ROOT = Path(__file__).resolve().parents[3]
RULES = ROOT / "deploy/prometheus/rules/observatory.rules.yml"
PROMETHEUS = ROOT / "deploy/prometheus/prometheus.yml"
RUNBOOK = ROOT / "docs/runbook.md"

ALERTS = {
    "ServiceDown",
    "JobFailureRateHigh",
    "GatewayHighLatency",
    "QueueBacklogGrowing",
    "DatabaseUnavailable",
    "DeadLettersAppearing",
}
SCRAPE_JOBS = {
    "gateway": 3000,
    "processor": 8000,
    "metrics-engine": 8090,
    "read-model": 8080,
    "web": 8081,
}


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def runbook_anchors() -> set[str]:
    """GitHub-style anchors of the runbook's headings."""
    headings = re.findall(r"^#{1,6}\s+(.+)$", RUNBOOK.read_text(), flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings}


def test_every_required_alert_is_defined_once() -> None:
    names = [rule["alert"] for rule in rules()]
    assert sorted(names) == sorted(ALERTS)


@pytest.mark.parametrize("rule", rules(), ids=lambda r: r["alert"])
def test_rule_has_severity_service_and_annotations(rule: dict[str, Any]) -> None:
    assert rule["labels"]["severity"] in {"critical", "warning"}
    assert rule["labels"]["service"]
    for key in ("summary", "description", "runbook_url"):
        assert rule["annotations"][key].strip(), key


@pytest.mark.parametrize("rule", rules(), ids=lambda r: r["alert"])
def test_runbook_url_points_at_a_section_of_the_runbook(rule: dict[str, Any]) -> None:
    path, _, anchor = rule["annotations"]["runbook_url"].partition("#")
    assert path == "docs/runbook.md"
    assert anchor in runbook_anchors(), f"docs/runbook.md has no section #{anchor}"


@pytest.mark.parametrize("rule", rules(), ids=lambda r: r["alert"])
def test_rule_only_queries_metrics_the_services_export(rule: dict[str, Any]) -> None:
    assert unknown_metrics(rule["expr"]) == set()


def test_service_down_covers_every_scrape_job() -> None:
    (service_down,) = [r for r in rules() if r["alert"] == "ServiceDown"]
    selected = re.search(r'job=~"([^"]+)"', service_down["expr"])
    assert selected is not None
    assert set(selected.group(1).split("|")) == set(SCRAPE_JOBS)


def test_prometheus_scrapes_every_service_on_its_port() -> None:
    config = yaml.safe_load(PROMETHEUS.read_text())
    jobs = {
        job["job_name"]: [t for sc in job["static_configs"] for t in sc["targets"]]
        for job in config["scrape_configs"]
    }
    assert jobs == {name: [f"{name}:{port}"] for name, port in SCRAPE_JOBS.items()}
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == [
        "alertmanager:9093"
    ]


def test_every_alert_has_promtool_cases_that_fire_it_and_keep_it_quiet() -> None:
    fired: set[str] = set()
    quiet: set[str] = set()
    for path in (ROOT / "tests/integration/observability").glob("*_test.yml"):
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (fired if check["exp_alerts"] else quiet).add(check["alertname"])
    assert fired == ALERTS
    assert quiet == ALERTS
