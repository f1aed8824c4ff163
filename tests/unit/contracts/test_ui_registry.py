"""The UI registry: packaged entries and ports, launch URLs, override files, clear errors."""

from __future__ import annotations

import dataclasses
import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from observatory.core.contracts.registry import RegistryEntry, RegistryError, load_registry

SPEC_ENTRIES = {
    "dashboard": (8081, "/"),
    "gateway-docs": (3000, "/docs"),
    "read-model-docs": (8080, "/docs"),
    "rabbitmq": (15672, "/"),
    "grafana": (3002, "/"),
    "prometheus": (9090, "/"),
    "alertmanager": (9093, "/"),
    "jaeger": (16686, "/"),
    "pgadmin": (5050, "/"),
    "mongo-express": (8082, "/"),
    "redisinsight": (5540, "/"),
}


def write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "registry.json"
    path.write_text(json.dumps(document), "utf-8")
    return path


def small_registry(**entry: Any) -> dict[str, Any]:
    base = {"id": "grafana", "name": "Grafana", "port": 3002, "path": "/", "emoji": "📈"}
    return {
        "registryVersion": "2.0.0",
        "baseUrl": "https://observatory.example",
        "entries": [{**base, "description": "Dashboards", **entry}],
    }


def test_packaged_registry_has_the_eleven_spec_entries_and_ports() -> None:
    registry = load_registry()
    assert registry.base_url == "http://localhost"
    assert {e.id: (e.port, e.path) for e in registry.entries} == SPEC_ENTRIES
    assert all(e.name and e.emoji and e.description for e in registry.entries)


def test_launch_urls_are_base_colon_port_plus_path() -> None:
    registry = load_registry()
    assert registry.get("dashboard").url() == "http://localhost:8081/"
    assert registry.get("gateway-docs").url() == "http://localhost:3000/docs"
    assert registry.get("redisinsight").url() == "http://localhost:5540/"
    assert registry.get("read-model-docs").url("http://10.0.0.7/") == "http://10.0.0.7:8080/docs"


def test_as_dict_is_the_packaged_json() -> None:
    text = resources.files("observatory.core.contracts").joinpath("ui-registry.json").read_text()
    assert load_registry().as_dict() == json.loads(text)


def test_override_file_replaces_the_packaged_registry(tmp_path: Path) -> None:
    registry = load_registry(write(tmp_path, small_registry()))
    assert registry.version == "2.0.0"
    assert [e.id for e in registry.entries] == ["grafana"]
    assert registry.entries[0].url() == "https://observatory.example:3002/"


def test_entries_are_frozen() -> None:
    entry = load_registry().entries[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.port = 1  # type: ignore[misc]  # assigning a frozen field is what must fail
    assert RegistryEntry("x", "X", 1, "/", "", "").url() == "http://localhost:1/"


def test_unknown_entry_id_raises_key_error() -> None:
    with pytest.raises(KeyError):
        load_registry().get("kibana")


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (small_registry(port=70000), "$.entries[0].port: 70000 is greater than the maximum"),
        (small_registry(port=0), "$.entries[0].port: 0 is less than the minimum of 1"),
        (small_registry(id=""), "$.entries[0].id: '' should be non-empty"),
        ({**small_registry(), "baseUrl": "localhost"}, "$.baseUrl: 'localhost' does not match"),
        ({**small_registry(), "entries": []}, "$.entries: [] should be non-empty"),
        ([], "$: [] is not of type 'object'"),
    ],
)
def test_invalid_override_raises_with_file_and_reason(
    tmp_path: Path, document: Any, expected: str
) -> None:
    path = write(tmp_path, document)
    with pytest.raises(RegistryError) as caught:
        load_registry(path)
    assert str(path) in str(caught.value)
    assert expected in str(caught.value)


def test_duplicate_ids_are_rejected(tmp_path: Path) -> None:
    document = small_registry()
    document["entries"].append({**document["entries"][0], "port": 3003})
    with pytest.raises(RegistryError, match="duplicate entry id 'grafana' \\(2 entries\\)"):
        load_registry(write(tmp_path, document))


def test_override_that_is_not_json_says_so(tmp_path: Path) -> None:
    path = tmp_path / "registry.json"
    path.write_text("{entries: [}", "utf-8")
    with pytest.raises(RegistryError, match="not valid JSON"):
        load_registry(path)


def test_missing_override_file_says_it_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="cannot read it"):
        load_registry(tmp_path / "nope.json")
