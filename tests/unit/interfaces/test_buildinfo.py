"""The version block `odto version` and `odd-dashboard --version` print, and where its
commit and build time come from: the build's record, else git, else "unknown"."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from observatory import __version__
from observatory.interfaces import buildinfo
from observatory.interfaces.buildinfo import BuildRecord, build_info, git_commit, read_record
from observatory.interfaces.cli.main import main as odto
from observatory.interfaces.tui.main import main as odd_dashboard

COMMIT = "0123456789abcdef0123456789abcdef01234567"
RECORD = BuildRecord(commit=COMMIT, built="2026-12-01T10:00:00Z", builder="hatchling 1.33.0")


def no_git() -> str | None:
    return None


def test_a_built_package_shows_its_record_in_five_labelled_lines() -> None:
    """Version, commit, build time and builder, Python and platform, in that order."""
    lines = build_info(RECORD, ask_git=lambda: "fffffff").render().splitlines()
    assert lines[:3] == [
        f"task-observatory {__version__}",
        f"  commit:    {COMMIT}",
        "  built:     2026-12-01T10:00:00Z by hatchling 1.33.0",
    ]
    assert lines[3].startswith(f"  python:    {sys.version.split()[0]} (")
    assert lines[4].startswith(f"  platform:  {sys.platform}-")
    assert len(lines) == 5


def test_a_source_checkout_asks_git_and_says_it_was_not_built() -> None:
    info = build_info(None, ask_git=lambda: COMMIT)
    assert (info.commit, info.built) == (COMMIT, buildinfo.FROM_SOURCE)


def test_without_record_or_git_both_are_unknown() -> None:
    info = build_info(None, ask_git=no_git)
    assert (info.commit, info.built) == ("unknown", "unknown")


def test_the_record_is_read_from_the_generated_module(monkeypatch: pytest.MonkeyPatch) -> None:
    generated = types.ModuleType("observatory_test_build_info")
    vars(generated).update(COMMIT=RECORD.commit, BUILT=RECORD.built, BUILDER=RECORD.builder)
    monkeypatch.setitem(sys.modules, generated.__name__, generated)
    assert read_record(generated.__name__) == RECORD


def test_a_missing_or_incomplete_record_counts_as_none(monkeypatch: pytest.MonkeyPatch) -> None:
    assert read_record("observatory_test_no_such_module") is None
    partial = types.ModuleType("observatory_test_partial_build_info")
    vars(partial).update(COMMIT=COMMIT)
    monkeypatch.setitem(sys.modules, partial.__name__, partial)
    assert read_record(partial.__name__) is None


def test_git_is_asked_only_about_files_it_tracks() -> None:
    """An install inside someone else's repository must not report that repository's HEAD."""
    calls: list[list[str]] = []

    def untracked(argv: list[str]) -> str | None:
        calls.append(argv)
        return None

    assert git_commit(Path("/somewhere/__about__.py"), run=untracked) is None
    assert calls == [["git", "-C", "/somewhere", "ls-files", "--error-unmatch", "__about__.py"]]


def test_tracked_file_gives_the_full_head_commit() -> None:
    def git(argv: list[str]) -> str | None:
        return COMMIT if argv[-2:] == ["rev-parse", "HEAD"] else ""

    assert git_commit(Path("/repo/src/observatory/__about__.py"), run=git) == COMMIT


def odto_output(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    if argv == ["version"]:
        assert odto(argv) == 0
    else:  # the flag exits from inside argparse, like --help
        with pytest.raises(SystemExit) as exited:
            odto(argv)
        assert exited.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("argv", [["version"], ["--version"], ["-V"]])
def test_both_commands_print_the_same_block(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(buildinfo, "read_record", lambda: RECORD)
    from_odto = odto_output(argv, capsys)
    assert odd_dashboard(["--version"]) == 0
    assert capsys.readouterr().out == from_odto
    assert from_odto == build_info(RECORD).render() + "\n"
