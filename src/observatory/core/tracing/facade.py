"""`Tracing`: the one object the composition root holds for traces.

Off (the default, nothing asked for) it imports no OpenTelemetry SDK and hands the bus no
tracer, so the hot path pays one attribute check. On (OTEL_EXPORTER_OTLP_ENDPOINT,
OTEL_TRACES_EXPORTER or ODTO_TRACE_FILE set; see TracingSettings) it owns a tracer
provider, hands each bus a tracer for its messaging system, installs the services' span
source (spans.py), and flushes on shutdown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from observatory.core.bus.tracing import BusTracer
from observatory.core.errors import ConfigurationError
from observatory.core.settings import TracingSettings
from observatory.core.tracing import spans

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

INSTRUMENTATION = "observatory"
INSTALL_HINT = "install task-observatory[otel] (pip install 'task-observatory[otel]')"


class Tracing:
    """Traces on (over `provider`) or off (`Tracing()`)."""

    def __init__(self, provider: TracerProvider | None = None) -> None:
        self.provider = provider

    @classmethod
    def from_settings(
        cls, settings: TracingSettings, *, service: str, install_global: bool = False
    ) -> Tracing:
        """Off unless `settings` ask for traces; then on, named `service` unless
        OTEL_SERVICE_NAME says otherwise, and (`install_global`) the process's global
        tracer provider, which instrumentation libraries use.

        Not global by default: FastAPI traces every route of its own once a global
        provider is set, /healthz, /readyz and /metrics included, which must stay out of
        the traces; the services choose their routes first (phase 2, docs/tracing.md).

        Raises ConfigurationError when traces are asked for without the `otel` extra.
        """
        if not settings.requested:
            return cls()
        try:
            from observatory.core.tracing.provider import build_provider
        except ImportError as exc:
            raise ConfigurationError(
                f"tracing is configured (OTEL_* or ODTO_TRACE_FILE) but OpenTelemetry is "
                f"not installed ({exc.name}): {INSTALL_HINT}"
            ) from exc
        from observatory.core.tracing.otel_spans import OtelSpans

        provider = build_provider(settings, service=service)
        spans.install(OtelSpans(provider.get_tracer(INSTRUMENTATION)))
        if install_global:
            from opentelemetry import trace

            trace.set_tracer_provider(provider)
        return cls(provider)

    @property
    def enabled(self) -> bool:
        return self.provider is not None

    def bus(self, system: str) -> BusTracer | None:
        """The tracer for a bus of messaging `system` (rabbitmq | embedded); None when off."""
        if self.provider is None:
            return None
        from observatory.core.tracing.bus import OtelBusTracer

        return OtelBusTracer(self.provider.get_tracer(INSTRUMENTATION), system)

    def shutdown(self) -> None:
        """Export what is pending and stop (no-op when off)."""
        if self.provider is not None:
            spans.install(None)
            self.provider.shutdown()
