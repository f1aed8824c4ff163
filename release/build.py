"""`make dist`: the release artifacts of HEAD in dist/, without the checks.

Builds the sdist and the wheel offline with this virtualenv's hatchling
(SOURCE_DATE_EPOCH = the commit's time, so the bytes are those `make release-check`
proves reproducible) and writes dist/SHA256SUMS. The container image is built from this
wheel (deploy/docker/Dockerfile). Run as `python -m release.build [--dist DIR]`.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from release.artifacts import ROOT, build_sdist, build_wheel, commit_epoch, write_sha256sums


def build(out: Path, epoch: str) -> list[Path]:
    """The sdist and the wheel of the checkout, built into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    return [build_sdist(ROOT, out, epoch), build_wheel(ROOT, out, epoch)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dist", description=__doc__)
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="where to build")
    args = parser.parse_args(argv)
    dist = args.dist.resolve()
    shutil.rmtree(dist, ignore_errors=True)
    artifacts = build(dist, commit_epoch())
    sums = write_sha256sums(dist)
    for path in [*artifacts, sums]:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
