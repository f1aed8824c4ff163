"""`odto cluster up|down|status` driven end to end against fake docker/kind/kubectl."""

from __future__ import annotations

import json
import socket

from tests.e2e.cluster.world import WORKLOADS, FakeCluster

from observatory import __version__
from observatory.core.contracts.registry import load_registry
from observatory.interfaces.cli.cluster_tools import is_port_forward

UP_STEPS = [
    ("prereqs", "complete"),
    ("cluster", "complete"),
    ("image", "complete"),
    ("load", "complete"),
    ("deploy", "complete"),
    ("pods", "complete"),
    ("ports", "complete"),
    ("verify", "complete"),
    ("ready", "complete"),
]
CONTEXT = ["--context", "kind-task-observatory", "--namespace", "task-observatory"]
IMAGE = f"task-observatory:{__version__}"


def test_up_creates_builds_loads_deploys_waits_forwards_and_verifies(
    fake_cluster: FakeCluster,
) -> None:
    """A clean `up` runs every step in order, one JSON record per line, and ends ready."""
    outcome = fake_cluster.run("up", "--json")

    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert outcome.steps == UP_STEPS
    for record in outcome.records:
        assert {"step", "status", "message"} <= record.keys()
    kind = outcome.argvs("kind")
    assert ["get", "clusters"] in kind
    create = next(c for c in outcome.calls if c["argv"][:2] == ["create", "cluster"])
    assert create["argv"][2:4] == ["--name", "task-observatory"]
    assert "kind: Cluster" in create["config"]
    assert 'ingress-ready: "true"' in create["config"]
    build = outcome.argvs("docker")[-1]
    assert build[:5] == ["build", "-f", "deploy/docker/Dockerfile", "-t", IMAGE]
    assert build[-1] == "."
    assert ["load", "docker-image", IMAGE, "--name", "task-observatory"] in kind
    kubectl = outcome.argvs("kubectl")
    assert [*CONTEXT, "apply", "-k", "deploy/k8s/overlays/kind"] in kubectl
    rolled = [argv[argv.index("status") + 1] for argv in kubectl if "rollout" in argv]
    assert rolled == WORKLOADS
    assert all(
        any(a.startswith("--timeout=") for a in argv) for argv in kubectl if "rollout" in argv
    )


def test_up_ends_with_the_ready_record_and_the_forwarded_urls(fake_cluster: FakeCluster) -> None:
    """The last record carries the URL of every registry entry on its forwarded port."""
    outcome = fake_cluster.run("up", "--json")

    ready = outcome.records[-1]
    assert ready["step"] == "ready"
    assert ready["status"] == "complete"
    offset = fake_cluster.offset
    keys = {"dashboard": "webDashboard", "gateway-docs": "gatewayDocs",
            "read-model-docs": "readModelDocs", "mongo-express": "mongoExpress"}  # fmt: skip
    for entry in load_registry().entries:
        url = f"http://localhost:{entry.port + offset}{entry.path}"
        assert ready["urls"][keys.get(entry.id, entry.id)] == url
    assert ready["urls"]["gateway"] == f"http://localhost:{3000 + offset}"
    assert ready["urls"]["readModel"] == f"http://localhost:{8080 + offset}"


def test_up_port_forwards_every_registry_port_and_down_stops_them(
    fake_cluster: FakeCluster,
) -> None:
    """`up` leaves one live port-forward per registry entry; `down` stops exactly those."""
    up = fake_cluster.run("up", "--json")
    assert up.code == 0, up.stdout + up.stderr

    forwards = [a for a in up.argvs("kubectl") if "port-forward" in a]
    assert len(forwards) == len(load_registry().entries)
    assert all(a[:4] == CONTEXT and "127.0.0.1" in a for a in forwards)
    pids = fake_cluster.recorded_pids()
    assert len(pids) == len(forwards)
    assert all(is_port_forward(pid) for pid in pids)
    with socket.create_connection(("127.0.0.1", 8081 + fake_cluster.offset), timeout=2):
        pass

    down = fake_cluster.run("down", "--json")

    assert down.code == 0, down.stdout + down.stderr
    assert down.steps == [("ports", "complete"), ("cluster", "complete")]
    assert not any(is_port_forward(pid) for pid in pids)
    assert ["delete", "cluster", "--name", "task-observatory"] in down.argvs("kind")
    assert not fake_cluster.state_file.exists()


