"""The steps of `odto cluster down` and `odto cluster status`.

down:   ports (stop the recorded port-forwards) -> cluster (delete the kind cluster)
status: reads the same state: cluster, pods ready, port-forwards alive (health is
        cluster_steps.verify).
"""

from __future__ import annotations

import json

from observatory.interfaces.cli.cluster_steps import Plan, Report, cluster_exists, run_command
from observatory.interfaces.cli.cluster_tools import (
    State,
    StepError,
    Tools,
    is_port_forward,
    stop_port_forwards,
)


def down_ports(plan: Plan, report: Report) -> None:
    state = State(plan.cluster_dir / "state.json")
    stopped = stop_port_forwards(state)
    state.clear()
    if stopped:
        report("ports", "complete", f"Stopped {stopped} port-forwards")
    else:
        report("ports", "skipped", "No port-forwards were running")


def down_cluster(plan: Plan, tools: Tools, report: Report) -> None:
    if plan.keep_cluster:
        report("cluster", "skipped", f"Keeping kind cluster {plan.name} (--keep-cluster)")
        return
    if tools.which("kind") is None:
        raise StepError("Missing: kind")
    if not cluster_exists(plan, tools):
        report("cluster", "skipped", f"No kind cluster {plan.name}")
        return
    report("cluster", "starting", f"Deleting kind cluster {plan.name}")
    result = run_command(
        tools, ["kind", "delete", "cluster", "--name", plan.name], plan.command_timeouts["create"]
    )
    if not result.ok:
        raise StepError(f"kind delete cluster failed: {result.detail()}")
    report("cluster", "complete", f"Deleted kind cluster {plan.name}")


def running_port_forwards(plan: Plan) -> tuple[int, int]:
    """(running, recorded) port-forwards of the state file."""
    forwards = State(plan.cluster_dir / "state.json").port_forwards()
    return sum(1 for f in forwards if is_port_forward(f.pid)), len(forwards)


def pod_counts(plan: Plan, tools: Tools) -> tuple[int, int]:
    """(ready, total) pods of the namespace."""
    result = run_command(
        tools, plan.kubectl("get", "pods", "--output", "json"), plan.command_timeouts["quick"]
    )
    if not result.ok:
        raise StepError(f"kubectl get pods failed: {result.detail()}")
    try:
        items = json.loads(result.stdout).get("items", [])
    except ValueError as exc:
        raise StepError(f"kubectl get pods printed no JSON: {exc}") from exc
    ready = sum(
        1
        for pod in items
        if any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in pod.get("status", {}).get("conditions", [])
        )
    )
    return ready, len(items)
