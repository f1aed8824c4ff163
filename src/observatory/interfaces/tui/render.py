"""Pure functions that turn data into styled text for the screens (no widgets here).

Everything a server sent is placed into `rich.text.Text` as plain text, never parsed as
markup, so a job type or alert label can never restyle the screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.text import Text

from observatory.core.clock import parse_iso
from observatory.core.contracts.vocabulary import JobStatus
from observatory.interfaces.tui.models import Alerts, Stats

STATUS_STYLES: dict[str, str] = {
    JobStatus.PENDING: "yellow",
    JobStatus.VALIDATED: "blue",
    JobStatus.EXECUTING: "magenta",
    JobStatus.COMPLETED: "green",
    JobStatus.FAILED: "bold red",
    JobStatus.CANCELLED: "dim",
}
SEVERITY_STYLES = {"critical": "bold red", "warning": "yellow", "info": "cyan"}
MAX_ALERTS = 3


def status_text(status: str) -> Text:
    return Text(status or "-", style=STATUS_STYLES.get(status, ""))


def short_time(value: str) -> str:
    """'2026-01-01T12:00:03.123Z' → '2026-01-01 12:00:03' (UTC); other text unchanged."""
    if not value:
        return "-"
    try:
        moment = parse_iso(value)
    except ValueError:
        return value
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def age_text(seconds: float) -> str:
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def indicator(last_ok: datetime | None, error: str | None, now: datetime) -> Text:
    """Connection state and data age for the header."""
    if error is None and last_ok is None:
        return Text("○ connecting…", style="dim")
    if error is None and last_ok is not None:
        age = age_text((now - last_ok).total_seconds())
        return Text.assemble(("● live", "bold green"), f" · updated {age} ago")
    data = f"data {age_text((now - last_ok).total_seconds())} old" if last_ok else "no data yet"
    return Text.assemble(("● offline", "bold red"), f" · {data} · ", (error or "", "red"))


def stats_text(stats: Stats | None) -> Text:
    if stats is None:
        return Text("waiting for the read model…", style="dim")
    return Text.assemble(
        ("Total ", "bold"),
        (f"{stats.total:>6}", "bold yellow"),
        ("   Completed ", "bold"),
        (f"{stats.completed:>6}", "bold green"),
        ("   Failed ", "bold"),
        (f"{stats.failed:>5}", "bold red"),
        ("   In flight ", "bold"),
        (f"{stats.in_flight:>4}", "bold magenta"),
        "\n",
        ("Dead letters ", "bold"),
        (f"{stats.dead_letters}", "red" if stats.dead_letters else ""),
        ("   Last event ", "bold"),
        (short_time(stats.last_event) if stats.last_event else "none yet", "blue"),
    )


def spark_total(total: int, window: str) -> Text:
    """What a sparkline adds up to: "12 in 15m"."""
    return Text.assemble((f"{total}", "bold"), (f" in {window}", "dim"))


def alerts_text(alerts: Alerts | None, error: str | None, paused: bool) -> Text:
    """The alerts box: the first MAX_ALERTS alerts, or why there are none to show."""
    if error is not None:
        text = Text(f"⚠ Unavailable ({error})", style="yellow")
        if paused:
            text.append("\n  paused after repeated failures; press R to retry", style="dim")
        return text
    if alerts is None:
        return Text("checking…", style="dim")
    if not alerts.available:
        return Text(f"⚠ Unavailable ({alerts.reason or 'no alert source'})", style="yellow")
    if not alerts.alerts:
        return Text("✓ No active alerts", style="green")
    lines = Text()
    for index, alert in enumerate(alerts.alerts[:MAX_ALERTS]):
        if index:
            lines.append("\n")
        style = SEVERITY_STYLES.get(alert.severity, "yellow")
        lines.append(f"🚨 {alert.name} [{alert.service or '-'}]", style=style)
        if alert.summary:
            lines.append(f" {alert.summary}", style="dim")
    more = len(alerts.alerts) - MAX_ALERTS
    if more > 0:
        lines.append(f"\n  …and {more} more", style="dim")
    return lines


def key_bar(keys: Sequence[tuple[str, str]]) -> Text:
    """'Q Quit  R Refresh ...' with the keys highlighted."""
    text = Text()
    for index, (key, label) in enumerate(keys):
        if index:
            text.append("  ")
        text.append(key, style="bold cyan")
        text.append(f" {label}")
    return text
