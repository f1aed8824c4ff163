"""What a user gets from `pip install`: a wheel that knows which commit it was built from,
and builds that are reproducible.

Wheels are built with this virtualenv's own hatchling and installed into a fresh
virtualenv whose dependencies come from this one (release/artifacts.py says how), so
nothing is fetched.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
import zipfile
from pathlib import Path

import pytest
from release.artifacts import (
    ROOT,
    build_sdist,
    build_wheel,
    clean_env,
    fresh_venv,
    install_wheel,
    run,
)

pytestmark = pytest.mark.slow

EPOCH = "1767225600"
EPOCH_TEXT = "2026-01-01T00:00:00Z"


@pytest.fixture(scope="module")
def head() -> str:
    try:
        return run(["git", "-C", ROOT, "rev-parse", "HEAD"]).strip()
    except (OSError, AssertionError):
        pytest.skip(f"{ROOT} is not a git checkout, so there is no commit to record")


def recorded(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as archive:
        return archive.read("observatory/_build_info.py").decode()


@pytest.fixture(scope="module")
def wheel(head: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(ROOT, tmp_path_factory.mktemp("first-build"), EPOCH)


def test_two_builds_of_one_commit_are_byte_identical(wheel: Path, tmp_path: Path) -> None:
    again = build_wheel(ROOT, tmp_path, EPOCH)
    digests = {hashlib.sha256(path.read_bytes()).hexdigest() for path in (wheel, again)}
    assert len(digests) == 1, "the same commit and SOURCE_DATE_EPOCH gave different wheels"


def test_the_wheel_records_the_commit_the_epoch_and_the_builder(wheel: Path, head: str) -> None:
    text = recorded(wheel)
    assert f"COMMIT = {head!r}" in text
    assert f"BUILT = {EPOCH_TEXT!r}" in text
    assert "BUILDER = 'hatchling " in text


def test_the_wheel_carries_the_pinned_chart_library(wheel: Path) -> None:
    """The dashboard's vendored uPlot (THIRD-PARTY.md) ships in the wheel, byte for byte
    the pinned files, with its licence."""
    folder = "observatory/services/web/static/vendor/uplot/"
    with zipfile.ZipFile(wheel) as archive:
        pin = json.loads(archive.read(folder + "pin.json"))
        for name, entry in pin["files"].items():
            digest = hashlib.sha256(archive.read(folder + name)).hexdigest()
            assert digest == entry["sha256"], name
        assert "MIT License" in archive.read(folder + "LICENSE").decode()
        assert "observatory/services/web/static/js/charts.js" in archive.namelist()


def test_the_source_tree_is_left_without_a_record(wheel: Path) -> None:
    """A checkout keeps asking git; a written record would go stale at the next commit."""
    assert not (ROOT / "src" / "observatory" / "_build_info.py").exists()


def test_a_wheel_built_from_the_sdist_carries_the_same_record(wheel: Path, tmp_path: Path) -> None:
    sdist = build_sdist(ROOT, tmp_path, EPOCH)
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path / "unpacked", filter="data")
    (source,) = (tmp_path / "unpacked").iterdir()
    from_sdist = build_wheel(source, tmp_path / "wheel", EPOCH)
    assert recorded(from_sdist) == recorded(wheel)


def test_an_installed_wheel_prints_its_commit_from_any_directory(
    wheel: Path, head: str, tmp_path: Path
) -> None:
    """`odto version` and `odd-dashboard --version` from the installed scripts, run in an
    empty directory: the build's commit and time, not "unknown"."""
    venv = tmp_path / "venv"
    python = fresh_venv(venv)
    install_wheel(python, wheel)
    fresh = Path(
        run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip()
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    env = clean_env()

    location = run(
        [python, "-c", "import observatory; print(observatory.__file__)"], cwd=empty, env=env
    )
    assert Path(location.strip()).is_relative_to(fresh)
    block = run([venv / "bin" / "odto", "version"], cwd=empty, env=env)
    assert f"  commit:    {head}\n" in block
    assert f"  built:     {EPOCH_TEXT} by hatchling " in block
    assert run([venv / "bin" / "odd-dashboard", "--version"], cwd=empty, env=env) == block