def test_up_creates_the_git_ignored_secrets_env_with_random_passwords(
    fake_cluster: FakeCluster,
) -> None:
    """The Secret's env file is generated once, with every password filled, and then kept."""
    first = fake_cluster.run("up", "--json", "--no-port-forward")
    assert first.code == 0, first.stdout + first.stderr
    values = dict(
        line.split("=", 1)
        for line in fake_cluster.secrets_env.read_text("utf-8").splitlines()
        if "=" in line and not line.startswith("#")
    )
    passwords = {k: v for k, v in values.items() if k.endswith("_PASSWORD")}
    assert passwords
    assert all(len(v) >= 20 for v in passwords.values())
    assert len(set(passwords.values())) == len(passwords)
    assert fake_cluster.secrets_env.stat().st_mode & 0o077 == 0

    again = fake_cluster.run("up", "--json", "--no-port-forward")

    assert again.code == 0
    assert fake_cluster.secrets_env.read_text("utf-8").count("=") == len(values)
    assert (
        dict(
            line.split("=", 1)
            for line in fake_cluster.secrets_env.read_text("utf-8").splitlines()
            if "=" in line and not line.startswith("#")
        )
        == values
    )


def test_up_reuses_an_existing_cluster(fake_cluster: FakeCluster) -> None:
    """With the cluster already there, `up` says so and creates nothing."""
    outcome = fake_cluster.run(
        "up", "--json", "--no-port-forward", scenario={"clusters": ["task-observatory"]}
    )

    assert outcome.code == 0
    assert not any(a[:2] == ["create", "cluster"] for a in outcome.argvs("kind"))
    cluster = [r for r in outcome.records if r["step"] == "cluster"][-1]
    assert "existing" in cluster["message"]
    assert ("ports", "skipped") in outcome.steps
    assert ("verify", "skipped") in outcome.steps


def test_up_without_docker_fails_at_prereqs_and_does_nothing_else(
    fake_cluster: FakeCluster,
) -> None:
    """A missing docker is named in the error; no cluster is created."""
    (fake_cluster.bin / "docker").unlink()

    outcome = fake_cluster.run("up", "--json")

    assert outcome.code == 1
    assert outcome.records[-1]["step"] == "prereqs"
    assert outcome.records[-1]["status"] == "error"
    assert "Missing: docker" in outcome.records[-1]["message"]
    assert outcome.argvs("kind") == []
    assert outcome.argvs("kubectl") == []


def test_up_without_the_release_wheel_says_to_build_it_and_creates_nothing(
    fake_cluster: FakeCluster,
) -> None:
    """The image is built from dist/'s wheel: without it, `up` names the file and the fix
    before any cluster is created."""
    for wheel in (fake_cluster.project / "dist").glob("*.whl"):
        wheel.unlink()

    outcome = fake_cluster.run("up", "--json")

    assert outcome.code == 1
    assert outcome.steps == [("prereqs", "error")]
    assert "make dist" in outcome.records[-1]["message"]
    assert "task_observatory-" in outcome.records[-1]["message"]
    assert outcome.argvs("kind") == []


def test_up_with_docker_not_running_fails_at_prereqs(fake_cluster: FakeCluster) -> None:
    """docker on PATH but its daemon down is a prerequisite failure that says so."""
    outcome = fake_cluster.run("up", "--json", scenario={"docker_info": 1})

    assert outcome.code == 1
    assert outcome.steps == [("prereqs", "error")]
    assert "not running" in outcome.records[-1]["message"]


def test_up_fails_at_cluster_when_kind_cannot_create_it(fake_cluster: FakeCluster) -> None:
    """kind's own error message is reported on the cluster step; nothing is built."""
    outcome = fake_cluster.run("up", "--json", scenario={"kind_create": 1})

    assert outcome.code == 1
    assert outcome.steps == [("prereqs", "complete"), ("cluster", "error")]
    assert "node(s) already exist" in outcome.records[-1]["message"]
    assert not any(a[:1] == ["build"] for a in outcome.argvs("docker"))


def test_up_fails_at_image_when_the_build_fails(fake_cluster: FakeCluster) -> None:
    """A failed docker build stops `up` before anything is loaded or applied."""
    outcome = fake_cluster.run("up", "--json", scenario={"docker_build": 1})

    assert outcome.code == 1
    assert outcome.steps[-1] == ("image", "error")
    assert "failed to solve" in outcome.records[-1]["message"]
    assert not any(a[:1] == ["load"] for a in outcome.argvs("kind"))
    assert outcome.argvs("kubectl") == []


def test_up_fails_at_pods_when_kubectl_times_out(fake_cluster: FakeCluster) -> None:
    """kubectl's own rollout timeout becomes a `pods` error naming the workload."""
    outcome = fake_cluster.run("up", "--json", "--timeout", "5", scenario={"rollout": "timeout"})

    assert outcome.code == 1
    assert outcome.steps[-1] == ("pods", "error")
    assert "Timeout" in outcome.records[-1]["message"]
    assert WORKLOADS[0] in outcome.records[-1]["message"]
    assert not any("port-forward" in a for a in outcome.argvs("kubectl"))


