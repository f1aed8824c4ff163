"""The metric names the services export (SPEC §5) and a reader of PromQL metric names.

Alert rules and dashboards may only query these names: a query on a metric nobody
exports is how the original system ended up with alerts that could never fire.
"""

from __future__ import annotations

import re

EXPORTED_METRICS = frozenset(
    {
        # gateway
        "gateway_jobs_submitted_total",
        "gateway_jobs_accepted_total",
        "gateway_http_request_duration_seconds",
        # read model
        "read_model_http_request_duration_seconds",
        # processor
        "processor_jobs_processed_total",
        "processor_jobs_completed_total",
        "processor_jobs_failed_total",
        "processor_jobs_validation_failed_total",
        "processor_jobs_retried_total",
        "processor_jobs_in_progress",
        "processor_job_processing_seconds",
        "processor_job_latency_seconds",
        "processor_queue_depth",
        # metrics engine
        "metrics_engine_events_processed_total",
        "metrics_engine_events_duplicate_total",
        "metrics_engine_validation_failed_total",
        "metrics_engine_event_lag_seconds",
        "metrics_engine_dead_letters_total",
        # every service
        "odto_dependency_up",
        "odto_build_info",
        "process_resident_memory_bytes",
        "process_virtual_memory_bytes",
        "process_cpu_seconds_total",
        "process_open_fds",
        "process_start_time_seconds",
        # made by Prometheus itself
        "up",
        "scrape_duration_seconds",
        "ALERTS",
    }
)

HISTOGRAMS = frozenset(
    {
        "gateway_http_request_duration_seconds",
        "read_model_http_request_duration_seconds",
        "processor_job_processing_seconds",
        "processor_job_latency_seconds",
        "metrics_engine_event_lag_seconds",
    }
)

_KEYWORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset"}
    | {"and", "or", "unless", "inf", "nan"}
)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENT = re.compile(r"(?<![\w:.$])([A-Za-z_:][A-Za-z0-9_:]*)(?![\w:])(\s*\()?")


def metric_names(expr: str) -> set[str]:
    """Names of the series an expression selects (function names and labels excluded)."""
    text = _STRING.sub('""', expr)
    text = re.sub(r"\{[^}]*\}", "{}", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "[]", text)  # range and subquery windows
    text = _GROUPING.sub(" ", text)
    text = re.sub(r"\$\{?\w+\}?", " ", text)  # Grafana variables such as $__rate_interval
    names = set()
    for match in _IDENT.finditer(text):
        name, call = match.group(1), match.group(2)
        if call or name.lower() in _KEYWORDS:
            continue
        names.add(name)
    return names


def base_metric(name: str) -> str:
    """The exported metric a series name belongs to (`x_bucket` → `x` for histograms)."""
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name[: -len(suffix)] in HISTOGRAMS:
            return name[: -len(suffix)]
    return name


def unknown_metrics(expr: str) -> set[str]:
    """Metric names in `expr` that no service exports."""
    return {n for n in metric_names(expr) if base_metric(n) not in EXPORTED_METRICS}
