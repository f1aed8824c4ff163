"""Generate the local Prometheus and Alertmanager configuration from the shipped files.

Only what differs on a laptop is replaced: scrape targets (the local services' host:port),
the rule file's path, the Alertmanager and webhook addresses, and the timings. Everything
else (jobs, rules, labels, routes, inhibitions) comes unchanged from `deploy/`.

`Timings.timescale` shortens every rule's `for`, range window and Alertmanager grouping
delay by the same factor, so a test or demo sees in seconds what production sees in
minutes. Range windows never shrink below four scrape intervals (a rate needs samples).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_UNITS["y"] = 365 * _UNITS["d"]
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")
_RANGE = re.compile(r"\[(\d[0-9a-z]*)(?::(\d[0-9a-z]*)?)?\]")
WEBHOOK_PATH = "/webhook/alerts"


@dataclass(frozen=True)
class Timings:
    """How often to scrape and evaluate (seconds) and how much to shorten rule timings."""

    scrape_interval: float = 15.0
    evaluation_interval: float = 15.0
    timescale: float = 1.0

    def __post_init__(self) -> None:
        if self.scrape_interval <= 0 or self.evaluation_interval <= 0:
            raise ValueError("intervals must be positive")
        if not 0 < self.timescale <= 1:
            raise ValueError("timescale must be in (0, 1]")


def parse_duration(text: str) -> float:
    """Seconds in a Prometheus duration such as `1m`, `1h30m` or `500ms`."""
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a Prometheus duration: {text!r}")
    return sum(float(n) * _UNITS[u] for n, u in parts)


def format_duration(seconds: float) -> str:
    """A Prometheus duration for `seconds`, in whole seconds when exact, else milliseconds."""
    millis = max(0, round(seconds * 1000))
    return f"{millis // 1000}s" if millis % 1000 == 0 else f"{millis}ms"


def _scaled(text: str, factor: float, floor: float) -> str:
    return format_duration(max(floor, parse_duration(text) * factor))


def scale_rules(rules: Mapping[str, Any], timings: Timings) -> dict[str, Any]:
    """A copy of a rule file with `for` and range windows scaled by `timings.timescale`."""
    document = copy.deepcopy(dict(rules))
    if timings.timescale == 1:
        return document
    window_floor = 4 * timings.scrape_interval

    def window(match: re.Match[str]) -> str:
        scaled = _scaled(match.group(1), timings.timescale, window_floor)
        if match.group(2) is None:
            return f"[{scaled}]" if ":" not in match.group(0) else f"[{scaled}:]"
        step = _scaled(match.group(2), timings.timescale, timings.scrape_interval)
        return f"[{scaled}:{step}]"

    for group in document.get("groups", []):
        for rule in group.get("rules", []):
            rule["expr"] = _RANGE.sub(window, str(rule["expr"]))
            if "for" in rule:
                rule["for"] = _scaled(str(rule["for"]), timings.timescale, 0)
    return document


def host_port(url: str) -> str:
    """`host:port` of an http(s) URL, with the scheme's default port when none is given."""
    parsed = urlparse(url)
    if not parsed.hostname:
        raise ValueError(f"not a URL with a host: {url!r}")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return f"{parsed.hostname}:{port}"


def _scrape_job(base: Mapping[str, Any], name: str, url: str) -> dict[str, Any]:
    job = {k: v for k, v in base.items() if k not in {"static_configs", "scheme"}}
    job["job_name"] = name
    parsed = urlparse(url)
    if parsed.scheme == "https":
        job["scheme"] = "https"
    if parsed.path.strip("/"):
        job["metrics_path"] = parsed.path.rstrip("/") + "/metrics"
    job["static_configs"] = [{"targets": [host_port(url)]}]
    return job


def prometheus_config(
    shipped: Mapping[str, Any],
    services: Mapping[str, str],
    rule_file: Path,
    alertmanager_url: str | None,
    timings: Timings,
) -> dict[str, Any]:
    """The local Prometheus config: the shipped jobs pointed at `services` (name -> URL).

    Shipped jobs without a local URL are left out; local services the shipped file does
    not know get a job of their own name.
    """
    config = copy.deepcopy(dict(shipped))
    scrape = format_duration(timings.scrape_interval)
    timeout = min(timings.scrape_interval, parse_duration(config["global"]["scrape_timeout"]))
    config["global"].update(
        scrape_interval=scrape,
        scrape_timeout=format_duration(timeout),
        evaluation_interval=format_duration(timings.evaluation_interval),
    )
    config["rule_files"] = [str(rule_file)]
    if alertmanager_url:
        config["alerting"] = {
            "alertmanagers": [{"static_configs": [{"targets": [host_port(alertmanager_url)]}]}]
        }
    else:
        config.pop("alerting", None)
    known = {job["job_name"]: job for job in config.get("scrape_configs", [])}
    config["scrape_configs"] = [
        _scrape_job(known.get(name, {}), name, url) for name, url in services.items()
    ]
    return config


def _scale_route(route: dict[str, Any], timings: Timings) -> None:
    for key in ("group_wait", "group_interval", "repeat_interval"):
        if key in route:
            route[key] = _scaled(str(route[key]), timings.timescale, 1.0)
    for child in route.get("routes", []):
        _scale_route(child, timings)


def alertmanager_config(
    shipped: Mapping[str, Any],
    read_model_url: str | None,
    timings: Timings,
    token_file: Path | None = None,
) -> dict[str, Any]:
    """The local Alertmanager config: webhooks to the local read model, timings scaled.

    The read-model webhooks send the bearer token read from `token_file` (the local
    ODTO_API_TOKEN); without one they send no Authorization header at all, since the
    shipped config's token file exists only in a container.
    """
    config = copy.deepcopy(dict(shipped))
    for receiver in config.get("receivers", []):
        for hook in receiver.get("webhook_configs", []):
            if not str(hook.get("url", "")).endswith(WEBHOOK_PATH):
                continue
            if read_model_url:
                hook["url"] = read_model_url.rstrip("/") + WEBHOOK_PATH
            http_config = hook.setdefault("http_config", {})
            if token_file is not None:
                http_config["authorization"] = {
                    "type": "Bearer",
                    "credentials_file": str(token_file),
                }
            else:
                http_config.pop("authorization", None)
            if not http_config:
                del hook["http_config"]
    if timings.timescale != 1:
        _scale_route(config["route"], timings)
    return config
