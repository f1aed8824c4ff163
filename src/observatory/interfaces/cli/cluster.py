"""`odto cluster up|down|status [--json]`: the whole system on a local kind cluster.

    odto cluster up        # create/reuse kind cluster `task-observatory`, build and load the
                           # image, apply deploy/k8s/overlays/kind, wait, port-forward, verify
    odto cluster status    # what runs: cluster, pods, port-forwards, health
    odto cluster down      # stop the port-forwards and delete the kind cluster

Needs docker (running), kind and kubectl on PATH and a checkout of the repository (the
Dockerfile and the manifests) with the release wheel in dist/ (`make dist`), which the
image installs; kubectl always gets `--context kind-<name>`, so the user's
current context is left alone. Progress is one line per step; with --json one JSON object
per line, `{"step", "status", "message"}` with status starting|complete|error|skipped|
warning, ending with `{"step": "ready", "status": "complete", "message", "urls"}` — the
TUI's launcher reads these. A failure prints an `error` record naming the step and exits 1.
Command output goes to <ODTO_DATA_DIR>/cluster/cluster.log; port-forward pids to
<ODTO_DATA_DIR>/cluster/state.json, which is how `down` finds them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from observatory import __version__
from observatory.core.contracts.registry import RegistryError, load_registry
from observatory.interfaces.cli import cluster_down as down
from observatory.interfaces.cli import cluster_steps as steps
from observatory.interfaces.cli.cluster_tools import State, StepError, Tools, stop_port_forwards
from observatory.interfaces.cli.progress import Progress
from observatory.interfaces.cli.settings import CliSettings


class Reporter:
    """Step records through the shared `Progress` of `odto up`, remembering the last step
    so that a failure is reported on the step it happened in."""

    def __init__(self, *, as_json: bool) -> None:
        self.progress = Progress(as_json=as_json)
        self.step = "prereqs"

    def __call__(self, step: str, status: str, message: str, **extra: Any) -> None:
        self.step = step
        urls: dict[str, str] = extra.pop("urls", {})
        if self.progress.as_json:
            self.progress.step(step, status, message, **extra, **({"urls": urls} if urls else {}))
            return
        self.progress.step(step, status, message, **extra)
        width = max((len(name) for name in urls), default=0)
        for name, url in urls.items():
            self.progress.out.write(f"    {name:<{width}}  {url}\n")
        self.progress.out.flush()


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `odto cluster up|down|status` to the CLI."""
    parser = subparsers.add_parser(
        "cluster",
        help="run the system on a local kind (Kubernetes) cluster",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="cluster_action", required=True, metavar="ACTION")
    up = actions.add_parser("up", help="create the cluster, deploy, port-forward and verify")
    _common(up)
    up.add_argument("--timeout", type=_seconds, default=600.0, help="seconds to wait for pods")
    up.add_argument("--skip-build", action="store_true", help="use the image as already built")
    up.add_argument("--no-port-forward", action="store_true", help="skip ports and verify")
    up.add_argument(
        "--verify-timeout", type=_seconds, default=60.0, help="seconds for the health checks"
    )
    up.set_defaults(func=run_up)
    down = actions.add_parser("down", help="stop the port-forwards and delete the cluster")
    _common(down)
    down.add_argument("--keep-cluster", action="store_true", help="only stop port-forwards")
    down.set_defaults(func=run_down)
    status = actions.add_parser("status", help="report cluster, pods, ports and health")
    _common(status)
    status.add_argument("--verify-timeout", type=_seconds, default=5.0, help=argparse.SUPPRESS)
    status.set_defaults(func=run_status)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--name", default="task-observatory", help="kind cluster name")
    parser.add_argument(
        "--project-dir",
        type=Path,
        default=None,
        help="repository checkout (default: found above .)",
    )
    parser.add_argument(
        "--port-offset",
        type=int,
        default=0,
        help="add this to every local port (e.g. 10000 beside another stack)",
    )
    parser.add_argument(
        "--registry",
        type=Path,
        default=None,
        help="UI registry file (default $ODTO_UI_REGISTRY, else the packaged one)",
    )


