"""The built wheel installed the ways people install Python tools: real `uv tool install`,
`uvx --from`, and `pipx install` (with its pip and its uv backend), each into a temporary
home, then run from there as a user would.

The dependencies come from a wheelhouse of requirements-runtime.lock made once per run
(release/wheelhouse.py: the only step that reaches the package index); every installer
then runs with `--no-index` against it, so each resolves exactly the locked versions.
Without an index this module is skipped with the reason, except in CI, where it fails.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from release.artifacts import ROOT, build_wheel, commit_epoch, run
from release.smoke import smoke
from release.wheelhouse import index_reachable, make_wheelhouse
from tests.conftest import IN_CI

from observatory import __version__

pytestmark = pytest.mark.slow

TOOLS = Path(sys.executable).parent  # uv, uvx and pipx come with the dev extra
# Settings of the user's own installers that would reach outside the temporary home.
FOREIGN = ("PIP_", "UV_", "PIPX_", "VIRTUAL_ENV", "PYTHONPATH", "XDG_")


@pytest.fixture(scope="module")
def head() -> str:
    try:
        return run(["git", "-C", ROOT, "rev-parse", "HEAD"]).strip()
    except (OSError, AssertionError):
        pytest.skip(f"{ROOT} is not a git checkout, so there is no commit to record")


@pytest.fixture(scope="module")
def wheel(head: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(ROOT, tmp_path_factory.mktemp("dist"), commit_epoch())


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:
        return make_wheelhouse(tmp_path_factory.mktemp("wheelhouse"))
    except AssertionError as failure:
        reachable, detail = index_reachable()
        if reachable or IN_CI:
            raise
        pytest.skip(f"the package index is unreachable ({detail}), so there is no wheelhouse: "
                    f"{str(failure).splitlines()[-1]}")  # fmt: skip


def home_env(home: Path) -> dict[str, str]:
    """A user whose home is `home`: tools go to home/bin, caches and state under home, no
    configuration of ours is read, and nothing is fetched."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(FOREIGN)}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        UV_TOOL_DIR=str(home / "uv-tools"),
        UV_TOOL_BIN_DIR=str(home / "bin"),
        UV_CACHE_DIR=str(home / "uv-cache"),
        UV_NO_CONFIG="1",
        UV_PYTHON_DOWNLOADS="never",
        PIPX_HOME=str(home / "pipx"),
        PIPX_BIN_DIR=str(home / "bin"),
        PIPX_MAN_DIR=str(home / "man"),
        PIP_CONFIG_FILE=os.devnull,
        PIP_NO_INDEX="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    return env


def offline(wheelhouse: Path) -> list[str]:
    return ["--offline", "--no-index", "--find-links", str(wheelhouse)]


def version_block(bin_dir: Path, cwd: Path, head: str) -> str:
    """`odto version` from `bin_dir`, which must name the build's commit; `odd-dashboard
    --version` must print the same block."""
    cwd.mkdir(exist_ok=True)
    env = home_env(cwd)
    block = run([bin_dir / "odto", "version"], cwd=cwd, env=env)
    assert block.startswith(f"task-observatory {__version__}\n"), block
    assert f"  commit:    {head}\n" in block, block
    assert run([bin_dir / "odd-dashboard", "--version"], cwd=cwd, env=env) == block
    return block


def test_uv_tool_install_gives_commands_that_run_the_whole_system(
    wheel: Path, wheelhouse: Path, head: str, tmp_path: Path
) -> None:
    """`uv tool install <wheel>`: both commands on the tool bin dir, naming the commit;
    `odto doctor` passes, `odto up --json` becomes ready on free ports and `odto gate`
    passes against it; `uv tool uninstall` takes the commands away again."""
    home = tmp_path / "home"
    env = home_env(home)
    uv: list[str | Path] = [TOOLS / "uv", "tool"]
    run([*uv, "install", *offline(wheelhouse), "--python", sys.executable, wheel], env=env)

    assert f"task-observatory v{__version__}" in run([*uv, "list"], env=env)
    version_block(home / "bin", tmp_path / "empty", head)
    passed = smoke(home, head, tmp_path / "smoke")  # runs home/bin/odto
    assert "odto up --json is ready" in passed
    assert any(line.startswith("odto gate passes") for line in passed), passed

    run([*uv, "uninstall", "task-observatory"], env=env)
    assert not (home / "bin" / "odto").exists()


def test_uvx_runs_the_wheel_without_installing_it(
    wheel: Path, wheelhouse: Path, head: str, tmp_path: Path
) -> None:
    """`uvx --from <wheel> odto version` names the commit and leaves no command behind."""
    home = tmp_path / "home"
    env = home_env(home)
    uvx: list[str | Path] = [TOOLS / "uvx", *offline(wheelhouse), "--python", sys.executable]
    uvx += ["--from", wheel]
    block = run([*uvx, "odto", "version"], cwd=tmp_path, env=env)
    assert f"  commit:    {head}\n" in block, block
    assert run([*uvx, "odd-dashboard", "--version"], cwd=tmp_path, env=env) == block
    assert not (home / "bin").exists()


@pytest.mark.parametrize("backend", ["pip", "uv"])
def test_pipx_install_gives_both_commands(
    backend: str, wheel: Path, wheelhouse: Path, head: str, tmp_path: Path
) -> None:
    """`pipx install <wheel>` with either of pipx's backends: `pipx list` shows the
    package, both commands are on PIPX_BIN_DIR and name the commit."""
    home = tmp_path / "home"
    env = home_env(home)
    pipx: list[str | Path] = [TOOLS / "pipx"]
    pip_args = f"--no-index --find-links {wheelhouse}"
    run(
        [*pipx, "install", "--backend", backend, "--python", sys.executable,
         f"--pip-args={pip_args}", wheel],
        env=env,
    )  # fmt: skip

    assert f"task-observatory {__version__}" in run([*pipx, "list", "--short"], env=env)
    version_block(home / "bin", tmp_path / "empty", head)
