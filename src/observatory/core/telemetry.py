"""Logging (structlog: JSON outside a TTY) and per-service Prometheus registries."""

from __future__ import annotations

import logging
import sys

import structlog
from prometheus_client import (
    CollectorRegistry,
    Gauge,
    GCCollector,
    Info,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)

from observatory.__about__ import __version__
from observatory.core.tracing.spans import current_ids


def add_trace_ids(
    _: object, __: str, event: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    """`trace_id` and `span_id` in a line logged inside a sampled trace (tracing on)."""
    ids = current_ids()
    if ids is not None:
        event.setdefault("trace_id", ids[0])
        event.setdefault("span_id", ids[1])
    return event


def configure_logging(level: str = "info") -> None:
    """One canonical line per event; JSON when stdout is not a terminal."""
    renderer: structlog.typing.Processor = (
        structlog.dev.ConsoleRenderer()
        if sys.stderr.isatty()
        else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            add_trace_ids,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )


class ServiceMetrics:
    """A registry of one service: build info, dependency gauges, process metrics."""

    def __init__(self, service: str) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # unannotated in prometheus_client; *_created series add nothing here
        self.service = service
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        info = Info("odto_build", "Build information of the service", registry=self.registry)
        info.info({"service": service, "version": __version__})
        self.dependency_up = Gauge(
            "odto_dependency_up",
            "1 when the dependency answered the last check, else 0",
            ["dependency"],
            registry=self.registry,
        )
