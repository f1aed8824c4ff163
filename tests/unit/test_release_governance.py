"""What a release promises outside the code: the version is the one of
`observatory/__about__.py` everywhere it is written (image tags in compose and
Kubernetes, install.sh, the docs); the original system's names are gone; the artifact
and command names are the ones docs/distribution.md documents. Pure file reading."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from observatory import __version__

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = {".git", ".venv", "dist", "build", "test-artifacts", "__snapshots__",
                "node_modules"}  # fmt: skip
TEXT_SUFFIXES = {".py", ".md", ".yml", ".yaml", ".toml", ".json", ".sh", ".html", ".js",
                 ".css", ".txt", ".example", ".env", ".cfg", ".ini"}  # fmt: skip
TEXT_NAMES = {"Dockerfile", "Makefile", "run", ".dockerignore", ".gitignore"}
# CHANGELOG.md names every past version on purpose; this file names the old names.
HISTORY = {ROOT / "CHANGELOG.md", Path(__file__).resolve()}

# Any release version written beside the distribution's name: `task-observatory:1.0.0`
# (image), `task-observatory==1.0.0` (pip), `task_observatory-1.0.0...` (artifacts).
VERSIONED_NAME = re.compile(
    r"task[-_]observatory(?::|==|-)v?(?P<version>\d+(?:\.\d+)+(?:[a-z]+\d+)?)"
)


def text_files() -> list[Path]:
    """The repository's own text files (no virtualenv, build output or git internals)."""
    found = []
    for path in ROOT.rglob("*"):
        relative = path.relative_to(ROOT)
        if any(part in SKIPPED_DIRS or part.endswith("_cache") for part in relative.parts):
            continue
        if path.is_file() and (path.suffix in TEXT_SUFFIXES or path.name in TEXT_NAMES):
            found.append(path)
    return found


@pytest.fixture(scope="module")
def texts() -> dict[Path, str]:
    return {path: path.read_text("utf-8", errors="replace") for path in text_files()}


def test_every_version_written_beside_the_name_is_the_package_version(
    texts: dict[Path, str],
) -> None:
    """Image tags, pip pins and artifact names in any file, docs and deploy/ included."""
    seen: dict[str, set[str]] = {}
    for path, text in texts.items():
        if path in HISTORY:
            continue
        for match in VERSIONED_NAME.finditer(text):
            seen.setdefault(match["version"], set()).add(str(path.relative_to(ROOT)))
    others = {version: files for version, files in seen.items() if version != __version__}
    assert not others, f"versions other than {__version__}: {others}"
    places = seen.get(__version__, set())
    for expected in (
        "deploy/compose/compose.yml",
        "deploy/compose/compose.demo.yml",
        "deploy/k8s/base/services/gateway.yaml",
        "deploy/docker/Dockerfile",
        "deploy/README.md",
        "docs/distribution.md",
    ):
        assert expected in places, f"{expected} no longer names task-observatory {__version__}"


@pytest.mark.parametrize(
    ("relative", "pattern"),
    [
        # compose passes the version to the image's label
        ("deploy/compose/compose.yml", r"^\s+VERSION: (\S+)$"),
        ("deploy/compose/compose.demo.yml", r"^\s+VERSION: (\S+)$"),
        # kustomize retags the image for kind; each workload carries the version label
        ("deploy/k8s/overlays/kind/kustomization.yaml", r"^\s+newTag: (\S+)$"),
        ("deploy/k8s/base/services/gateway.yaml", r'app\.kubernetes\.io/version: "([^"]+)"'),
        ("deploy/k8s/base/services/processor.yaml", r'app\.kubernetes\.io/version: "([^"]+)"'),
        (
            "deploy/k8s/base/services/metrics-engine.yaml",
            r'app\.kubernetes\.io/version: "([^"]+)"',
        ),
        ("deploy/k8s/base/services/read-model.yaml", r'app\.kubernetes\.io/version: "([^"]+)"'),
        ("deploy/k8s/base/services/web.yaml", r'app\.kubernetes\.io/version: "([^"]+)"'),
        # what install.sh installs when ODTO_VERSION is not set
        ("install.sh", r'^PINNED_VERSION="([^"]+)"'),
    ],
)
def test_version_fields_hold_the_package_version(relative: str, pattern: str) -> None:
    text = (ROOT / relative).read_text("utf-8")
    values = re.findall(pattern, text, re.MULTILINE)
    assert values, f"{relative}: found no {pattern}"
    assert set(values) == {__version__}, f"{relative}: {values}, the package is {__version__}"


# The original system (odd-demonstration, a Rust TUI, PowerShell scripts, docker-compose
# files under infra/) left names a reader would follow to nothing. The "oddessentials.com"
# branding stays on purpose (SPEC: same branding in the TUI and the web dashboard).
OLD_NAMES = {
    "odd-demonstration": "the original repository",
    "start-all.ps1": "the original start script",
    "cargo run": "the original Rust TUI",
    "docker-compose.yml": "the original compose file name (ours: deploy/compose/compose.yml)",
    "ODTO_PROJECT_ROOT": "the original TUI's project-root lookup",
    "SUPPORT_MATRIX": "the original support-matrix document",
}
# Where an old name is mentioned to say it is old.
OLD_NAME_ALLOWED = {
    ("src/observatory/core/contracts/VERSIONS.md", "odd-demonstration"),
}


def test_no_leftover_names_of_the_original_system(texts: dict[Path, str]) -> None:
    leftovers = []
    for path, text in texts.items():
        relative = str(path.relative_to(ROOT))
        if path in HISTORY:
            continue
        for name, what in OLD_NAMES.items():
            if name in text and (relative, name) not in OLD_NAME_ALLOWED:
                leftovers.append(f"{relative}: {name} ({what})")
    assert not leftovers, "\n".join(leftovers)


def project() -> dict[str, object]:
    table: dict[str, object] = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))[
        "project"
    ]
    return table


def test_the_artifact_names_are_the_ones_documented_and_installed() -> None:
    """Wheel and sdist names follow the packaging spec for the project's name; the docs
    list them and install.sh downloads that wheel."""
    name = project()["name"]
    assert isinstance(name, str)
    stem = re.sub(r"[-_.]+", "_", name).lower()
    wheel = f"{stem}-{__version__}-py3-none-any.whl"
    sdist = f"{stem}-{__version__}.tar.gz"
    docs = (ROOT / "docs" / "distribution.md").read_text("utf-8")
    assert f"`{wheel}`" in docs
    assert f"`{sdist}`" in docs
    assert "`SHA256SUMS`" in docs
    script = (ROOT / "install.sh").read_text("utf-8")
    assert f'wheel="{stem}-$VERSION-py3-none-any.whl"' in script


def test_the_commands_are_the_ones_documented() -> None:
    scripts = project()["scripts"]
    assert isinstance(scripts, dict)
    assert set(scripts) == {"odto", "odd-dashboard"}
    docs = (ROOT / "docs" / "distribution.md").read_text("utf-8")
    for command in scripts:
        assert f"`{command}`" in docs, f"docs/distribution.md does not name `{command}`"
