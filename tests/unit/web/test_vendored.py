"""The vendored chart library is exactly the pinned release: each file's sha256 matches
vendor/uplot/pin.json, and THIRD-PARTY.md names the same version, licence and hashes."""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

VENDOR = resources.files("observatory.services.web").joinpath("static", "vendor", "uplot")
NOTICE = Path(__file__).resolve().parents[3] / "THIRD-PARTY.md"


def pin() -> dict[str, object]:
    document: dict[str, object] = json.loads(VENDOR.joinpath("pin.json").read_text())
    return document


def test_each_vendored_file_matches_its_pinned_sha256() -> None:
    files = pin()["files"]
    assert isinstance(files, dict)
    assert set(files) == {"uPlot.esm.js", "uPlot.min.css", "LICENSE"}
    for name, entry in files.items():
        digest = hashlib.sha256(VENDOR.joinpath(name).read_bytes()).hexdigest()
        assert digest == entry["sha256"], f"{name} is not the pinned file"


def test_the_notice_names_the_pinned_version_licence_and_hashes() -> None:
    document = pin()
    notice = NOTICE.read_text()
    assert f"## uPlot {document['version']} (MIT)" in notice
    assert str(document["integrity"]) in notice
    files = document["files"]
    assert isinstance(files, dict)
    for entry in files.values():
        assert entry["sha256"] in notice
    licence = VENDOR.joinpath("LICENSE").read_text()
    assert licence.startswith("The MIT License (MIT)")
    assert "Leon Sorokin" in licence


def test_the_served_module_is_the_pinned_version() -> None:
    header = VENDOR.joinpath("uPlot.esm.js").read_text()[:400]
    assert f"(v{pin()['version']})" in header
