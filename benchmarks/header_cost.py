"""What a W3C `traceparent` header costs a message, with and without it in the same run:
`python -m benchmarks.header_cost [--messages N] [--rounds R] [--rabbitmq-url URL]`.

Tracing at any sampling rate puts the trace context in every message's headers (an
unsampled trace's too, so every later hop follows the decision). This measures what that
table costs per message where it is paid: the broker's CPU (RabbitMQ's beam.smp, read from
/proc) to take a persistent message with confirms, route it and deliver it, and in our
services the content header's encoding (core/bus/frames.py) and decoding (pamqp, as
aiormq reads every delivery). Rounds alternate the two ways so they share the machine's
weather. Prints one JSON line: microseconds per message, medians over the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import timeit
from typing import Any

import aio_pika
from pamqp import frame

from benchmarks.machine import backend_cpu
from benchmarks.stores import add_backend_options
from observatory.core.bus.frames import header_frame
from observatory.core.bus.port import Outgoing

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"  # W3C's example
BODY = b'{"eventId":"0b7e1c4e-6f7a-4a5e-9d61-3c1f8f0e2a10","type":"job.completed"}' * 6
MESSAGE_ID = "0b7e1c4e-6f7a-4a5e-9d61-3c1f8f0e2a10"
IN_FLIGHT = 500


async def broker_us(url: str, headers: dict[str, Any] | None, messages: int) -> float:
    """RabbitMQ's CPU per message (µs) to take `messages` confirmed, persistent messages
    into a queue of its own and deliver them to one consumer."""
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        queue = await channel.declare_queue(f"bench_headers_{secrets.token_hex(3)}", durable=True)
        try:
            before = backend_cpu()["rabbitmq"]
            for start in range(0, messages, IN_FLIGHT):
                count = min(IN_FLIGHT, messages - start)
                await asyncio.gather(
                    *(
                        channel.default_exchange.publish(
                            aio_pika.Message(
                                BODY,
                                headers=headers,
                                message_id=MESSAGE_ID,
                                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                            ),
                            routing_key=queue.name,
                        )
                        for _ in range(count)
                    )
                )
            got = 0
            async with queue.iterator(no_ack=True) as deliveries:
                async for _ in deliveries:
                    got += 1
                    if got == messages:
                        break
            return (backend_cpu()["rabbitmq"] - before) / messages * 1e6
        finally:
            await queue.delete(if_unused=False, if_empty=False)


def client_us(headers: dict[str, str]) -> dict[str, float]:
    """Our side, in process: the content header encoded (frames.py) and decoded (pamqp)."""
    outgoing = Outgoing("jobs.completed", BODY, headers, MESSAGE_ID)
    raw = header_frame(1, len(BODY), outgoing, MESSAGE_ID)
    number = 50_000

    def best(call: Any) -> float:
        return round(min(timeit.repeat(call, number=number, repeat=5)) / number * 1e6, 2)

    return {
        "encodeUs": best(lambda: header_frame(1, len(BODY), outgoing, MESSAGE_ID)),
        "decodeUs": best(lambda: frame.unmarshal(raw)),
    }


async def run(url: str, messages: int, rounds: int) -> dict[str, Any]:
    ways: dict[str, dict[str, Any] | None] = {
        "none": None,
        "traceparent": {"traceparent": TRACEPARENT},
    }
    broker: dict[str, list[float]] = {label: [] for label in ways}
    for index in range(rounds):
        order = list(ways) if index % 2 == 0 else list(reversed(ways))
        for label in order:
            broker[label].append(await broker_us(url, ways[label], messages))
    medians = {label: round(statistics.median(found), 2) for label, found in broker.items()}
    client = {label: client_us(headers or {}) for label, headers in ways.items()}
    return {
        "benchmark": "header_cost",
        "messages": messages,
        "rounds": rounds,
        "brokerUsPerMessage": medians,
        "brokerRounds": {label: [round(v, 2) for v in found] for label, found in broker.items()},
        "brokerExtraUs": round(medians["traceparent"] - medians["none"], 2),
        "client": client,
        "clientExtraUs": round(
            sum(client["traceparent"].values()) - sum(client["none"].values()), 2
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=40_000, help="messages a round")
    parser.add_argument("--rounds", type=int, default=4, help="rounds of each way")
    add_backend_options(parser, "rabbitmq")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.rabbitmq_url, args.messages, args.rounds))))


if __name__ == "__main__":
    main()
