"""`make release-check`: build the release into dist/ and prove it is fit to publish.

Offline from start to end. Steps, each printed as it passes (the first failure stops it):

1. build the sdist and the wheel of HEAD (SOURCE_DATE_EPOCH = the commit's time) into dist/;
2. build both again elsewhere and compare: byte-identical or it fails;
3. `twine check --strict` and `check-wheel-contents` on the artifacts;
4. write dist/SHA256SUMS; the completeness gate (release/gate.py): dist/ holds exactly the
   release files, each matching it;
5. install the wheel into a fresh virtualenv and smoke-test it (release/smoke.py), the
   terminal UI too (release/tui_smoke.py);
6. serve dist/ on 127.0.0.1 and run install.sh against it: it installs; against a copy
   with one byte of the wheel changed, it refuses and installs nothing.

Run as `python -m release.check [--dist DIR]`; exit 0 only if every step passed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from release.artifacts import (
    ROOT,
    clean_env,
    commit_epoch,
    fresh_venv,
    install_wheel,
    run,
    sha256,
    write_sha256sums,
)
from release.build import build
from release.gate import folder_problems, package_version
from release.install_script import install, tampered_copy
from release.server import serving
from release.smoke import smoke


def same_bytes(first: Sequence[Path], second: Sequence[Path]) -> None:
    for one, other in zip(first, second, strict=True):
        assert one.name == other.name, f"{one.name} != {other.name}"
        assert sha256(one) == sha256(other), f"two builds of {one.name} differ"


def script_refuses_tampering(dist: Path, work: Path) -> None:
    """install.sh installs the release, and refuses a copy with one byte changed."""
    fresh_venv(work / "good-venv")
    with serving(dist) as url:
        good = install(url, work / "good-venv")
    assert good.returncode == 0, f"install.sh failed on a good release:\n{good.stderr}"
    run([work / "good-venv" / "bin" / "odto", "version"])
    bad_release = tampered_copy(dist, work / "tampered")
    fresh_venv(work / "bad-venv")
    with serving(bad_release) as url:
        bad = install(url, work / "bad-venv")
    assert bad.returncode != 0, "install.sh installed a wheel whose checksum does not match"
    assert "checksum mismatch" in bad.stderr, bad.stderr
    assert not (work / "bad-venv" / "bin" / "odto").exists(), "the tampered wheel was installed"


def check(dist: Path) -> None:
    started = time.monotonic()

    def passed(what: str) -> None:
        print(f"[PASS] {what} ({time.monotonic() - started:.0f} s)", flush=True)

    commit = run(["git", "-C", ROOT, "rev-parse", "HEAD"]).strip()
    epoch = commit_epoch()
    shutil.rmtree(dist, ignore_errors=True)
    artifacts = build(dist, epoch)
    passed(f"built {', '.join(path.name for path in artifacts)} from {commit[:12]}")
    with tempfile.TemporaryDirectory(prefix="odto-release-check-") as scratch:
        work = Path(scratch)
        same_bytes(artifacts, build(work / "again", epoch))
        passed("a second build is byte-identical")
        bin_dir = Path(sys.executable).parent
        run([bin_dir / "twine", "check", "--strict", *artifacts])
        passed("twine check --strict")
        run([bin_dir / "check-wheel-contents", artifacts[1]])
        passed("check-wheel-contents")
        write_sha256sums(dist)
        passed("dist/SHA256SUMS written")
        problems = folder_problems(dist, package_version(), sbom=False)
        assert not problems, f"the release folder is incomplete: {problems}"
        passed("dist/ holds exactly the release files, each matching SHA256SUMS")
        python = fresh_venv(work / "venv")
        install_wheel(python, artifacts[1])
        for line in smoke(work / "venv", commit, work / "smoke"):
            passed(f"installed wheel: {line}")
        # Run from the checkout for `release`; `observatory` is the installed wheel's.
        run([python, "-m", "release.tui_smoke"], cwd=ROOT, env=clean_env())
        passed("installed wheel: odd-dashboard starts headless and shows the launcher")
        script_refuses_tampering(dist, work)
        passed("install.sh installs the release and refuses one changed byte")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="release-check", description=__doc__)
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="where to build")
    args = parser.parse_args(argv)
    try:
        check(args.dist.resolve())
    except AssertionError as failure:
        print(f"[FAIL] {failure}", file=sys.stderr)
        return 1
    print("release-check: all passed; the release is in", args.dist)
    return 0


if __name__ == "__main__":
    sys.exit(main())
