"""The POST /jobs body's documented schema says what the gateway enforces."""

from __future__ import annotations

import pytest

from observatory.core.contracts.job_request import (
    SIMULATE_BOUNDS,
    request_schema,
    simulate_problems,
)
from observatory.core.contracts.validator import load_schema


def test_request_fields_are_the_job_contracts() -> None:
    """type, id and createdAt are documented exactly as job.json has them."""
    job = load_schema("job")["properties"]
    documented = request_schema()["properties"]
    for name in ("type", "id", "createdAt", "metadata"):
        assert documented[name] == job[name]
    assert documented["status"]["enum"] == ["PENDING"]
    assert request_schema()["required"] == ["type"]


@pytest.mark.parametrize("key", sorted(SIMULATE_BOUNDS))
def test_documented_simulate_bounds_are_enforced(key: str) -> None:
    """Each documented bound is the edge of what simulate_problems lets through."""
    bounds = request_schema()["properties"]["payload"]["properties"]["simulate"]["properties"]
    low, high = bounds[key]["minimum"], bounds[key]["maximum"]
    assert simulate_problems({"simulate": {key: low}}) == []
    assert simulate_problems({"simulate": {key: high}}) == []
    for outside in (low - 1, high + 1):
        [problem] = simulate_problems({"simulate": {key: outside}})
        assert problem.path == f"$.payload.simulate.{key}"
