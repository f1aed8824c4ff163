"""The local Prometheus/Alertmanager configs are the shipped ones, re-pointed and rescaled."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

from observatory.interfaces.cli.observability import assets, runner
from observatory.interfaces.cli.observability.configs import (
    Timings,
    alertmanager_config,
    format_duration,
    parse_duration,
    prometheus_config,
    scale_rules,
)

DEPLOY = assets.deploy_dir()


def shipped(path: Path) -> dict[str, Any]:
    return dict(yaml.safe_load((DEPLOY / path).read_text()))


def rules_by_name(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["alert"]: r for g in document["groups"] for r in g["rules"]}


def test_the_checkout_deploy_folder_is_found() -> None:
    assert (DEPLOY / assets.RULES).is_file()
    assert Path(__file__).resolve().parents[3] / "deploy" == DEPLOY


@pytest.mark.parametrize(
    ("text", "seconds"), [("1m", 60), ("1h30m", 5400), ("500ms", 0.5), ("15s", 15), ("2d", 172800)]
)
def test_durations_round_trip(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize("bad", ["", "5", "m5", "5 m", "1x"])
def test_bad_durations_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


def test_timescale_one_keeps_the_rules_as_shipped() -> None:
    document = shipped(assets.RULES)
    assert scale_rules(document, Timings()) == document


def test_timescale_shortens_for_and_windows_but_keeps_labels_and_annotations() -> None:
    document = shipped(assets.RULES)
    scaled = rules_by_name(scale_rules(document, Timings(1, 1, 0.05)))
    original = rules_by_name(document)

    assert scaled.keys() == original.keys()
    assert scaled["JobFailureRateHigh"]["for"] == "6s"  # 2m x 0.05
    assert scaled["ServiceDown"]["for"] == "3s"
    assert "[15s]" in scaled["JobFailureRateHigh"]["expr"]  # 5m x 0.05
    assert "[5m]" not in scaled["JobFailureRateHigh"]["expr"]
    assert "[30s]" in scaled["DeadLettersAppearing"]["expr"]  # 10m x 0.05
    for name, rule in scaled.items():
        assert rule["labels"] == original[name]["labels"]
        assert rule["annotations"] == original[name]["annotations"]
    assert rules_by_name(document)["JobFailureRateHigh"]["for"] == "2m"  # input untouched


def test_range_windows_keep_at_least_four_scrapes() -> None:
    document = {"groups": [{"name": "g", "rules": [{"alert": "A", "expr": "rate(x[1m]) > 0"}]}]}
    (rule,) = scale_rules(document, Timings(5, 5, 0.01))["groups"][0]["rules"]
    assert rule["expr"] == "rate(x[20s]) > 0"


def test_subquery_windows_are_scaled_too() -> None:
    document = {
        "groups": [{"name": "g", "rules": [{"alert": "A", "expr": "max_over_time(x[10m:1m])"}]}]
    }
    (rule,) = scale_rules(document, Timings(1, 1, 0.1))["groups"][0]["rules"]
    assert rule["expr"] == "max_over_time(x[60s:6s])"


def test_prometheus_config_scrapes_the_local_services_under_the_shipped_job_names() -> None:
    services = {
        "gateway": "http://127.0.0.1:13000",
        "processor": "http://127.0.0.1:18000",
        "extra": "https://localhost:9999/base",
    }
    config = prometheus_config(
        shipped(assets.PROMETHEUS),
        services,
        Path("/data/rules.yml"),
        "http://127.0.0.1:19093",
        Timings(2, 3, 1),
    )
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    assert list(jobs) == ["gateway", "processor", "extra"]
    assert jobs["gateway"]["static_configs"] == [{"targets": ["127.0.0.1:13000"]}]
    assert jobs["extra"]["scheme"] == "https"
    assert jobs["extra"]["metrics_path"] == "/base/metrics"
    assert config["rule_files"] == ["/data/rules.yml"]
    assert config["alerting"]["alertmanagers"][0]["static_configs"] == [
        {"targets": ["127.0.0.1:19093"]}
    ]
    assert config["global"] == {
        "scrape_interval": "2s",
        "scrape_timeout": "2s",
        "evaluation_interval": "3s",
    }


def test_prometheus_config_without_alertmanager_has_no_alerting_section() -> None:
    config = prometheus_config(
        shipped(assets.PROMETHEUS), {"web": "http://127.0.0.1:8081"}, Path("r.yml"), None, Timings()
    )
    assert "alerting" not in config


def test_alertmanager_config_sends_to_the_local_read_model_and_keeps_routing() -> None:
    original = shipped(assets.ALERTMANAGER)
    config = alertmanager_config(original, "http://127.0.0.1:18080/", Timings(1, 1, 0.01))

    (receiver,) = config["receivers"]
    assert receiver["webhook_configs"][0]["url"] == "http://127.0.0.1:18080/webhook/alerts"
    assert config["route"]["group_by"] == ["alertname", "service"]
    assert config["inhibit_rules"] == original["inhibit_rules"]
    assert config["route"]["group_wait"] == "1s"  # 30s x 0.01, never under 1 s
    assert config["route"]["group_interval"] == "3s"
    assert original["receivers"][0]["webhook_configs"][0]["url"].startswith("http://read-model:")


def test_without_prometheus_installed_the_stack_is_skipped_with_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    stack = runner.start_observability({"gateway": "http://127.0.0.1:3000"}, tmp_path)
    assert stack.status == "skipped"
    assert "apt-get install -y prometheus prometheus-alertmanager" in stack.message
    assert stack.urls == {}


def test_a_taken_port_is_reported_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "find_binary", lambda names: "/bin/true")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        stack = runner.start_observability({}, tmp_path, prometheus_port=port, alertmanager_port=0)
    assert stack.status == "error"
    assert f"port {port}" in stack.message
    assert stack.processes == []
