"""Tracing is off unless the standard OTEL_* variables or ODTO_TRACE_FILE ask for it; when
asked for, the SDK's own variables (sampler, service name) are honoured, and without the
`otel` extra the start fails with a message that says what to install."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from tests.waiting import wait_until_async

from observatory.core.backends import make_bus
from observatory.core.bus.port import Delivery, Outcome, Outgoing
from observatory.core.bus.topology import JOBS_CREATED
from observatory.core.errors import ConfigurationError
from observatory.core.settings import Backends, TracingSettings
from observatory.core.tracing.facade import Tracing

pytestmark = pytest.mark.unit

SWITCHES = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_TRACES_EXPORTER",
    "OTEL_SDK_DISABLED",
    "OTEL_SERVICE_NAME",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "ODTO_TRACE_FILE",
)


@pytest.fixture(autouse=True)
def no_tracing_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SWITCHES:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("environment", "requested", "exporters"),
    [
        ({}, False, ()),  # nothing set: off
        ({"OTEL_SERVICE_NAME": "x"}, False, ()),  # a name alone asks for nothing
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True, ("otlp",)),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, True, ("otlp",)),
        ({"OTEL_TRACES_EXPORTER": "console"}, True, ("console",)),
        ({"OTEL_TRACES_EXPORTER": "otlp, console"}, True, ("otlp", "console")),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c"}, False, ()),
        ({"ODTO_TRACE_FILE": "spans.jsonl"}, True, ()),
        ({"ODTO_TRACE_FILE": "", "OTEL_EXPORTER_OTLP_ENDPOINT": ""}, False, ()),  # set empty
        ({"ODTO_TRACE_FILE": "spans.jsonl", "OTEL_SDK_DISABLED": "true"}, False, ()),
    ],
)
def test_what_asks_for_traces(
    monkeypatch: pytest.MonkeyPatch,
    environment: dict[str, str],
    requested: bool,
    exporters: tuple[str, ...],
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = TracingSettings()
    assert (settings.requested, settings.exporter_names()) == (requested, exporters)


def test_off_hands_the_bus_no_tracer() -> None:
    tracing = Tracing.from_settings(TracingSettings(), service="gateway")
    assert not tracing.enabled
    assert tracing.bus("embedded") is None
    tracing.shutdown()  # nothing to flush, no error


async def test_an_untraced_bus_adds_no_trace_headers(tmp_path: Path) -> None:
    bus = make_bus(Backends(data_dir=tmp_path))
    got: list[Delivery] = []

    async def handler(batch: Sequence[Delivery]) -> list[Outcome]:
        got.extend(batch)
        return [Outcome.ACK] * len(batch)

    await bus.open()
    try:
        await bus.consume(JOBS_CREATED, handler, prefetch=1, batch_size=1)
        await bus.publish_many([Outgoing("job.created", b"{}", {"x-attempt": 1})])
        await wait_until_async(lambda: got, message="the delivery")
    finally:
        await bus.close()
    assert dict(got[0].headers) == {"x-attempt": 1}


def spans_in(path: Path) -> list[tuple[str, str]]:
    """(service.name, span name) of every span in an OTLP JSON lines file."""
    found = []
    for line in path.read_text().splitlines():
        for resource in json.loads(line)["resourceSpans"]:
            service = next(
                a["value"]["stringValue"]
                for a in resource["resource"]["attributes"]
                if a["key"] == "service.name"
            )
            found += [(service, s["name"]) for r in resource["scopeSpans"] for s in r["spans"]]
    return found


async def test_a_trace_file_receives_the_bus_spans_under_the_service_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ODTO_TRACE_FILE", str(tmp_path / "spans.jsonl"))
    tracing = Tracing.from_settings(TracingSettings(), service="gateway", install_global=False)
    bus = make_bus(Backends(data_dir=tmp_path), tracing)
    await bus.open()
    try:
        await bus.publish_many([Outgoing("job.created", b"{}")])
    finally:
        await bus.close()
    tracing.shutdown()
    assert spans_in(tmp_path / "spans.jsonl") == [("gateway", "publish observatory.events")]


def test_otel_service_name_and_the_sdks_sampler_are_honoured(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "spans.jsonl"
    monkeypatch.setenv("ODTO_TRACE_FILE", str(path))
    monkeypatch.setenv("OTEL_SERVICE_NAME", "my-gateway")
    tracing = Tracing.from_settings(TracingSettings(), service="gateway", install_global=False)
    assert tracing.provider is not None
    tracing.provider.get_tracer("t").start_span("kept").end()
    tracing.shutdown()
    assert spans_in(path) == [("my-gateway", "kept")]

    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_off")
    path.unlink()
    tracing = Tracing.from_settings(TracingSettings(), service="gateway", install_global=False)
    assert tracing.provider is not None
    tracing.provider.get_tracer("t").start_span("sampled out").end()
    tracing.shutdown()
    assert not path.exists() or spans_in(path) == []


def test_an_unknown_exporter_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "zipkin")
    with pytest.raises(ConfigurationError, match="'zipkin' is not one of otlp, console, none"):
        Tracing.from_settings(TracingSettings(), service="gateway", install_global=False)


def test_asking_for_traces_without_the_extra_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ODTO_TRACE_FILE", os.fspath(tmp_path / "spans.jsonl"))
    monkeypatch.delitem(sys.modules, "observatory.core.tracing.provider", raising=False)
    for module in [m for m in sys.modules if m.startswith("opentelemetry.sdk")]:
        monkeypatch.setitem(sys.modules, module, None)  # as if the extra were not installed
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk", None)
    with pytest.raises(ConfigurationError, match=r"install task-observatory\[otel\]"):
        Tracing.from_settings(TracingSettings(), service="gateway", install_global=False)
