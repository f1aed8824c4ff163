"""install.sh against a release served on 127.0.0.1, as a user would run it: a good
release installs and runs; a changed byte, a missing file, an unknown version and an
unsupported platform are each refused with a message naming the problem, and nothing is
installed then.

The release is built here (wheel, sdist, SHA256SUMS) the way `make release-check` builds
it. The script installs with pip into a virtualenv made by `fresh_venv`, with
PIP_NO_INDEX=1: the dependencies are already visible there, so nothing is fetched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from release.artifacts import ROOT, build_sdist, build_wheel, fresh_venv, run, write_sha256sums
from release.install_script import SCRIPT, install, tampered_copy
from release.server import serving
from tests.binaries import need_binary

from observatory import __version__

pytestmark = pytest.mark.slow

EPOCH = "1767225600"


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A release folder: the sdist, the wheel and SHA256SUMS."""
    folder = tmp_path_factory.mktemp("release")
    build_sdist(ROOT, folder, EPOCH)
    build_wheel(ROOT, folder, EPOCH)
    write_sha256sums(folder)
    return folder


def install_from(folder: Path, venv: Path, **overrides: str) -> subprocess.CompletedProcess[str]:
    """install.sh run against `folder` served on 127.0.0.1, into a fresh `venv`."""
    fresh_venv(venv)
    with serving(folder) as url:
        return install(url, venv, overrides)


def test_a_good_release_installs_and_its_commands_run(release: Path, tmp_path: Path) -> None:
    done = install_from(release, tmp_path / "venv")
    assert done.returncode == 0, done.stderr
    assert f"verified task_observatory-{__version__}-py3-none-any.whl" in done.stdout
    block = run([tmp_path / "venv" / "bin" / "odto", "version"])
    assert f"task-observatory {__version__}" in block


def test_one_changed_byte_in_the_wheel_is_refused(release: Path, tmp_path: Path) -> None:
    tampered = tampered_copy(release, tmp_path / "tampered")
    done = install_from(tampered, tmp_path / "venv")
    assert done.returncode != 0
    assert "checksum mismatch for task_observatory-" in done.stderr
    assert "nothing was installed" in done.stderr
    assert not (tmp_path / "venv" / "bin" / "odto").exists()


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("*.whl", f"/task_observatory-{__version__}-py3-none-any.whl: "),
        ("SHA256SUMS", "/SHA256SUMS: "),
    ],
)
def test_a_missing_file_is_named(release: Path, tmp_path: Path, missing: str, message: str) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(release, broken)
    for path in broken.glob(missing):
        path.unlink()
    done = install_from(broken, tmp_path / "venv")
    assert done.returncode != 0
    assert "cannot download http://127.0.0.1:" in done.stderr
    assert message in done.stderr
    assert not (tmp_path / "venv" / "bin" / "odto").exists()


def test_a_version_the_release_does_not_list_is_refused(release: Path, tmp_path: Path) -> None:
    unlisted = "0.0.1"
    done = install_from(release, tmp_path / "venv", ODTO_VERSION=unlisted)
    assert done.returncode != 0
    assert f"lists no task_observatory-{unlisted}-py3-none-any.whl" in done.stderr


def test_an_unsupported_platform_is_refused_before_any_download(
    release: Path, tmp_path: Path
) -> None:
    """A `uname` that says FreeBSD stands in for running the script there."""
    fake = tmp_path / "fake-bin"
    fake.mkdir()
    uname = fake / "uname"
    uname.write_text('#!/bin/sh\ncase "$1" in -s) echo FreeBSD ;; *) echo amd64 ;; esac\n')
    uname.chmod(0o755)
    done = install_from(release, tmp_path / "venv", PATH=f"{fake}:{os.environ['PATH']}")
    assert done.returncode != 0
    assert "unsupported platform: FreeBSD amd64" in done.stderr
    assert "verified" not in done.stdout


def test_install_sh_is_posix_sh_that_shellcheck_passes() -> None:
    shellcheck = need_binary("shellcheck", hint="apt-get install -y shellcheck")
    done = subprocess.run(
        [shellcheck, "--shell=sh", str(SCRIPT)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout


def test_with_uv_on_path_it_installs_the_verified_wheel_with_uv(
    release: Path, tmp_path: Path
) -> None:
    """A stand-in `uv` records its arguments and hands `uv pip install` to pip (a real uv
    would fetch the dependencies): the script prefers uv and installs the wheel it
    verified into the chosen virtualenv."""
    fake = tmp_path / "fake-bin"
    fake.mkdir()
    log = tmp_path / "uv.log"
    uv = fake / "uv"
    uv.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> {log}\n'
        '[ "$1 $2 $3 $4" = "pip install --quiet --python" ] || exit 3\n'
        'python="$5"; shift 5\n'
        f'exec {sys.executable} -m pip --python "$python" install -q --no-deps --no-index "$@"\n'
    )
    uv.chmod(0o755)
    venv = tmp_path / "venv"
    done = install_from(
        release, venv, ODTO_INSTALLER="", PATH=f"{fake}{os.pathsep}{os.environ['PATH']}"
    )
    assert done.returncode == 0, done.stderr
    assert "installer uv" in done.stdout
    (call,) = log.read_text().splitlines()
    assert call.startswith(f"pip install --quiet --python {venv}/bin/python ")
    assert call.endswith(f"/task_observatory-{__version__}-py3-none-any.whl")
    assert (venv / "bin" / "odto").exists()
