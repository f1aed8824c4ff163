"""What the New Task and filter dialogs accept, mirroring the gateway's rules."""

from __future__ import annotations

import pytest

from observatory.interfaces.tui.validation import (
    InvalidInput,
    Simulation,
    parse_simulation,
    validate_job_type,
)


def test_a_valid_type_is_returned_without_surrounding_blanks() -> None:
    assert validate_job_type("  REPORT_export-2 ") == "REPORT_export-2"


def test_an_empty_type_is_refused() -> None:
    with pytest.raises(InvalidInput, match="cannot be empty"):
        validate_job_type("   ")


def test_a_type_longer_than_fifty_characters_is_refused() -> None:
    assert validate_job_type("A" * 50) == "A" * 50
    with pytest.raises(InvalidInput, match="too long"):
        validate_job_type("A" * 51)


@pytest.mark.parametrize("bad", ["has space", "semi;colon", "ÜNICODE", "<b>", "dot.ted"])
def test_characters_the_server_rejects_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput, match="letters A-Z, digits"):
        validate_job_type(bad)


def test_blank_simulation_fields_mean_no_simulation() -> None:
    simulation = parse_simulation("", " ", "")
    assert simulation == Simulation()
    assert simulation.as_payload() == {}


def test_simulation_fields_become_the_gateway_simulate_object() -> None:
    simulation = parse_simulation("1500", "0.25", "2")
    assert simulation.as_payload() == {
        "durationMs": 1500,
        "failProbability": 0.25,
        "failAttempts": 2,
    }


@pytest.mark.parametrize(
    ("duration", "probability", "attempts", "message"),
    [
        ("-1", "", "", "Duration"),
        ("60001", "", "", "Duration"),  # the cap is one minute
        ("fast", "", "", "Duration"),
        ("", "1.5", "", "Failure probability"),
        ("", "often", "", "Failure probability"),
        ("", "", "101", "Fail attempts"),
    ],
)
def test_out_of_range_simulation_fields_are_refused(
    duration: str, probability: str, attempts: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_simulation(duration, probability, attempts)
