"""The splash animation's frame arithmetic and the dashboard's text rendering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from observatory.interfaces.tui import art
from observatory.interfaces.tui.models import Alert, Alerts, Stats
from observatory.interfaces.tui.render import alerts_text, indicator, short_time, stats_text


def test_the_logo_is_a_block_of_equal_width_lines() -> None:
    lines = art.logo_block().split("\n")
    assert 8 <= len(lines) <= 14
    assert len({len(line) for line in lines}) == 1


def test_the_spinner_cycles_through_ten_braille_frames() -> None:
    frames = [art.spinner(frame) for frame in range(20)]
    assert frames[:10] == frames[10:]
    assert len(set(frames)) == 10
    assert all(0x2800 <= ord(glyph) <= 0x28FF for glyph in frames)


def test_messages_change_every_fifteen_frames_and_cycle() -> None:
    assert art.loading_message(0) == art.loading_message(14) == art.LOADING_MESSAGES[0]
    assert art.loading_message(15) == art.LOADING_MESSAGES[1]
    cycle = art.FRAMES_PER_MESSAGE * len(art.LOADING_MESSAGES)
    assert art.loading_message(cycle) == art.LOADING_MESSAGES[0]


def test_dots_grow_from_one_to_four_and_restart() -> None:
    assert [art.dots(f * art.FRAMES_PER_DOT) for f in range(5)] == [".", "..", "...", "....", "."]


NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def test_the_indicator_shows_connection_state_and_data_age() -> None:
    assert indicator(None, None, NOW).plain == "○ connecting…"
    assert indicator(NOW - timedelta(seconds=3), None, NOW).plain == "● live · updated 3s ago"
    offline = indicator(NOW - timedelta(seconds=75), "connection refused", NOW).plain
    assert offline == "● offline · data 1m15s old · connection refused"
    assert indicator(None, "timeout", NOW).plain == "● offline · no data yet · timeout"


def test_stats_show_every_counter_and_the_last_event() -> None:
    text = stats_text(Stats(10, 7, 2, 1, 0, "2026-01-01T11:59:58.123Z")).plain
    for part in (
        "Total",
        "10",
        "Completed",
        "7",
        "Failed",
        "2",
        "In flight",
        "1",
        "2026-01-01 11:59:58",
    ):
        assert part in text


def test_alerts_show_the_first_three_coloured_by_severity() -> None:
    alerts = Alerts(
        True,
        "",
        tuple(Alert(f"Alert{n}", "critical" if n == 0 else "warning", "svc", "") for n in range(5)),
    )
    text = alerts_text(alerts, None, paused=False)
    assert [line.split(" ")[1] for line in text.plain.split("\n")[:3]] == [
        "Alert0",
        "Alert1",
        "Alert2",
    ]
    assert "…and 2 more" in text.plain
    styles = {span.style for span in text.spans}
    assert "bold red" in styles
    assert "yellow" in styles


def test_alerts_unavailable_and_paused_states_say_why() -> None:
    assert alerts_text(Alerts(True), None, paused=False).plain == "✓ No active alerts"
    unavailable = alerts_text(Alerts(False, "Alertmanager is not configured"), None, paused=False)
    assert unavailable.plain == "⚠ Unavailable (Alertmanager is not configured)"
    paused = alerts_text(None, "Read model returned 500: boom", paused=True).plain
    assert "Unavailable (Read model returned 500: boom)" in paused
    assert "press R" in paused


def test_times_are_shortened_and_unparseable_ones_kept() -> None:
    assert short_time("2026-01-01T11:59:58.123Z") == "2026-01-01 11:59:58"
    assert short_time("") == "-"
    assert short_time("yesterday") == "yesterday"
