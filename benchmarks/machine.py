"""What the machine looks like while we measure: cores, load, and how busy the CPUs were
(ours and everyone else's), read from /proc."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path


def describe() -> dict[str, object]:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    return {
        "cpus": os.cpu_count(),
        "cpuModel": model,
        "memGiB": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadAvg1m": round(os.getloadavg()[0], 2),
    }


@dataclass
class CpuMark:
    busy: float
    total: float
    own: float

    @classmethod
    def now(cls) -> CpuMark:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + fields[4]
        ticks = os.sysconf("SC_CLK_TCK")
        times = os.times()
        return cls((sum(fields) - idle) / ticks, sum(fields) / ticks, times.user + times.system)


def busy_between(start: CpuMark, end: CpuMark) -> dict[str, float]:
    """Machine-wide busy cores, and the generator's (this process's) share, over an interval."""
    cpus = os.cpu_count() or 1
    wall = (end.total - start.total) / cpus
    if wall <= 0:
        return {"machineBusyCores": 0.0, "generatorCores": 0.0}
    return {
        "machineBusyCores": round((end.busy - start.busy) / wall, 2),
        "generatorCores": round((end.own - start.own) / wall, 2),
    }


BACKENDS = {"beam.smp": "rabbitmq", "postgres": "postgresql", "redis-server": "redis"}


def backend_cpu() -> dict[str, float]:
    """CPU seconds so far of the backend servers' processes (read from /proc, by name)."""
    ticks = os.sysconf("SC_CLK_TCK")
    totals = dict.fromkeys(BACKENDS.values(), 0.0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        group = BACKENDS.get(name)
        if group:
            fields = stat.rsplit(")", 1)[1].split()
            totals[group] += (int(fields[11]) + int(fields[12])) / ticks
    return totals


def git_commit(root: Path) -> str:
    """The commit being measured, with '+dirty' when the work tree has changes to src/."""
    import subprocess

    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")
