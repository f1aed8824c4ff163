"""The arguments each RabbitMQ queue is declared with, per queue type (ODTO_QUEUE_TYPE).

`classic` declares every queue as before: durable, no arguments (delay queues only name
where they dead-letter to). `quorum` declares every queue `x-queue-type: quorum`
(RabbitMQ's replicated queue type, for clustered brokers), and:

- a work or lifecycle queue gets `x-delivery-limit`: a message delivered that many times
  more without being acknowledged (requeued by a retry, or held by consumers that kept
  dying) is dead-lettered by RabbitMQ into `jobs.failed.validation`, through the exchange
  with the `dead-letter` routing key. It arrives there as the original message with
  RabbitMQ's `x-death` header; the metrics engine stores it as a dead letter like any
  other, and it can be replayed into the queue it died in.
- a delay queue, `<queue>.delay`, has no arguments but its type: it holds delayed
  messages, without an expiration, until a consumer of `<queue>` moves them back
  (delays.py: RabbitMQ 3.10's at-least-once dead-lettering of expired messages stalls for
  good when the target's leader dies). Tier queues an earlier version declared
  (`<queue>.delay.<n>s`, per-message TTL) still dead-letter what they hold when it expires.
- dead-lettering is `at-least-once` (`x-dead-letter-strategy`, which RabbitMQ allows only
  with `x-overflow: reject-publish`): RabbitMQ keeps the message until the target queue
  has confirmed it, so a node failing in between loses nothing.
- the dead-letter queue has no limit and no dead-letter target: it is the end.

How this composes with our own logic: a message the handler refuses (InvalidMessage,
or poison isolated by core.bus.isolation) is still rejected and dead-lettered by us,
with the reason, on its first or sixth failure. A retry after a dependency outage
(DependencyDown) is a requeue, and each requeue counts as a delivery: the limit
(default 50, ODTO_QUEUE_DELIVERY_LIMIT) is set well above our own six strikes so it
only catches what our code cannot see, such as a message that kills its consumer
process every time, or an outage that lasts longer than the back-off's ~10 minutes
of requeues. Job attempts that retry with back-off go through a delay queue and come
back as a new delivery, so they do not use the limit up.

RabbitMQ dead-letters a message for any reason it has, including our own rejections
(`rejected`): those were dead-lettered by us already, with the reason, or dropped on
purpose, so the dead-letter consumer skips them (`broker_death` says which is which) and
stores only what RabbitMQ decided on its own (`delivery_limit`).

Declaring an existing queue with another type (or other arguments) fails in RabbitMQ
with PRECONDITION_FAILED; `mismatch()` turns that into a ConfigurationError that says
what to do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from observatory.core.bus.topology import DEAD_LETTER_KEY
from observatory.core.errors import ConfigurationError

QueueType = Literal["classic", "quorum"]
QUEUE_TYPES: tuple[QueueType, ...] = ("classic", "quorum")
DEFAULT_DELIVERY_LIMIT = 50


@dataclass(frozen=True, slots=True)
class Declarations:
    """Queue arguments for one queue type; `exchange` is where dead letters are routed."""

    queue_type: QueueType = "classic"
    exchange: str = ""
    delivery_limit: int = DEFAULT_DELIVERY_LIMIT

    @property
    def quorum(self) -> bool:
        return self.queue_type == "quorum"

    def _replicated(self, arguments: dict[str, Any]) -> dict[str, Any]:
        if not self.quorum:
            return arguments
        return {
            "x-queue-type": "quorum",
            **arguments,
            **(
                {"x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}
                if "x-dead-letter-exchange" in arguments
                else {}
            ),
        }

    def queue(self, name: str, *, dead_letters: str) -> dict[str, Any]:
        """Arguments of topology queue `name` (the dead-letter queue is `dead_letters`)."""
        if not self.quorum or name == dead_letters:
            return self._replicated({})
        return self._replicated(
            {
                "x-delivery-limit": self.delivery_limit,
                "x-dead-letter-exchange": self.exchange,
                "x-dead-letter-routing-key": DEAD_LETTER_KEY,
            }
        )

    def delay(self, target: str) -> dict[str, Any]:
        """Arguments of a delay queue of `target`: classic, its expired messages go back
        into `target`; quorum, held until moved (delays.py)."""
        if self.quorum:
            return self._replicated({})
        return {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": target}


def broker_death(headers: Mapping[str, Any]) -> tuple[str, str] | None:
    """(reason, queue) of the last time RabbitMQ dead-lettered this message (its `x-death`
    header, newest first); None for a message we published to the dead letters ourselves."""
    deaths = headers.get("x-death")
    if not isinstance(deaths, list) or not deaths or not isinstance(deaths[0], Mapping):
        return None
    return str(deaths[0].get("reason", "")), str(deaths[0].get("queue", ""))


def mismatch(queue: str, queue_type: QueueType, reply: str) -> ConfigurationError:
    """The error for a queue RabbitMQ already has with other arguments (PRECONDITION_FAILED)."""
    other = "classic" if queue_type == "quorum" else "quorum"
    return ConfigurationError(
        f"RabbitMQ refused to declare queue {queue!r} as ODTO_QUEUE_TYPE={queue_type}: it "
        f"already exists with other arguments ({reply}). A queue's type cannot change in "
        f"place. Either set ODTO_QUEUE_TYPE={other} (the type it has), or drain the queues "
        f"(stop the gateway, let the workers empty them), stop every service, delete the "
        f"queues (`rabbitmqctl delete_queue <name>` for each queue of the namespace, "
        f"delay queues `<name>.delay` and `<name>.delay.<n>s` included) and start "
        f"again: they are declared anew with the new type."
    )