def _seconds(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0 (got {value})")
    return number


def find_project_dir(start: Path) -> Path:
    """The nearest directory at or above `start` holding the kind overlay, else `start`."""
    for folder in (start, *start.parents):
        if (folder / steps.OVERLAY / "kustomization.yaml").is_file():
            return folder
    return start


def build_plan(args: argparse.Namespace) -> steps.Plan:
    settings = CliSettings()
    registry_file = args.registry or settings.ui_registry or None
    try:
        registry = load_registry(Path(registry_file) if registry_file else None)
    except RegistryError as exc:
        raise StepError(str(exc)) from exc
    ports = [entry.port + args.port_offset for entry in registry.entries]
    if any(not 0 < port <= 65535 for port in ports):
        raise StepError(f"--port-offset {args.port_offset} moves a port outside 1-65535")
    project = (args.project_dir or find_project_dir(Path.cwd())).resolve()
    return steps.Plan(
        project_dir=project,
        data_dir=Path(settings.data_dir or ".odto").resolve(),
        registry=registry,
        image=f"task-observatory:{__version__}",
        version=__version__,
        name=args.name,
        pods_timeout=getattr(args, "timeout", 600.0),
        verify_timeout=getattr(args, "verify_timeout", 60.0),
        port_offset=args.port_offset,
        build=not getattr(args, "skip_build", False),
        port_forward=not getattr(args, "no_port_forward", False),
        keep_cluster=getattr(args, "keep_cluster", False),
    )


def _execute(args: argparse.Namespace, body: Callable[[steps.Plan, Tools, Reporter], int]) -> int:
    progress = Reporter(as_json=args.json)
    try:
        plan = build_plan(args)
        tools = Tools(log=plan.cluster_dir / "cluster.log", cwd=plan.project_dir)
        return body(plan, tools, progress)
    except StepError as exc:
        progress(progress.step, "error", str(exc))
        return 1
    except KeyboardInterrupt:
        progress(progress.step, "error", "Interrupted")
        return 130


def run_up(args: argparse.Namespace) -> int:
    def body(plan: steps.Plan, tools: Tools, report: Reporter) -> int:
        steps.prereqs(plan, tools, report)
        steps.cluster(plan, tools, report)
        steps.image(plan, tools, report)
        steps.load(plan, tools, report)
        steps.deploy(plan, tools, report)
        steps.pods(plan, tools, report)
        try:
            steps.ports(plan, tools, report)
            steps.verify(plan, report)
        except BaseException:
            # A failed `up` leaves no background process behind (the cluster stays).
            stop_port_forwards(State(plan.cluster_dir / "state.json"))
            raise
        urls = plan.urls() if plan.port_forward else {}
        report("ready", "complete", "System ready (`odto cluster down` stops it)", urls=urls)
        return 0

    return _execute(args, body)


def run_down(args: argparse.Namespace) -> int:
    def body(plan: steps.Plan, tools: Tools, report: Reporter) -> int:
        down.down_ports(plan, report)
        down.down_cluster(plan, tools, report)
        return 0

    return _execute(args, body)


def run_status(args: argparse.Namespace) -> int:
    def body(plan: steps.Plan, tools: Tools, report: Reporter) -> int:
        missing = [name for name in ("docker", "kind", "kubectl") if tools.which(name) is None]
        if missing:
            report("prereqs", "warning", "Missing: " + ", ".join(missing))
        else:
            report("prereqs", "complete", "docker, kind and kubectl are available")
        if "kind" in missing or not steps.cluster_exists(plan, tools):
            report("cluster", "warning", f"No kind cluster {plan.name}")
            return 1
        report("cluster", "complete", f"kind cluster {plan.name} exists")
        healthy = True
        if "kubectl" in missing:
            report("pods", "skipped", "kubectl is missing")
            healthy = False
        else:
            ready, total = down.pod_counts(plan, tools)
            healthy = bool(total) and ready == total
            report("pods", "complete" if healthy else "warning", f"Pods ready: {ready}/{total}")
        running, recorded = down.running_port_forwards(plan)
        forwarded = bool(recorded) and running == recorded
        report("ports", "complete" if forwarded else "warning",
               f"Port-forwards running: {running}/{recorded}")  # fmt: skip
        if not forwarded:
            return 1
        try:
            steps.verify(plan, lambda *a, **k: None)
        except StepError as exc:
            report("verify", "warning", str(exc))
            return 1
        report("verify", "complete", "gateway and read-model are healthy", urls=plan.urls())
        return 0 if healthy else 1

    return _execute(args, body)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m observatory.interfaces.cli.cluster ...`, the same as `odto cluster ...`."""
    parser = argparse.ArgumentParser(prog="odto")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["cluster", *(sys.argv[1:] if argv is None else argv)])
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
