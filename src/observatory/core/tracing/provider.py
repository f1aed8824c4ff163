"""The OpenTelemetry SDK set up from TracingSettings: resource, sampler, exporters.

Loaded only when tracing is asked for. The SDK reads the details of what was asked for
itself: OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG (the sampler), the OTLP exporter's
endpoint, headers and timeout, OTEL_RESOURCE_ATTRIBUTES.
"""

from __future__ import annotations

from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)

from observatory.core.errors import ConfigurationError
from observatory.core.settings import TracingSettings
from observatory.core.tracing.file_exporter import OtlpJsonLinesExporter
from observatory.core.tracing.sampling import PresetIds


def _exporter(name: str) -> SpanExporter:
    if name == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    if name == "console":
        return ConsoleSpanExporter()
    raise ConfigurationError(f"OTEL_TRACES_EXPORTER {name!r} is not one of otlp, console, none")


def build_provider(settings: TracingSettings, *, service: str) -> TracerProvider:
    """A tracer provider exporting where `settings` say, its spans named `service` unless
    OTEL_SERVICE_NAME names them."""
    resource = Resource.create({SERVICE_NAME: settings.service_name or service})
    # sampler: OTEL_TRACES_SAMPLER[_ARG]; ids: a request's sampling is decided before its
    # span starts (sampling.py)
    provider = TracerProvider(resource=resource, id_generator=PresetIds())
    exporters = [_exporter(name) for name in settings.exporter_names()]
    if settings.trace_file is not None:
        exporters.append(OtlpJsonLinesExporter(settings.trace_file))
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider
