"""release/gate.py, the release workflow's gates: the tag must name the package version,
and a release folder must hold exactly the expected files, each matching SHA256SUMS."""

from __future__ import annotations

from pathlib import Path

import pytest
from release.artifacts import write_sha256sums
from release.gate import expected_names, folder_problems, main, package_version, tag_problems

from observatory import __version__

V = __version__  # file names beside the project's name carry the package version only


def release_folder(folder: Path, version: str = V) -> Path:
    """A complete release of `version` with made-up contents."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in expected_names(version) - {"SHA256SUMS"}:
        (folder / name).write_bytes(name.encode())
    write_sha256sums(folder)
    return folder


def test_the_version_is_read_from_about_without_importing_the_package() -> None:
    assert package_version() == __version__


@pytest.mark.parametrize(
    ("tag", "passes"),
    [
        ("v2.0.0", True),
        ("2.0.0", False),  # the tag pattern is v*.*.*
        ("v2.0.1", False),  # a version the package does not declare
        ("v2.0.0rc1", False),
    ],
)
def test_the_tag_must_be_v_and_the_package_version(tag: str, passes: bool) -> None:
    problems = tag_problems(tag, "2.0.0")
    assert (problems == []) == passes
    if not passes:
        assert "expected v2.0.0" in problems[0]


def test_a_complete_release_passes(tmp_path: Path) -> None:
    assert folder_problems(release_folder(tmp_path), V) == []


def test_a_missing_file_and_an_unexpected_one_are_named(tmp_path: Path) -> None:
    folder = release_folder(tmp_path)
    (folder / f"task_observatory-{V}.tar.gz").unlink()
    (folder / "notes.txt").write_text("x")
    assert folder_problems(folder, V) == [
        f"missing: task_observatory-{V}.tar.gz",
        "unexpected: notes.txt",
    ]


def test_a_changed_byte_is_a_checksum_mismatch(tmp_path: Path) -> None:
    folder = release_folder(tmp_path)
    wheel = folder / f"task_observatory-{V}-py3-none-any.whl"
    wheel.write_bytes(b"X" + wheel.read_bytes()[1:])
    assert folder_problems(folder, V) == [
        f"checksum mismatch: task_observatory-{V}-py3-none-any.whl"
    ]


def test_a_file_left_out_of_sha256sums_is_named(tmp_path: Path) -> None:
    """The SBOM is added after the first SHA256SUMS: forgetting to rewrite it is caught."""
    folder = release_folder(tmp_path)
    sums = folder / "SHA256SUMS"
    kept = [line for line in sums.read_text().splitlines() if ".cdx.json" not in line]
    sums.write_text("\n".join(kept) + "\n")
    assert folder_problems(folder, V) == [f"not in SHA256SUMS: task_observatory-{V}.cdx.json"]


def test_without_the_sbom_the_local_release_is_complete(tmp_path: Path) -> None:
    folder = release_folder(tmp_path)
    (folder / f"task_observatory-{V}.cdx.json").unlink()
    write_sha256sums(folder)
    assert folder_problems(folder, V, sbom=False) == []
    assert folder_problems(folder, V) == [
        f"missing: task_observatory-{V}.cdx.json",
        f"not in SHA256SUMS: task_observatory-{V}.cdx.json",
    ]


def test_the_command_exits_1_with_the_problem(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tag", f"v{__version__}"]) == 0
    assert main(["tag", "v0.0.0"]) == 1
    assert "does not name the package version" in capsys.readouterr().err
