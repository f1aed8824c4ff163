"""Fake `docker`, `kind` and `kubectl` for the `odto cluster` tests.

Each fake executable (written by `install`) runs `main(tool, argv)`. It appends the call
(`{"tool", "argv", "cwd", ...}`) to `calls.jsonl` in FAKE_TOOLS_DIR and behaves as the
scenario in `scenario.json` there says: exit codes and output per command, which kind
clusters exist (kept in `clusters.json` so create/delete are remembered), and what the
forwarded services answer. `kubectl port-forward` really listens on its local port and
answers every GET with the scenario's status for that service, until it is terminated.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

KUBECTL_TIMEOUT = "error: timed out waiting for the condition"


def install(bin_dir: Path, tools: tuple[str, ...] = ("docker", "kind", "kubectl")) -> None:
    """Write executables named after `tools` into `bin_dir` that run this module."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    here = Path(__file__).resolve().parent
    for tool in tools:
        script = bin_dir / tool
        script.write_text(
            f"#!{sys.executable}\n"
            "import sys\n"
            f"sys.path.insert(0, {str(here)!r})\n"
            "import fake_tool\n"
            f"sys.exit(fake_tool.main({tool!r}, sys.argv[1:]))\n",
            "utf-8",
        )
        script.chmod(0o755)


def main(tool: str, argv: list[str]) -> int:
    folder = Path(os.environ["FAKE_TOOLS_DIR"])
    scenario: dict[str, Any] = json.loads((folder / "scenario.json").read_text("utf-8"))
    call: dict[str, Any] = {"tool": tool, "argv": argv, "cwd": os.getcwd()}
    if tool == "kind" and argv[:2] == ["create", "cluster"] and "--config" in argv:
        call["config"] = Path(argv[argv.index("--config") + 1]).read_text("utf-8")
    with (folder / "calls.jsonl").open("a", encoding="utf-8") as log:
        log.write(json.dumps(call) + "\n")
    handler = {"docker": docker, "kind": kind, "kubectl": kubectl}[tool]
    return handler(argv, scenario, folder)


def docker(argv: list[str], scenario: dict[str, Any], folder: Path) -> int:
    if argv[:1] == ["info"]:
        if scenario.get("docker_info", 0):
            print(
                "Cannot connect to the Docker daemon. Is the docker daemon running?",
                file=sys.stderr,
            )
            return 1
        print("Server Version: 27.0.0")
        return 0
    if argv[:1] == ["build"]:
        if scenario.get("docker_build", 0):
            print("ERROR: failed to solve: process did not complete successfully", file=sys.stderr)
            return 1
        print("naming to docker.io/library/" + argv[argv.index("-t") + 1])
        return 0
    return 0


def kind(argv: list[str], scenario: dict[str, Any], folder: Path) -> int:
    store = folder / "clusters.json"
    clusters: list[str] = (
        json.loads(store.read_text("utf-8"))
        if store.exists()
        else list(scenario.get("clusters", []))
    )
    name = argv[argv.index("--name") + 1] if "--name" in argv else "kind"
    if argv[:2] == ["get", "clusters"]:
        if not clusters:
            print("No kind clusters found.", file=sys.stderr)
        for cluster in clusters:
            print(cluster)
        return 0
    if argv[:2] == ["create", "cluster"]:
        if scenario.get("kind_create", 0):
            print("ERROR: failed to create cluster: node(s) already exist", file=sys.stderr)
            return 1
        clusters.append(name)
    elif argv[:2] == ["delete", "cluster"]:
        clusters = [c for c in clusters if c != name]
    elif argv[:2] == ["load", "docker-image"] and scenario.get("kind_load", 0):
        print("ERROR: image not present locally", file=sys.stderr)
        return 1
    store.write_text(json.dumps(clusters), "utf-8")
    return 0


def kubectl(argv: list[str], scenario: dict[str, Any], folder: Path) -> int:
    verb = next((a for a in argv if not a.startswith("-") and a not in _option_values(argv)), "")
    if verb == "apply":
        return int(scenario.get("kubectl_apply", 0))
    if verb == "get" and "deployments,statefulsets" in argv:
        print("\n".join(scenario.get("workloads", ["deployment.apps/gateway"])))
        return 0
    if verb == "get" and "pods" in argv:
        ready = scenario.get("pods_ready", [True, True])
        items = [
            {"status": {"conditions": [{"type": "Ready", "status": "True" if r else "False"}]}}
            for r in ready
        ]
        print(json.dumps({"items": items}))
        return 0
    if verb == "rollout":
        mode = scenario.get("rollout", "ok")
        if mode == "hang":  # like a rollout that never ends: stay until the CLI kills us
            signal.pause()
        if mode == "timeout":
            print(KUBECTL_TIMEOUT, file=sys.stderr)
            return 1
        print(f"{argv[argv.index('status') + 1]} successfully rolled out")
        return 0
    if verb == "port-forward":
        return port_forward(argv, scenario)
    return 0


def _option_values(argv: list[str]) -> set[str]:
    """Values of kubectl's global options (--context X, --namespace Y)."""
    return {argv[i + 1] for i, a in enumerate(argv[:-1]) if a in {"--context", "--namespace"}}


def port_forward(argv: list[str], scenario: dict[str, Any]) -> int:
    service = next(a for a in argv if a.startswith("svc/"))[4:]
    local = int(next(a for a in argv if ":" in a and a.split(":")[0].isdigit()).split(":")[0])
    if service in scenario.get("port_forward_fail", []):
        print(f"Unable to listen on port {local}: address already in use", file=sys.stderr)
        return 1
    status = int(scenario.get("health", {}).get(service, 200))

    class Answer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"status": "ok" if status == 200 else "down"}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", local), Answer)
    print(f"Forwarding from 127.0.0.1:{local} -> {service}", flush=True)
    server.serve_forever()
    return 0
