"""Grafana provisioning: the Prometheus datasource with a fixed uid, dashboards that only
use it and only query metrics the services export; the Jaeger datasource its exemplars
link to, and latency panels that show them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.promql import unknown_metrics

ROOT = Path(__file__).resolve().parents[3]
GRAFANA = ROOT / "deploy/grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))


def datasource(name: str = "prometheus") -> dict[str, Any]:
    path = GRAFANA / f"provisioning/datasources/{name}.yml"
    (source,) = yaml.safe_load(path.read_text())["datasources"]
    return dict(source)


def load(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel, including those nested in collapsed rows."""
    found = []
    for panel in dashboard["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found


def test_datasource_is_prometheus_with_the_fixed_uid() -> None:
    source = datasource()
    assert source["uid"] == "prometheus"
    assert source["type"] == "prometheus"
    assert source["url"] == "http://prometheus:9090"


def test_prometheus_exemplars_link_to_the_provisioned_jaeger() -> None:
    jaeger = datasource("jaeger")
    assert (jaeger["uid"], jaeger["type"]) == ("jaeger", "jaeger")
    assert jaeger["url"] == "http://jaeger:16686"
    (link,) = datasource()["jsonData"]["exemplarTraceIdDestinations"]
    assert link == {"name": "trace_id", "datasourceUid": "jaeger"}  # the label we export


EXEMPLARS = {  # histograms observed inside a trace, so their buckets carry a trace_id
    "processor_job_latency_seconds_bucket",
    "processor_job_processing_seconds_bucket",
    "gateway_http_request_duration_seconds_bucket",
    "read_model_http_request_duration_seconds_bucket",
}


def test_latency_panels_of_traced_histograms_show_exemplars() -> None:
    shown = set()
    for path in DASHBOARDS:
        for panel in panels(load(path)):
            for target in panel.get("targets", []):
                traced = [m for m in EXEMPLARS if m in target.get("expr", "")]
                if traced and panel["type"] == "timeseries":
                    assert target.get("exemplar") is True, (path.name, panel["title"])
                    shown.update(traced)
    assert shown == EXEMPLARS


def test_the_four_dashboards_exist_with_unique_uids_and_titles() -> None:
    boards = [load(p) for p in DASHBOARDS]
    uids = [b["uid"] for b in boards]
    titles = [b["title"] for b in boards]
    assert sorted(uids) == [
        "odto-job-sla",
        "odto-overview",
        "odto-queue-health",
        "odto-service-health",
    ]
    assert len(set(titles)) == len(titles)


def test_dashboards_are_loaded_from_the_mounted_repository_folder() -> None:
    (path,) = (GRAFANA / "provisioning/dashboards").glob("*.yml")
    (provider,) = yaml.safe_load(path.read_text())["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
    assert provider["allowUiUpdates"] is False


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_panel_uses_the_provisioned_datasource(path: Path) -> None:
    uid = datasource()["uid"]
    for panel in panels(load(path)):
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": uid}, panel["title"]
        assert panel["targets"], f"{panel['title']} has no query"
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == uid, panel["title"]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_query_reads_only_exported_metrics(path: Path) -> None:
    for panel in panels(load(path)):
        for target in panel.get("targets", []):
            assert unknown_metrics(target["expr"]) == set(), f"{panel['title']}: {target['expr']}"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_panel_ids_are_unique_and_panels_fit_the_grid(path: Path) -> None:
    board = load(path)
    ids = [p["id"] for p in panels(board)]
    assert len(set(ids)) == len(ids)
    for panel in panels(board):
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]


def test_unknown_metric_in_a_query_is_caught() -> None:
    # The check that guards the dashboards must see a metric nobody exports (the original
    # dashboard read `nodejs_eventloop_lag_seconds` and a `kubernetes-pods` job).
    assert unknown_metrics("max(nodejs_eventloop_lag_seconds)") == {"nodejs_eventloop_lag_seconds"}
    assert unknown_metrics('rate(gateway_jobs_accepted_total{job="x"}[5m])') == set()
