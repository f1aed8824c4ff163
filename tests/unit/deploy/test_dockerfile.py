"""The image builds the package the tests test, from the lock, and runs it as non-root."""

from __future__ import annotations

import fnmatch
import importlib.metadata
import json
import re
import tomllib

from packaging.requirements import Requirement
from tests.unit.deploy.manifests import REPO
from tests.unit.deploy.test_healthcheck import healthcheck

from observatory.core.settings import DEFAULT_PORTS

DOCKERFILE = REPO / "deploy/docker/Dockerfile"


def stages() -> dict[str, list[tuple[str, str]]]:
    """Stage name -> [(INSTRUCTION, arguments)], continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text("utf-8"))
    result: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        instruction, _, rest = line.strip().partition(" ")
        if instruction.upper() == "FROM":
            current = []
            result[rest.split(" AS ")[-1].strip()] = current
        current.append((instruction.upper(), rest.strip()))
    return result


def args_of(stage: list[tuple[str, str]], instruction: str) -> list[str]:
    return [rest for name, rest in stage if name == instruction]


def test_build_stage_installs_the_package_from_this_checkout_with_the_lock() -> None:
    """The wheel is built from the same pyproject, build hook and src/ the tests import, and
    every dependency version comes from requirements.lock."""
    build = stages()["build"]
    copies = " ".join(args_of(build, "COPY"))
    for needed in ("requirements.lock", "pyproject.toml", "hatch_build.py", "README.md", "src"):
        assert needed in copies
    runs = " ".join(args_of(build, "RUN"))
    assert "pip install --constraint requirements.lock ." in runs
    assert "pip check" in runs


def test_every_runtime_dependency_is_pinned_by_the_lock() -> None:
    """Constraints pin only what they name: the lock must name the whole runtime closure."""
    lock = {
        line.split("==")[0].strip().lower().replace("_", "-")
        for line in (REPO / "requirements.lock").read_text("utf-8").splitlines()
        if "==" in line and not line.startswith("#")
    }
    # The package's own requirements from pyproject.toml (the installed metadata of an
    # editable install may be older), then their closure from the installed distributions.
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    seen: set[str] = set()
    todo: list[tuple[str | None, frozenset[str], list[str]]] = [
        (None, frozenset(), list(project["dependencies"]))
    ]
    while todo:
        _, extras, requirements = todo.pop()
        for raw in requirements:
            requirement = Requirement(raw)
            marker = requirement.marker
            if marker and not any(marker.evaluate({"extra": e}) for e in (extras or {""})):
                continue
            key = requirement.name.lower().replace("_", "-")
            if key in seen:
                continue
            seen.add(key)
            try:
                below = importlib.metadata.requires(key) or []
            except importlib.metadata.PackageNotFoundError:
                below = []  # not installed here; its own name is still checked below
            todo.append((key, frozenset(requirement.extras), below))
    assert seen
    assert seen - lock == set()


def test_runtime_stage_is_non_root_with_odto_entrypoint_and_health_check() -> None:
    runtime = stages()["runtime"]
    (user,) = args_of(runtime, "USER")
    uid = user.split(":")[0]
    assert uid.isdigit()
    assert int(uid) != 0  # numeric, so Kubernetes' runAsNonRoot can check it
    assert json.loads(args_of(runtime, "ENTRYPOINT")[0]) == ["odto"]
    assert json.loads(args_of(runtime, "CMD")[0]) == ["serve", "gateway"]
    (check,) = args_of(runtime, "HEALTHCHECK")
    assert "/usr/local/bin/odto-healthcheck" in check
    assert "deploy/docker/healthcheck.py /usr/local/bin/odto-healthcheck" in " ".join(
        args_of(runtime, "COPY")
    )
    assert "ODTO_HOST=0.0.0.0" in " ".join(args_of(runtime, "ENV"))
    assert "--from=build /opt/venv /opt/venv" in " ".join(args_of(runtime, "COPY"))


def ignored(path: str) -> bool:
    """Whether .dockerignore keeps `path` out of the build context (last match wins)."""
    verdict = False
    for line in (REPO / ".dockerignore").read_text("utf-8").splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").replace("**/", "*").replace("/**", "/*")
        if pattern == "**" or fnmatch.fnmatch(path, pattern):
            verdict = not negate
    return verdict


def test_build_context_has_what_the_build_copies_and_nothing_else() -> None:
    for path in (
        "pyproject.toml", "hatch_build.py", "README.md", "requirements.lock",
        "src/observatory/__init__.py",
        "deploy/docker/healthcheck.py", "deploy/prometheus/prometheus.yml",
        "deploy/alertmanager/alertmanager.yml",
    ):  # fmt: skip
        assert not ignored(path), path
    for path in (".venv/bin/python", ".git/HEAD", "tests/conftest.py", "deploy/compose/.env",
                 "deploy/k8s/overlays/kind/secrets.env", ".odto/bus.sqlite",
                 "src/observatory/__pycache__/x.pyc"):  # fmt: skip
        assert ignored(path), path


def test_files_the_wheel_force_includes_are_in_the_build_stage() -> None:
    """If pyproject packs extra files (hatch force-include), the build stage has them."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))
    wheel = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]
    copies = " ".join(args_of(stages()["build"], "COPY"))
    for source in wheel.get("force-include", {}):
        assert any(source.startswith(c.split()[0]) for c in args_of(stages()["build"], "COPY")), (
            f"{source} is force-included in the wheel but not copied: {copies}"
        )
        assert not ignored(source.rstrip("/") + "/x"), source


def test_health_check_knows_the_standard_ports() -> None:
    assert healthcheck().STANDARD_PORTS == DEFAULT_PORTS
