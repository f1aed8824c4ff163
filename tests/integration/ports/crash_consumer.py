"""A consumer process that takes one message and hangs without settling it.

test_bus.py starts it, waits for its "received <body>" line and kills it with SIGKILL,
which is the crash whose messages the bus must deliver again to someone else.

    python crash_consumer.py embedded|rabbitmq|rabbitmq-quorum TARGET NAMESPACE QUEUE
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from observatory.core.bus.embedded import EmbeddedBus
from observatory.core.bus.port import Bus, Delivery, Outcome
from observatory.core.bus.rabbitmq import RabbitBus

# The embedded bus gives a dead process's messages back when their lease lapses.
LEASE_SECONDS = 1.0


async def main(engine: str, target: str, namespace: str, queue: str) -> None:
    bus: Bus
    if engine == "embedded":
        bus = EmbeddedBus(Path(target), namespace=namespace, lease=LEASE_SECONDS)
    else:
        quorum = engine == "rabbitmq-quorum"
        bus = RabbitBus(target, namespace=namespace, queue_type="quorum" if quorum else "classic")
    await bus.open()

    async def hang(batch: Sequence[Delivery]) -> list[Outcome]:
        for delivery in batch:
            print("received", delivery.body.decode(), flush=True)
        await asyncio.Event().wait()  # never settles: the test kills us here
        return []

    await bus.consume(queue, hang, prefetch=1, batch_size=1)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
