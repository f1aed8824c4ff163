"""Event bundles (core/bus/bundles.py): which messages of a publish travel together, how a
consumer gets one delivery per event back with its own trace context, and how the
bundle's one message is settled from its parts' outcomes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest

from observatory.core.bus import bundles
from observatory.core.bus.bundles import PARTS_HEADER, TRACEPARENTS_HEADER, join, split
from observatory.core.bus.port import Outcome, Outgoing
from observatory.core.bus.topology import Names

TP = "00-{:032x}-{:016x}-01"


def event(job: int, key: str = "job.completed", **headers: str) -> Outgoing:
    body = orjson.dumps({"eventId": f"e{job}", "eventType": key, "payload": {"id": job}})
    return Outgoing(key, body, headers, message_id=f"e{job}")


@dataclass
class Received:
    """A delivery as the RabbitMQ bus hands it on, recording how it is settled."""

    body: bytes
    headers: Mapping[str, Any]
    queue: str = "ns.jobs.completed"
    redelivered: bool = False
    settled: list[Outcome] = field(default_factory=list)

    async def settle(self, outcome: Outcome) -> None:
        self.settled.append(outcome)


def received(message: Outgoing) -> Received:
    return Received(message.body, dict(message.headers))


def test_events_of_one_queue_travel_as_one_message_each_unchanged() -> None:
    events = [event(i) for i in range(3)]
    [bundle] = join(events)
    assert bundle.routing_key == "job.completed"
    assert bundle.headers == {PARTS_HEADER: "3"}
    parts = split(received(bundle))
    assert [p.body for p in parts] == [e.body for e in events]
    assert [dict(p.headers) for p in parts] == [{}, {}, {}]
    assert all(p.queue == "ns.jobs.completed" for p in parts)


def test_each_queue_gets_its_own_bundle_in_publish_order() -> None:
    messages = [event(1, "job.validated"), event(1), event(2, "job.validated"), event(2)]
    joined = join(messages)
    assert [(m.routing_key, m.headers.get(PARTS_HEADER)) for m in joined] == [
        ("job.validated", "2"),
        ("job.completed", "2"),
    ]


def test_what_may_not_travel_together_is_passed_on_unchanged() -> None:
    created = [event(1, "job.created"), event(2, "job.created")]  # the processor's work
    letters = [event(1, "dead-letter"), event(2, "dead-letter")]
    attempt = [event(3, **{"x-attempt": "2"}), event(4, **{"x-attempt": "2"})]
    state = [event(5, traceparent=TP.format(5, 5), tracestate="a=b"), event(6)]
    lone = [event(7)]
    for messages in (created, letters, attempt, lone):
        assert join(messages) == messages
    assert join(state)[0] == state[0]  # a tracestate would be lost in a bundle
    newline = Outgoing("job.completed", b'{"a":\n1}')
    assert join([newline, event(8)]) == [newline, event(8)]


def test_each_event_keeps_its_own_trace_context() -> None:
    events = [
        event(1, traceparent=TP.format(1, 1)),
        event(2),
        event(3, traceparent=TP.format(3, 3)),
    ]
    [bundle] = join(events)
    assert bundle.headers[TRACEPARENTS_HEADER] == f"{TP.format(1, 1)},,{TP.format(3, 3)}"
    parts = split(received(bundle))
    assert [dict(p.headers) for p in parts] == [
        {"traceparent": TP.format(1, 1)},
        {},
        {"traceparent": TP.format(3, 3)},
    ]


def test_bundles_stay_within_their_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundles, "MAX_PARTS", 4)
    joined = join([event(i) for i in range(10)])
    assert [m.headers.get(PARTS_HEADER) for m in joined] == ["4", "4", "2"]
    big = [Outgoing("job.completed", b'"' + b"x" * 300_000 + b'"') for _ in range(3)]
    assert [m.headers.get(PARTS_HEADER) for m in join(big)] == [None, None, None]
    parts = [p for m in joined for p in split(received(m))]
    assert [orjson.loads(p.body)["eventId"] for p in parts] == [f"e{i}" for i in range(10)]


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b"{}\n{}", {PARTS_HEADER: "3"}),  # a count that does not match
        (b"{}\n{}", {PARTS_HEADER: "two"}),
        (b"{}\n{}", {PARTS_HEADER: 2}),  # not decimal text
        (b"\n".join([b"{}"] * 600), {PARTS_HEADER: "600"}),  # above MAX_PARTS
    ],
)
def test_a_malformed_bundle_is_one_delivery_for_its_handler_to_judge(
    body: bytes, headers: dict[str, Any]
) -> None:
    whole = Received(body, headers)
    assert split(whole) == (whole,)


def test_a_mismatched_trace_list_leaves_the_parts_without_one() -> None:
    whole = Received(b"{}\n{}", {PARTS_HEADER: "2", TRACEPARENTS_HEADER: TP.format(1, 1)})
    assert [dict(p.headers) for p in split(whole)] == [{}, {}]


def test_other_headers_reach_every_part() -> None:
    death = [{"reason": "delivery_limit", "queue": "ns.jobs.completed"}]
    whole = Received(b"{}\n{}", {PARTS_HEADER: b"2", "x-death": death}, redelivered=True)
    parts = split(whole)
    assert [dict(p.headers) for p in parts] == [{"x-death": death}] * 2
    assert all(p.redelivered for p in parts)


@pytest.mark.parametrize(
    ("outcomes", "settled"),
    [
        ([Outcome.ACK, Outcome.ACK, Outcome.ACK], Outcome.ACK),
        ([Outcome.ACK, Outcome.REJECT, Outcome.ACK], Outcome.ACK),  # dead-lettered alone
        ([Outcome.REJECT, Outcome.REJECT, Outcome.REJECT], Outcome.REJECT),
        ([Outcome.ACK, Outcome.RETRY, Outcome.REJECT], Outcome.RETRY),  # all back: idempotent
        ([Outcome.RETRY, Outcome.ACK, Outcome.ACK], Outcome.RETRY),
    ],
)
async def test_the_message_is_settled_once_every_part_is(
    outcomes: list[Outcome], settled: Outcome
) -> None:
    whole = Received(b"{}\n{}\n{}", {PARTS_HEADER: "3"})
    parts = split(whole)
    for part, outcome in zip(parts, outcomes, strict=True):
        assert whole.settled == []
        await part.settle(outcome)
    assert whole.settled == [settled]


def test_a_queue_of_bundles_takes_a_few_messages_and_the_others_share_the_rest() -> None:
    names = Names("ns")
    queues = [names.q(q) for q in ("jobs.created.metrics", "jobs.validated", "jobs.completed")]
    bundled = bundles.queues(names)
    assert bundles.prefetches(queues, 1000, bundled) == {
        "ns.jobs.created.metrics": 1000,
        "ns.jobs.validated": bundles.PREFETCH,
        "ns.jobs.completed": bundles.PREFETCH,
    }
    assert bundles.prefetches(queues, 999, frozenset()) == dict.fromkeys(queues, 333)
