"""What a user does first with an installed release: `odto version` names the commit,
`odto doctor` passes, `odto up --json` becomes ready on free ports, `odto gate` passes
against it, and `odd-dashboard --version` prints the same block as `odto version`."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

from observatory.interfaces.cli.servers import pick_free_port
from release.artifacts import clean_env, run

SERVICES = ("gateway", "processor", "metrics-engine", "read-model", "web")
READY_SECONDS = 60


def system_env(bin_dir: Path, data_dir: Path) -> dict[str, str]:
    """The installed scripts first on PATH (as after an install), free ports, a fresh data
    folder and the URLs `odto gate` talks to."""
    ports = {name: pick_free_port() for name in SERVICES}
    return clean_env(
        PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        ODTO_DATA_DIR=str(data_dir),
        GATEWAY_URL=f"http://127.0.0.1:{ports['gateway']}",
        READ_MODEL_URL=f"http://127.0.0.1:{ports['read-model']}",
        **{f"{name.upper().replace('-', '_')}_PORT": str(port) for name, port in ports.items()},
    )


def wait_ready(process: subprocess.Popen[str]) -> list[dict[str, object]]:
    """`odto up --json`'s records up to "ready"; AssertionError if it fails, ends first or
    takes longer than READY_SECONDS (then it is killed, which ends the reading)."""
    assert process.stdout is not None
    records: list[dict[str, object]] = []
    deadline = threading.Timer(READY_SECONDS, process.kill)
    deadline.start()
    try:
        for line in process.stdout:
            record = json.loads(line)
            records.append(record)
            if record.get("step") == "ready":
                return records
            if record.get("status") == "error":
                break
    finally:
        deadline.cancel()
    raise AssertionError(f"odto up did not become ready in {READY_SECONDS} s: {records}")


def smoke(venv: Path, commit: str, work: Path) -> list[str]:
    """Run the checks against the scripts in `venv`; one line per check passed."""
    bin_dir = venv / "bin"
    work.mkdir(parents=True, exist_ok=True)
    env = system_env(bin_dir, work / "data")
    passed = []

    block = run([bin_dir / "odto", "version"], cwd=work, env=env)
    assert f"  commit:    {commit}\n" in block, f"odto version does not name {commit}:\n{block}"
    passed.append(f"odto version names commit {commit[:12]}")
    assert run([bin_dir / "odd-dashboard", "--version"], cwd=work, env=env) == block
    passed.append("odd-dashboard --version prints the same block")
    run([bin_dir / "odto", "doctor"], cwd=work, env=env)
    passed.append("odto doctor passes")

    with (work / "odto-up.log").open("w") as log:
        process = subprocess.Popen(  # noqa: S603 — the installed script, fixed arguments
            [str(bin_dir / "odto"), "up", "--json"],
            cwd=work,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    try:
        wait_ready(process)
        passed.append("odto up --json is ready")
        gate = run([bin_dir / "odto", "gate"], cwd=work, env=env, timeout=120)
        passed.append(f"odto gate passes ({gate.count('[PASS]')} checks)")
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        assert process.stdout is not None
        process.stdout.close()
    return passed


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m release.smoke --venv DIR --commit SHA`: the checks against an installed
    release (the release workflow runs it on each platform); exit 1 on the first failure."""
    parser = argparse.ArgumentParser(prog="release-smoke", description=__doc__)
    parser.add_argument("--venv", type=Path, required=True, help="virtualenv with the wheel")
    parser.add_argument("--commit", required=True, help="the commit the wheel was built from")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="odto-smoke-") as work:
        try:
            for line in smoke(args.venv.resolve(), args.commit, Path(work)):
                print(f"[PASS] {line}", flush=True)
        except AssertionError as failure:
            print(f"[FAIL] {failure}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
