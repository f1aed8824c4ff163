"""The containments a narrowed metadata search asks PostgreSQL's metadata GIN for
(`postgres_job_search.containing`): every job whose `metadata ->> key` is the value must
contain one of them, and each must be JSON PostgreSQL takes, or the search keeps job_meta."""

from __future__ import annotations

import json

import pytest

from observatory.core.stores.postgres_job_search import containing


def test_a_plain_text_value_is_contained_as_a_string() -> None:
    assert containing("tenant", "tenant-17") == ['{"tenant": "tenant-17"}']


@pytest.mark.parametrize(
    ("value", "as_json"),
    [("5", "5"), ("7.5", "7.5"), ("-0", "-0"), ("true", "true"), ("false", "false")],
)
def test_the_text_of_a_number_or_boolean_is_also_that_json_value(value: str, as_json: str) -> None:
    """Written as given, so PostgreSQL reads the number exactly (no float rounding)."""
    assert containing("n", value) == [json.dumps({"n": value}), f'{{"n": {as_json}}}']


def test_exact_digits_are_kept() -> None:
    digits = "0.1000000000000000055511151231257827"
    assert containing("n", digits)[-1] == f'{{"n": {digits}}}'  # type: ignore[index]


@pytest.mark.parametrize(
    "value", ["null", '"acme"', "NaN", "Infinity", "{", "5 5", "1e5", "1E-20000", "9" * 201]
)
def test_text_that_stands_for_no_other_json_value_is_only_a_string(value: str) -> None:
    """null has no text form, a JSON string's text is not that string, NaN is not JSON,
    PostgreSQL writes no number with an exponent, and a value over 200 characters is one
    no filter asks for (numeric would refuse some)."""
    assert containing("n", value) == [json.dumps({"n": value})]


@pytest.mark.parametrize(
    ("key", "value"),
    [("nested", '{"a": 1}'), ("list", "[1, 2]"), ("k", "a\x00b"), ("k\x00", "v"), ("k", "\udc80")],
)
def test_objects_arrays_and_text_postgresql_refuses_keep_job_meta(key: str, value: str) -> None:
    """Containment is not equality for objects and arrays; PostgreSQL takes no NUL and no
    unpaired surrogate in JSON."""
    assert containing(key, value) is None
