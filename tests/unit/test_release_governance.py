"""What a release promises outside the code: the version is the one of
`observatory/__about__.py` everywhere it is written (image tags in compose and
Kubernetes, install.sh, the docs); the original system's names are gone; the artifact
and command names are the ones docs/distribution.md documents. Pure file reading."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from release.gate import expected_names

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


# --- the GitHub workflows ----------------------------------------------------------------

WORKFLOWS = ROOT / ".github" / "workflows"
PYTHONS = ["3.11", "3.12", "3.13"]
PINNED_USES = re.compile(
    r"^\s*(?:-\s+)?uses:\s+(?P<action>[\w.-]+/[\w./-]+)@(?P<ref>\S+)(?P<rest>.*)$"
)


def workflow(name: str) -> dict[str, Any]:
    loaded: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text("utf-8"))
    loaded["on"] = loaded.pop(True, loaded.get("on"))  # YAML 1.1 reads the key `on` as True
    return loaded


def workflow_names() -> list[str]:
    return sorted(path.name for path in WORKFLOWS.glob("*.yml"))


def jobs(name: str) -> dict[str, dict[str, Any]]:
    table: dict[str, dict[str, Any]] = workflow(name)["jobs"]
    return table


def job_text(job: dict[str, Any]) -> str:
    return yaml.safe_dump(job, sort_keys=False)


def upstream(name: str, job: str) -> set[str]:
    """Every job `job` waits for, directly or through others."""
    table, seen, todo = jobs(name), set(), [job]
    while todo:
        needs = table[todo.pop()].get("needs", [])
        for other in [needs] if isinstance(needs, str) else needs:
            if other not in seen:
                seen.add(other)
                todo.append(other)
    return seen


def test_the_release_and_ci_workflows_exist() -> None:
    assert {"release.yml", "ci.yml"} <= set(workflow_names())
    assert workflow("release.yml")["on"] == {"push": {"tags": ["v*.*.*"]}}


@pytest.mark.parametrize("name", workflow_names())
def test_every_action_is_pinned_by_a_full_commit_with_its_version(name: str) -> None:
    """`uses: owner/action@<40 hex> # vX.Y.Z`: a moved tag cannot change what runs."""
    lines = (WORKFLOWS / name).read_text("utf-8").splitlines()
    uses = [m for m in map(PINNED_USES.match, lines) if m]
    assert uses, f"{name} uses no action"
    for match in uses:
        assert re.fullmatch(r"[0-9a-f]{40}", match["ref"]), f"{name}: {match[0].strip()}"
        assert re.fullmatch(r"\s+# v\d+\.\d+\.\d+", match["rest"]), f"{name}: {match[0].strip()}"
    assert len(uses) == sum("uses:" in line for line in lines)


@pytest.mark.parametrize("name", workflow_names())
def test_the_workflow_grants_nothing_and_each_job_says_what_it_needs(name: str) -> None:
    assert workflow(name)["permissions"] == {}
    for job_name, job in jobs(name).items():
        assert "permissions" in job, f"{name}: job {job_name} has no permissions of its own"


@pytest.mark.parametrize("name", workflow_names())
def test_checkouts_keep_no_credentials(name: str) -> None:
    for job_name, job in jobs(name).items():
        for step in job.get("steps", []):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False, job_name


def test_tokens_and_secrets_reach_only_the_jobs_that_publish() -> None:
    """An OIDC token only where PyPI and the image are published; the registry password
    only in the image job; the repository token only in the GitHub release job."""
    table = jobs("release.yml")
    with_id_token = {name for name, job in table.items() if job["permissions"].get("id-token")}
    assert with_id_token == {"pypi", "image"}
    writing = {
        name: sorted(scope for scope, access in job["permissions"].items() if access == "write")
        for name, job in table.items()
    }
    assert writing == {
        "build": [], "tag": [], "test": [], "test-windows": [], "gate": [],
        "pypi": ["attestations", "id-token"],
        "image": ["attestations", "id-token", "packages"],
        "github": ["contents"],
    }  # fmt: skip
    for name, job in table.items():
        text = job_text(job)
        assert ("secrets." in text) == (name == "image"), name
        assert ("github.token" in text) == (name == "github"), name
    for name in workflow_names():
        if name != "release.yml":
            text = (WORKFLOWS / name).read_text("utf-8")
            assert "secrets." not in text, name
            assert "id-token" not in text, name


def test_nothing_is_published_before_the_tag_check_the_tests_and_the_gate() -> None:
    table = jobs("release.yml")
    assert "python -m release.gate tag" in job_text(table["tag"])
    assert "github.ref_name" in job_text(table["tag"])
    assert "python3 -m release.gate check dist" in job_text(table["gate"])
    assert "sha256sum --check" in job_text(table["gate"])
    for publishing in ("pypi", "image", "github"):
        assert {"build", "tag", "test", "test-windows", "gate"} <= upstream(
            "release.yml", publishing
        )


def test_the_python_matrix_is_the_supported_versions_on_every_platform() -> None:
    table = jobs("release.yml")
    matrix = table["test"]["strategy"]["matrix"]
    assert matrix["python"] == PYTHONS
    assert {os.split("-")[0] for os in matrix["os"]} == {"ubuntu", "macos"}
    assert table["test-windows"]["strategy"]["matrix"]["python"] == PYTHONS
    assert table["test-windows"]["runs-on"].startswith("windows")
    assert "release.smoke" in job_text(table["test"])
    classifiers = project()["classifiers"]
    assert isinstance(classifiers, list)
    for version in PYTHONS:
        assert f"Programming Language :: Python :: {version}" in classifiers


def test_publishing_uses_trusted_publishing_attestations_and_image_provenance() -> None:
    table = jobs("release.yml")
    publish = next(
        s for s in table["pypi"]["steps"] if "gh-action-pypi-publish" in s.get("uses", "")
    )
    assert publish["with"]["attestations"] is True
    assert "password" not in publish["with"]
    push = next(s for s in table["image"]["steps"] if "build-push-action" in s.get("uses", ""))
    assert push["with"]["file"] == "deploy/docker/Dockerfile"
    assert push["with"]["provenance"] == "mode=max"
    assert push["with"]["tags"].startswith("${{ steps.name.outputs.image }}:")
    assert "cyclonedx-py" in job_text(table["build"])


def test_the_release_files_the_workflow_names_are_the_documented_ones() -> None:
    """release/gate.py's expected files are listed in docs/distribution.md, and each file
    name the workflow spells out is one of them."""
    expected = expected_names(__version__)
    docs = (ROOT / "docs" / "distribution.md").read_text("utf-8")
    for name in expected:
        assert f"`{name}`" in docs, f"docs/distribution.md does not list {name}"
    text = (WORKFLOWS / "release.yml").read_text("utf-8")
    spelled = set(re.findall(r"task_observatory-\$\{VERSION\}[\w.-]*", text))
    assert spelled
    for name in spelled:
        assert name.replace("${VERSION}", __version__) in expected, name
    assert {"name": "release", "path": "dist/", "if-no-files-found": "error"} in [
        step.get("with") for step in jobs("release.yml")["build"]["steps"]
    ]
