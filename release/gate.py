"""The release workflow's gates, runnable anywhere with a bare Python (no package
installed, so the build job can call them before anything is installed):

    python -m release.gate tag v1.0.0      # the tag names the package version
    python -m release.gate sums dist       # (re)write dist/SHA256SUMS over every file
    python -m release.gate check dist      # artifact completeness: exactly the expected
                                           # files, each matching SHA256SUMS

The expected files are those docs/distribution.md lists; a unit test holds them equal.
Exit 0 when the gate passes, else 1 with one line per problem.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from release.artifacts import PROJECT, ROOT, sha256, write_sha256sums

ABOUT = ROOT / "src" / "observatory" / "__about__.py"


def package_version(about: Path = ABOUT) -> str:
    """The version `__about__.py` declares (read, not imported)."""
    found = re.search(r'^__version__ = "([^"]+)"$', about.read_text("utf-8"), re.MULTILINE)
    if found is None:
        raise ValueError(f"{about} declares no __version__")
    return found[1]


def tag_problems(tag: str, version: str) -> list[str]:
    """Why `tag` may not release `version` (empty when it is `v<version>`)."""
    if tag == f"v{version}":
        return []
    return [f"tag {tag!r} does not name the package version {version} (expected v{version})"]


def expected_names(version: str, *, sbom: bool = True) -> set[str]:
    """The files of a release of `version`; the SBOM is made by the workflow only."""
    names = {f"{PROJECT}-{version}-py3-none-any.whl", f"{PROJECT}-{version}.tar.gz", "SHA256SUMS"}
    if sbom:
        names.add(f"{PROJECT}-{version}.cdx.json")
    return names


def folder_problems(folder: Path, version: str, *, sbom: bool = True) -> list[str]:
    """What is missing, extra or not matching SHA256SUMS in the release `folder`."""
    present = {path.name for path in folder.iterdir() if path.is_file()}
    expected = expected_names(version, sbom=sbom)
    problems = [f"missing: {name}" for name in sorted(expected - present)]
    problems += [f"unexpected: {name}" for name in sorted(present - expected)]
    if "SHA256SUMS" not in present:
        return problems
    listed: dict[str, str] = {}
    for line in (folder / "SHA256SUMS").read_text("utf-8").splitlines():
        digest, _, name = line.partition("  ")
        listed[name] = digest
    for name in sorted(expected - {"SHA256SUMS"}):
        if name not in listed:
            problems.append(f"not in SHA256SUMS: {name}")
        elif name in present and sha256(folder / name) != listed[name]:
            problems.append(f"checksum mismatch: {name}")
    unknown = sorted(set(listed) - expected)
    problems += [f"SHA256SUMS lists an unknown file: {name}" for name in unknown]
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="release-gate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("tag", help="the tag names the package version").add_argument("tag")
    commands.add_parser("sums", help="write SHA256SUMS").add_argument("folder", type=Path)
    check = commands.add_parser("check", help="artifact completeness and checksums")
    check.add_argument("folder", type=Path)
    check.add_argument("--no-sbom", action="store_true", help="a release without the SBOM")
    args = parser.parse_args(argv)
    version = package_version()
    if args.command == "sums":
        print(write_sha256sums(args.folder).read_text("utf-8"), end="")
        return 0
    if args.command == "tag":
        problems = tag_problems(args.tag, version)
    else:
        problems = folder_problems(args.folder, version, sbom=not args.no_sbom)
    for problem in problems:
        print(f"release-gate: {problem}", file=sys.stderr)
    if not problems:
        print(f"release-gate: {args.command} passed for task-observatory {version}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
