"""The lockfiles agree: requirements-runtime.lock (what `make up` installs) is the
runtime part of requirements.lock (what `make test` adds to), at the same versions, with
none of the dev or bench tools in it; requirements-otel.lock (what the image installs) is
the runtime part with the `otel` extra, at the same versions."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def pins(lock: str) -> dict[str, str]:
    """{normalised name: version} of every `name==version` line in a lockfile."""
    found: dict[str, str] = {}
    for line in (ROOT / lock).read_text("utf-8").splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            name, version = line.split("==", 1)
            found[canonicalize_name(name.strip())] = version.split(";")[0].strip()
    return found


def declared() -> dict[str, set[str]]:
    """{"runtime" or an extra's name: normalised names of its direct requirements}."""
    table = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    groups: dict[str, list[str]] = {
        "runtime": table["dependencies"],
        **table["optional-dependencies"],
    }
    return {
        group: {canonicalize_name(Requirement(text).name) for text in requirements}
        for group, requirements in groups.items()
    }


def test_the_runtime_lock_pins_each_package_at_the_full_locks_version() -> None:
    runtime, full = pins("requirements-runtime.lock"), pins("requirements.lock")
    differing = {name: (v, full.get(name)) for name, v in runtime.items() if full.get(name) != v}
    assert not differing, f"run `make lock`: runtime vs full lock versions differ: {differing}"


def test_the_runtime_lock_holds_every_runtime_dependency_and_no_dev_or_bench_tool() -> None:
    groups = declared()
    runtime = set(pins("requirements-runtime.lock"))
    assert groups["runtime"] <= runtime
    tools = (groups["dev"] | groups["bench"]) - groups["runtime"]
    assert not tools & runtime, f"dev/bench packages in the runtime lock: {tools & runtime}"


def test_the_otel_extra_is_locked_in_full_and_leaves_the_runtime_lock_without_the_sdk() -> None:
    """Tracing is opt-in: `make up` installs no OpenTelemetry SDK or exporter (the API
    alone comes with FastAPI), while the test lock has all of the `otel` extra."""
    otel = declared()["otel"]
    runtime, full = set(pins("requirements-runtime.lock")), set(pins("requirements.lock"))
    assert otel <= full
    assert "opentelemetry-sdk" in otel
    only_otel = {name for name in otel if name != "opentelemetry-api"}
    assert not only_otel & runtime, f"tracing packages in the runtime lock: {only_otel & runtime}"


def test_the_otel_lock_is_the_runtime_lock_plus_the_otel_extra_at_the_full_locks_versions() -> None:
    runtime, otel, full = (
        pins(name)
        for name in ("requirements-runtime.lock", "requirements-otel.lock", "requirements.lock")
    )
    differing = {name: (v, full.get(name)) for name, v in otel.items() if full.get(name) != v}
    assert not differing, f"run `make lock`: otel vs full lock versions differ: {differing}"
    assert set(runtime) <= set(otel)
    assert declared()["otel"] <= set(otel)
    groups = declared()
    tools = (groups["dev"] | groups["bench"]) - groups["runtime"] - groups["otel"]
    assert not tools & set(otel), f"dev/bench packages in the otel lock: {tools & set(otel)}"
