"""A storm of delayed retries, classic and quorum queues in the same run:
`python -m benchmarks.delayed [--messages N] [--delay S] [--rounds R] [--rabbitmq-url URL]`.

Classic queues delay the standard way (RabbitMQ expires the message and dead-letters it
back); quorum queues hold it in `<queue>.delay` and the queue's own consumer moves it back
when due (core/bus/delays.py: one confirmed publish and one ack a message, done by our
process). This measures what that costs when many retries fall due at once, as after an
outage: `N` messages scheduled through `RabbitBus.schedule` (all due `S` seconds after the
first was scheduled, give or take the scheduling time), one consumer of the target queue
acking them. Per queue type: the scheduling rate, how late each arrived after its due time
(p50 / p99 / max ms), the rate at which they arrived once the first was due, and every
message checked to arrive (a missing one fails the run). Rounds alternate the two types;
figures are medians over the rounds. Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import time
from collections.abc import Sequence
from typing import Any

from benchmarks.stores import add_backend_options, delete_rabbit, namespace_queues
from observatory.core.bus.declarations import QueueType
from observatory.core.bus.port import Delivery, Outcome
from observatory.core.bus.rabbitmq import RabbitBus
from observatory.core.bus.topology import JOBS_CREATED, Names

SCHEDULING_IN_FLIGHT = 200
ARRIVAL_TIMEOUT = 300.0


async def one_round(url: str, queue_type: QueueType, messages: int, delay: float) -> dict[str, Any]:
    """Schedule `messages` retries due together, wait for every one, return the figures."""
    namespace = f"bench_delay_{secrets.token_hex(3)}"
    bus = RabbitBus(url, namespace=namespace, queue_type=queue_type)
    await bus.open()
    arrived: dict[bytes, float] = {}
    done = asyncio.Event()

    async def collect(batch: Sequence[Delivery]) -> list[Outcome]:
        now = time.monotonic()
        for delivery in batch:
            arrived.setdefault(delivery.body, now)
        if len(arrived) >= messages:
            done.set()
        return [Outcome.ACK] * len(batch)

    try:
        await bus.consume(JOBS_CREATED, collect, prefetch=500, batch_size=100)
        due: dict[bytes, float] = {}
        first = time.monotonic()
        for start in range(0, messages, SCHEDULING_IN_FLIGHT):
            end = min(messages, start + SCHEDULING_IN_FLIGHT)
            bodies = [f"retry-{n}".encode() for n in range(start, end)]
            now = time.monotonic()
            left = max(0.0, first + delay - now)  # all due at first + delay
            for body in bodies:
                due[body] = now + left
            await asyncio.gather(*(bus.schedule(JOBS_CREATED, body, {}, left) for body in bodies))
        scheduled = time.monotonic() - first
        await asyncio.wait_for(done.wait(), ARRIVAL_TIMEOUT)
        late = sorted((arrived[body] - due[body]) * 1000 for body in due)
        spread = max(arrived.values()) - (first + delay)
        return {
            "scheduledPerS": round(messages / scheduled, 1),
            "lateMinMs": round(late[0], 1),
            "lateP50Ms": round(late[len(late) // 2], 1),
            "lateP99Ms": round(late[int(len(late) * 0.99) - 1], 1),
            "lateMaxMs": round(late[-1], 1),
            "arrivedPerS": round(messages / max(spread, 1e-3), 1),
            "arrived": len(arrived),
        }
    finally:
        await bus.close()
        await delete_rabbit(url, namespace_queues(namespace), [Names(namespace).exchange])


def median_of(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    return {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}


async def main(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, list[dict[str, Any]]] = {"classic": [], "quorum": []}
    for _ in range(args.rounds):
        for queue_type in ("classic", "quorum"):
            figures = await one_round(args.rabbitmq_url, queue_type, args.messages, args.delay)
            if figures["arrived"] != args.messages:
                raise SystemExit(f"{queue_type}: {figures['arrived']} of {args.messages} arrived")
            results[queue_type].append(figures)
    return {
        "messages": args.messages,
        "delayS": args.delay,
        "rounds": args.rounds,
        **{kind: median_of(rounds) for kind, rounds in results.items()},
    }


def report(result: dict[str, Any]) -> None:
    print(
        f"{result['messages']} retries due {result['delayS']} s after the first,"
        f" medians of {result['rounds']} rounds"
    )
    columns = ("scheduledPerS", "lateMinMs", "lateP50Ms", "lateP99Ms", "lateMaxMs", "arrivedPerS")
    print("| queues | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for kind in ("classic", "quorum"):
        print(f"| {kind} | " + " | ".join(str(result[kind][c]) for c in columns) + " |")
    print(json.dumps(result))


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.delayed", description=__doc__)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--delay", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    add_backend_options(parser, "rabbitmq")
    return parser.parse_args(argv)


if __name__ == "__main__":
    report(asyncio.run(main(parse())))
