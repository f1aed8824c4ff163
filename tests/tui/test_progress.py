"""Reading `odto up --json` output into what the setup screen shows."""

from __future__ import annotations

import json

from observatory.interfaces.tui.progress import (
    SetupProgress,
    apply_exit,
    apply_stderr,
    apply_stdout,
    format_elapsed,
    url_for,
)


def line(**fields: object) -> str:
    return json.dumps(fields) + "\n"


def fresh() -> SetupProgress:
    return SetupProgress(command=("odto", "up", "--json"), started=100.0)


def test_each_progress_line_updates_the_current_step_and_message() -> None:
    progress = fresh()
    apply_stdout(progress, line(step="bus", status="starting", message="Opening the bus"), 101.0)
    assert (progress.step, progress.status, progress.message) == (
        "bus",
        "starting",
        "Opening the bus",
    )
    assert not progress.complete
    assert progress.log[-1].text == "[starting] bus: Opening the bus"


def test_the_ready_line_completes_the_run_and_keeps_the_urls() -> None:
    progress = fresh()
    ready = line(
        step="ready",
        status="complete",
        message="System ready",
        urls={"gateway": "http://localhost:3000", "readModel": "http://localhost:8080"},
    )
    apply_stdout(progress, ready, 107.5)
    assert progress.ready
    assert progress.complete
    assert progress.error is None
    assert url_for(progress.urls, "read-model", "readModel") == "http://localhost:8080"
    assert format_elapsed(progress.elapsed(500.0)) == "00:07"


def test_an_error_line_fails_the_run_with_a_hint() -> None:
    progress = fresh()
    apply_stdout(progress, line(step="cluster", status="error", message="kind not found"), 102.0)
    assert progress.error == "kind not found"
    assert progress.diagnosis is not None
    assert progress.diagnosis.hint == "The 'kind' tool is not installed"
    assert progress.log[-1].is_error


def test_non_json_output_is_logged_and_error_looking_lines_are_highlighted() -> None:
    progress = fresh()
    apply_stdout(progress, "plain words\n", 101.0)
    apply_stderr(progress, "Traceback (most recent call last):\n")
    apply_stderr(progress, "2026 [info] listening\n")
    assert [(entry.text, entry.is_error) for entry in progress.log] == [
        ("plain words", False),
        ("Traceback (most recent call last):", True),
        ("2026 [info] listening", False),
    ]


def test_exiting_before_ready_is_a_failure_that_quotes_the_last_error_line() -> None:
    progress = fresh()
    apply_stderr(progress, "RuntimeError: disk full\n")
    apply_exit(progress, 3, 104.0)
    assert progress.error == "Setup failed with exit code 3: RuntimeError: disk full"
    assert progress.exit_code == 3


def test_a_clean_exit_before_ready_is_still_a_failure() -> None:
    progress = fresh()
    apply_exit(progress, 0, 104.0)
    assert progress.error == "The setup command exited before the system was ready"


def test_exiting_after_ready_is_logged_but_does_not_undo_success() -> None:
    progress = fresh()
    apply_stdout(progress, line(step="ready", status="complete", message="System ready"), 101.0)
    apply_exit(progress, 0, 150.0)
    assert progress.ready
    assert progress.error is None
    assert progress.log[-1].text == "The system process exited with code 0"


def test_the_log_keeps_a_bounded_tail_but_counts_every_line() -> None:
    progress = fresh()
    for number in range(600):
        apply_stderr(progress, f"line {number}\n")
    assert len(progress.log) == 500
    assert progress.log[0].text == "line 100"
    assert progress.log_total == 600
