"""`odto up` on the embedded profile loads only what it runs: no client library of a real
backend (their drivers are imported only when their URL is set), and not the other
commands of the CLI. This is part of how it stays within its resident-memory target. And
once it listens, its garbage collector is settled (interfaces/cli/servers.py)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.system import BACKEND_VARS, free_port

from observatory.interfaces.cli.servers import YOUNG_OBJECTS
from observatory.interfaces.cli.services import NAMES

# Runs `odto up` in-process (the CLI's own entry point) and, beside it, a thread that waits
# for a job to go through and then writes the modules the process has loaded.
PROBE = """
import gc, json, os, sys, threading, urllib.request

from observatory.interfaces.cli.main import main
from tests.waiting import wait_until

def probe() -> None:
    gateway, read_model = os.environ["GATEWAY_URL"], os.environ["READ_MODEL_URL"]
    seen = {"job": None, "status": None}

    def completed() -> bool:
        try:
            if seen["job"] is None:
                request = urllib.request.Request(
                    gateway + "/jobs", data=b'{"type": "FOOTPRINT"}',
                    headers={"Content-Type": "application/json"},
                )
                seen["job"] = json.load(urllib.request.urlopen(request, timeout=5))["jobId"]
            with urllib.request.urlopen(f"{read_model}/jobs/{seen['job']}", timeout=5) as answer:
                seen["status"] = json.load(answer)["status"]
        except OSError:
            return False
        return seen["status"] == "COMPLETED"

    try:
        wait_until(completed, 60, 0.1, "the job to complete")
    except AssertionError:
        pass  # the test names the status the job reached
    with open(os.environ["PROBE_OUT"], "w") as out:
        loaded = sorted(n for n, m in sys.modules.items() if m is not None)  # None: marked missing
        collector = {"frozen": gc.get_freeze_count(), "young": gc.get_threshold()[0]}
        json.dump({"status": seen["status"], "modules": loaded, "collector": collector}, out)
    os._exit(0)

threading.Thread(target=probe, daemon=True).start()
sys.exit(main(["up"]))
"""

REAL_BACKEND_CLIENTS = ("asyncpg", "redis", "aio_pika", "aiormq", "pamqp", "pymongo", "psycopg")
ONLY_FOR_INVALID_DOCUMENTS = "jsonschema"  # contracts/explain.py: about 10 MB, loaded on demand
ONLY_FOR_THE_TUI = "rich"  # structlog would import it to draw exceptions: about 5 MB
UNUSED = ("pygments", "pydantic.v1")  # httpx's own CLI; FastAPI's check for v1 models


def test_embedded_up_loads_no_real_backend_client_and_no_other_command(tmp_path: Path) -> None:
    ports = {name: free_port() for name in NAMES}
    out = tmp_path / "modules.json"
    env = {k: v for k, v in os.environ.items() if k not in BACKEND_VARS}
    env.update(
        {
            "ODTO_DATA_DIR": str(tmp_path / "data"),
            "GATEWAY_URL": f"http://127.0.0.1:{ports['gateway']}",
            "READ_MODEL_URL": f"http://127.0.0.1:{ports['read-model']}",
            "PROBE_OUT": str(out),
            **{f"{n.upper().replace('-', '_')}_PORT": str(p) for n, p in ports.items()},
        }
    )
    done = subprocess.run(  # the probe ends the process itself (or the timeout does)
        [sys.executable, "-c", PROBE],
        cwd=Path(__file__).resolve().parents[2],  # the repository: `tests.waiting` imports
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert out.exists(), done.stderr.decode(errors="replace")[-3000:]
    report = json.loads(out.read_text())
    assert report["status"] == "COMPLETED"  # the whole pipeline ran
    tops = {name.split(".")[0] for name in report["modules"]}
    assert tops.isdisjoint(REAL_BACKEND_CLIENTS), sorted(tops & set(REAL_BACKEND_CLIENTS))
    assert ONLY_FOR_INVALID_DOCUMENTS not in tops  # every document of a valid job passed
    assert ONLY_FOR_THE_TUI not in tops
    assert not [n for n in report["modules"] if n.startswith(UNUSED)], UNUSED
    cli = {n for n in report["modules"] if n.startswith("observatory.interfaces.cli.")}
    for other in ("cluster", "gate", "load", "doctor", "purge", "observability"):
        assert f"observatory.interfaces.cli.{other}" not in cli
    # once listening, what startup made is left out of later collections (servers.py)
    assert report["collector"]["frozen"] > 10_000
    assert report["collector"]["young"] == YOUNG_OBJECTS


def test_serve_on_a_taken_port_exits_with_uvicorns_message(tmp_path: Path) -> None:
    """A service that cannot listen says why in one line and exits non-zero: no traceback
    (the collector's settling waits beside the server, never in its way)."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if k not in BACKEND_VARS}
        env.update({"ODTO_DATA_DIR": str(tmp_path / "data"), "GATEWAY_PORT": str(port)})
        done = subprocess.run(
            [str(Path(sys.executable).with_name("odto")), "serve", "gateway"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode != 0
    assert "address already in use" in done.stderr
    assert "Traceback" not in done.stderr