def test_up_kills_a_hung_wait_and_reports_the_timeout(fake_cluster: FakeCluster) -> None:
    """A kubectl that never returns is killed past the deadline; `up` does not hang."""
    outcome = fake_cluster.run("up", "--json", "--timeout", "1", scenario={"rollout": "hang"})

    assert outcome.code == 1
    assert outcome.steps[-1] == ("pods", "error")
    assert "Timeout after 1 s" in outcome.records[-1]["message"]


def test_up_fails_at_verify_and_leaves_no_port_forward_running(fake_cluster: FakeCluster) -> None:
    """An unhealthy gateway is an error (exit 1), and the port-forwards are stopped."""
    outcome = fake_cluster.run(
        "up", "--json", "--verify-timeout", "1", scenario={"health": {"gateway": 503}}
    )

    assert outcome.code == 1
    assert outcome.steps[-1] == ("verify", "error")
    assert "503" in outcome.records[-1]["message"]
    pids = fake_cluster.recorded_pids() + fake_cluster.live_port_forwards()
    assert not any(is_port_forward(pid) for pid in pids)


def test_up_fails_at_ports_when_a_port_is_taken(fake_cluster: FakeCluster) -> None:
    """A local port already in use is named before any port-forward starts."""
    taken = 8081 + fake_cluster.offset
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", taken))
        holder.listen()
        outcome = fake_cluster.run("up", "--json")

    assert outcome.code == 1
    assert outcome.steps[-1] == ("ports", "error")
    assert f"{taken} (dashboard)" in outcome.records[-1]["message"]
    assert not any("port-forward" in a for a in outcome.argvs("kubectl"))


def test_up_fails_at_ports_when_a_port_forward_exits(fake_cluster: FakeCluster) -> None:
    """A port-forward that dies is reported with what kubectl said; the others are stopped."""
    outcome = fake_cluster.run("up", "--json", scenario={"port_forward_fail": ["grafana"]})

    assert outcome.code == 1
    assert outcome.steps[-1] == ("ports", "error")
    assert "address already in use" in outcome.records[-1]["message"]
    assert not any(is_port_forward(pid) for pid in fake_cluster.recorded_pids())


def test_status_reports_a_running_cluster_and_exit_zero(fake_cluster: FakeCluster) -> None:
    """After `up`, status sees the cluster, ready pods, the port-forwards and health."""
    assert fake_cluster.run("up", "--json").code == 0

    status = fake_cluster.run("status", "--json")

    assert status.code == 0, status.stdout
    assert status.steps == [
        ("prereqs", "complete"),
        ("cluster", "complete"),
        ("pods", "complete"),
        ("ports", "complete"),
        ("verify", "complete"),
    ]
    assert "2/2" in status.records[2]["message"]
    fake_cluster.run("down", "--json")


def test_status_without_a_cluster_says_so_and_exits_one(fake_cluster: FakeCluster) -> None:
    """No cluster: a warning record and exit status 1, nothing started."""
    status = fake_cluster.run("status", "--json")

    assert status.code == 1
    assert status.steps == [("prereqs", "complete"), ("cluster", "warning")]


def test_down_with_nothing_running_skips_both_steps(fake_cluster: FakeCluster) -> None:
    """`down` on a machine without the cluster is a no-op that still succeeds."""
    outcome = fake_cluster.run("down", "--json")

    assert outcome.code == 0
    assert outcome.steps == [("ports", "skipped"), ("cluster", "skipped")]
    assert not any(a[:2] == ["delete", "cluster"] for a in outcome.argvs("kind"))


def test_human_output_shows_step_icons_and_the_urls(fake_cluster: FakeCluster) -> None:
    """Without --json each record is one readable line and the URLs are listed."""
    outcome = fake_cluster.run("up")
    fake_cluster.run("down", "--json", "--keep-cluster")

    assert outcome.code == 0
    lines = outcome.stdout.splitlines()
    assert lines[0].startswith("[..] [prereqs]")
    assert any(line.startswith("[OK] [ready] System ready") for line in lines)
    assert any(line.strip().startswith("webDashboard") for line in lines)
    assert any(f"http://localhost:{8081 + fake_cluster.offset}/" in line for line in lines)
    assert not any(line.lstrip().startswith("{") for line in lines)
    json.dumps(lines)  # plain text, no control characters that break a log
