"""Building the release artifacts and installing them without a network.

Wheels and sdists are built with the running virtualenv's own hatchling, so nothing is
fetched. `fresh_venv` makes a virtualenv without pip whose dependencies come from the
running one through a `.pth` line: Python appends it after the fresh site-packages, so
whatever is installed into the fresh one (the wheel) wins, and pip (run from the running
virtualenv with `--python`) installs offline. The release check and the distribution
tests both use these; nothing here runs at import.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import sysconfig
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "task_observatory"


def run(
    argv: Sequence[str | Path],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 240,
) -> str:
    """stdout of `argv`, which must succeed (else AssertionError with its output)."""
    done = subprocess.run(  # noqa: S603 — argv comes from this module's callers, no shell
        [str(arg) for arg in argv],
        cwd=cwd,
        env=None if env is None else dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"{list(argv)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def commit_epoch(root: Path = ROOT) -> str:
    """The HEAD commit's time (seconds since 1970): the builds' SOURCE_DATE_EPOCH."""
    return run(["git", "-C", root, "log", "-1", "--format=%ct"]).strip()


def build_wheel(source: Path, out: Path, epoch: str) -> Path:
    """The wheel of `source` (a checkout or an unpacked sdist), built offline into `out`."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": epoch}
    pip = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    run([*pip, "--no-index", "-w", out, source], env=env)
    (wheel,) = out.glob("*.whl")
    return wheel


def build_sdist(source: Path, out: Path, epoch: str) -> Path:
    """The sdist of `source`, built offline into `out` by this virtualenv's hatchling."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": epoch}
    run([sys.executable, "-m", "hatchling", "build", "-t", "sdist", "-d", out], cwd=source, env=env)
    (sdist,) = out.glob("*.tar.gz")
    return sdist


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_sha256sums(folder: Path) -> Path:
    """SHA256SUMS in `folder`, in sha256sum's format, for every other file in it."""
    lines = [
        f"{sha256(path)}  {path.name}\n"
        for path in sorted(folder.iterdir())
        if path.is_file() and path.name != "SHA256SUMS"
    ]
    sums = folder / "SHA256SUMS"
    sums.write_text("".join(lines), "utf-8")
    return sums


def fresh_venv(folder: Path) -> Path:
    """A new virtualenv at `folder` (no pip) that sees this one's packages; its python."""
    run([sys.executable, "-m", "venv", "--without-pip", folder])
    python = folder / "bin" / "python"
    purelib = run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    (Path(purelib.strip()) / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def install_wheel(python: Path, wheel: Path) -> None:
    """Install `wheel` (not its dependencies, which `fresh_venv` provides) offline."""
    pip: list[str | Path] = [sys.executable, "-m", "pip", "--python", python, "install", "-q"]
    run([*pip, "--no-deps", "--no-index", wheel])


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without PYTHONPATH, which would hide the installed copy."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env.update(extra)
    return env
