"""The image installs the release wheel with the runtime lock and runs it as non-root."""

from __future__ import annotations

import fnmatch
import importlib.metadata
import json
import re
import tomllib

import pytest
from packaging.requirements import Requirement
from tests.unit.deploy.manifests import REPO
from tests.unit.deploy.test_healthcheck import healthcheck

from observatory import __version__
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


def arg_default(stage: list[tuple[str, str]], name: str) -> str:
    (value,) = [rest.split("=", 1)[1] for rest in args_of(stage, "ARG") if rest.startswith(name)]
    return value


def test_build_stage_installs_the_release_wheel_with_the_otel_lock() -> None:
    """The image gets the wheel `make dist` builds (the bytes a release publishes), checked
    against SHA256SUMS, with its `otel` extra (compose and Kubernetes trace to Jaeger) and
    every dependency at its requirements-otel.lock version; no source tree is copied, so
    nothing is rebuilt without the commit."""
    build = stages()["build"]
    copies = args_of(build, "COPY")
    sources = [word for copy in copies for word in copy.split()[:-1]]
    assert "dist/task_observatory-${VERSION}-py3-none-any.whl" in sources
    assert {"requirements-otel.lock", "dist/SHA256SUMS"} <= set(sources)
    assert not [s for s in sources if s.startswith(("src", "pyproject", "hatch_build"))]
    runs = " ".join(" ".join(args_of(build, "RUN")).split())
    assert "| sha256sum -c -" in runs
    install = "pip install --constraint requirements-otel.lock"
    assert f'{install} "./task_observatory-${{VERSION}}-py3-none-any.whl[otel]"' in runs
    assert "pip check" in runs
    assert (REPO / "requirements-otel.lock").is_file()


def test_the_version_argument_defaults_to_the_package_version_in_both_stages() -> None:
    """A plain `docker build` installs and labels this version, the tag the docs give."""
    for name in ("build", "runtime"):
        assert arg_default(stages()[name], "VERSION") == __version__, name
    runtime = stages()["runtime"]
    assert 'org.opencontainers.image.version="${VERSION}"' in " ".join(args_of(runtime, "LABEL"))
    text = DOCKERFILE.read_text("utf-8")
    assert f"docker build -f deploy/docker/Dockerfile -t task-observatory:{__version__} ." in text


@pytest.mark.parametrize("lock_file", ["requirements-runtime.lock", "requirements-otel.lock"])
def test_every_runtime_dependency_is_pinned_by_the_lock(lock_file: str) -> None:
    """Constraints pin only what they name: the runtime lock (what `make up` installs) and
    the otel lock (the image) must name the whole closure."""
    lock = {
        line.split("==")[0].strip().lower().replace("_", "-")
        for line in (REPO / lock_file).read_text("utf-8").splitlines()
        if "==" in line and not line.startswith("#")
    }
    # The package's own requirements from pyproject.toml (the installed metadata of an
    # editable install may be older), then their closure from the installed distributions.
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    seen: set[str] = set()
    requirements = list(project["dependencies"])
    if lock_file == "requirements-otel.lock":
        requirements += project["optional-dependencies"]["otel"]
    todo: list[tuple[str | None, frozenset[str], list[str]]] = [(None, frozenset(), requirements)]
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
        "requirements-otel.lock", "dist/task_observatory-1.0.0-py3-none-any.whl",
        "dist/SHA256SUMS", "deploy/docker/healthcheck.py",
    ):  # fmt: skip
        assert not ignored(path), path
    for path in (".venv/bin/python", ".git/HEAD", "tests/conftest.py", "deploy/compose/.env",
                 "deploy/k8s/overlays/kind/secrets.env", ".odto/bus.sqlite", "src/observatory",
                 "dist/task_observatory-1.0.0.tar.gz", "requirements.lock",
                 "requirements-runtime.lock",
                 "src/observatory/__pycache__/x.pyc"):  # fmt: skip
        assert ignored(path), path


def test_every_file_the_build_copies_is_in_the_build_context() -> None:
    for stage in stages().values():
        for copy in args_of(stage, "COPY"):
            if copy.startswith("--from="):
                continue
            for source in copy.split()[:-1]:
                assert not ignored(source.replace("${VERSION}", __version__)), source


def test_health_check_knows_the_standard_ports() -> None:
    assert healthcheck().STANDARD_PORTS == DEFAULT_PORTS
