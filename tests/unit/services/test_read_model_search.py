"""GET /jobs search through the read model's HTTP API over the embedded stores: filters
combine, keyset pages walk them, and every malformed filter is a 400 naming its field
(never 500) (SPEC §13)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from tests.unit.services.embedded import Embedded

from observatory.core.clock import iso
from observatory.core.stores.records import AttemptEnd, AttemptStart


async def seed(embedded: Embedded, count: int = 12) -> list[dict[str, Any]]:
    """`count` jobs a minute apart; types EMAIL/REPORT in turn; odd ones FAILED with an
    error naming their region; metadata {region, shard}. Newest first, as /jobs lists."""
    clock = embedded.clock
    made = []
    for n in range(count):
        job_id = clock.new_id()
        region = ("eu-west", "us-east", "ap-south")[n % 3]
        await embedded.jobs.begin(
            [
                AttemptStart(
                    job_id=job_id,
                    type=("EMAIL", "REPORT")[n % 2],
                    payload={},
                    metadata={"region": region, "shard": n % 4},
                    created_at=clock.now(),
                    attempt=1,
                    run=1,
                    event_id=clock.new_id(),
                    correlation_id=clock.new_id(),
                    at=clock.now(),
                )
            ]
        )
        failed = n % 2 == 1
        error = f"Upstream {region.upper()} refused" if failed else None
        status = "FAILED" if failed else "COMPLETED"
        await embedded.jobs.finish(
            [AttemptEnd(job_id, 1, status, status.lower(), error, clock.now())]
        )
        made.append({"id": job_id, "n": n, "region": region, "status": status})
        clock.advance(60)
    return list(reversed(made))


async def ids(client: httpx.AsyncClient, query: str) -> list[str]:
    """Every id /jobs?query lists, page by page (3 a page) through nextCursor."""
    found: list[str] = []
    cursor = ""
    for _ in range(50):
        answer = await client.get(f"/jobs?{query}&limit=3{cursor}")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        found += [item["id"] for item in body["items"]]
        if body["nextCursor"] is None:
            return found
        cursor = f"&cursor={body['nextCursor']}"
    raise AssertionError("cursor does not advance")


async def test_filters_combine_and_pages_walk_them(
    read_model: httpx.AsyncClient, embedded: Embedded
) -> None:
    """type, status, time range, error text, metadata and id prefix each narrow the list,
    together they intersect, and cursors walk each selection newest first."""
    jobs = await seed(embedded)
    start = embedded.clock.now() - timedelta(minutes=12)

    def expect(keep: Any) -> list[str]:
        return [j["id"] for j in jobs if keep(j)]

    assert await ids(read_model, "type=REPORT") == expect(lambda j: j["n"] % 2 == 1)
    assert await ids(read_model, "status=FAILED&error=us-EAST") == expect(
        lambda j: j["status"] == "FAILED" and j["region"] == "us-east"
    )
    assert await ids(read_model, "meta.region=eu-west&meta.shard=0") == expect(
        lambda j: j["region"] == "eu-west" and j["n"] % 4 == 0
    )
    window = f"from={iso(start + timedelta(minutes=3))}&to={iso(start + timedelta(minutes=7))}"
    assert await ids(read_model, window) == expect(lambda j: 3 <= j["n"] < 7)
    assert await ids(read_model, f"{window}&type=EMAIL&meta.region=ap-south") == expect(
        lambda j: 3 <= j["n"] < 7 and j["n"] % 2 == 0 and j["region"] == "ap-south"
    )
    target = jobs[4]["id"]
    assert target in await ids(read_model, f"idPrefix={target[:10].upper()}")
    assert await ids(read_model, f"idPrefix={target}") == [target]
    assert await ids(read_model, "status=PENDING") == []


BAD = {
    "bad-time": ("from=yesterday", "$.from"),
    "time-out-of-range": ("to=0001-01-01T00:00:00%2B23:59", "$.to"),
    "from-after-to": ("from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "$.from"),
    "updated-order": (
        "updatedFrom=2026-02-01T00:00:00Z&updatedTo=2026-01-01T00:00:00Z",
        "$.updatedFrom",
    ),
    "bad-status": ("status=DONE", "$.status"),
    "bad-type": ("type=a.b", "$.type"),
    "prefix-not-hex": ("idPrefix=xyz", "$.idPrefix"),
    "prefix-hyphen-misplaced": ("idPrefix=ab-cd", "$.idPrefix"),
    "prefix-too-long": ("idPrefix=" + "a" * 8 + "-aaaa" * 3 + "-" + "a" * 13, "$.idPrefix"),
    "meta-key-empty": ("meta.=x", "$.meta."),
    "meta-key-too-long": ("meta." + "k" * 65 + "=x", "$.meta." + "k" * 65),
    "meta-key-quote": ('meta.a"b=x', '$.meta.a"b'),
    "too-many-meta": ("&".join(f"meta.k{i}=v" for i in range(6)), "$.meta"),
    "unknown-filter": ("colour=red", "$.colour"),
    "twice": ("type=A&type=B", "$.type"),
    "error-too-long": ("error=" + "e" * 201, "$.error"),
    "bad-cursor": ("cursor=nonsense", "$.cursor"),
    "bad-limit": ("limit=0", "$.limit"),
}


@pytest.mark.parametrize(("query", "field"), BAD.values(), ids=BAD.keys())
async def test_a_malformed_filter_is_a_400_naming_the_field(
    read_model: httpx.AsyncClient, embedded: Embedded, query: str, field: str
) -> None:
    """Each malformed filter answers 400 JSON whose details name the field."""
    await seed(embedded, 2)
    answer = await read_model.get(f"/jobs?{query}")
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert field in [d["path"] for d in body["details"]], body
