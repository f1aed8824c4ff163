"""The MongoDB event store keeps the ports' error contract (SPEC §12) without a server:
refused values are InvalidMessage before anything is sent, a closed or unreachable
client is DependencyDown. (The shared suite runs against a server where TEST_MONGO_URL
points at one; none can be installed on our machines.)"""

from __future__ import annotations

import socket
import uuid
from typing import Any

import pytest
from pymongo.errors import (
    BulkWriteError,
    InvalidOperation,
    NetworkTimeout,
    OperationFailure,
    ServerSelectionTimeoutError,
)

from observatory.core.errors import DependencyDown, InvalidMessage
from observatory.core.stores.mongo_events import (
    MAX_DOCUMENT_BYTES,
    MongoEventStore,
    _duplicates,
    guarded,
    storable,
)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    return f"mongodb://127.0.0.1:{port}/"


def envelope(**changes: Any) -> dict[str, Any]:
    return {
        "eventType": "job.created",
        "eventId": str(uuid.uuid4()),
        "occurredAt": "2026-03-01T12:00:00.000Z",
        "payload": {"id": str(uuid.uuid4())},
        **changes,
    }


@pytest.mark.parametrize(
    "document",
    [
        {"n": 2**70},
        {"n": 2**63},  # BSON ints are signed 64-bit
        {"k\u0000": 1},
        {"blob": "x" * MAX_DOCUMENT_BYTES},
    ],
    ids=["int beyond 64 bits", "int at 2**63", "NUL in a key", "over 16 MiB"],
)
def test_documents_bson_cannot_hold_are_refused(document: dict[str, Any]) -> None:
    """storable refuses with InvalidMessage what the server would never get."""
    with pytest.raises(InvalidMessage):
        storable(document)


def test_nul_inside_a_string_is_storable() -> None:
    """A NUL inside a string value is kept, as the SQL event stores keep it."""
    assert storable({"s": "a\u0000b"}) == {"s": "a\u0000b"}


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ServerSelectionTimeoutError("no server"), DependencyDown),
        (NetworkTimeout("slow"), DependencyDown),
        (InvalidOperation("closed"), DependencyDown),
        (OperationFailure("shutting down", code=91), DependencyDown),
        (OperationFailure("bad value", code=2), InvalidMessage),
        (OperationFailure("key too long", code=17280), InvalidMessage),
        (OverflowError("8-byte ints"), InvalidMessage),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else "",
)
def test_driver_errors_are_mapped(error: Exception, expected: type[Exception]) -> None:
    """Connection trouble is DependencyDown; a value the server refuses is InvalidMessage."""
    with pytest.raises(expected), guarded():
        raise error


def test_a_bulk_write_with_only_duplicates_reports_them() -> None:
    """Duplicates are "already stored"; a refused value is InvalidMessage; anything else
    is the server's trouble."""
    duplicate = {"index": 1, "code": 11000}
    assert _duplicates(BulkWriteError({"writeErrors": [duplicate]})) == {1}
    with pytest.raises(InvalidMessage):
        _duplicates(BulkWriteError({"writeErrors": [duplicate, {"index": 0, "code": 2}]}))
    with pytest.raises(DependencyDown), guarded():
        _duplicates(BulkWriteError({"writeErrors": [{"index": 0, "code": 91}]}))


async def test_a_refused_envelope_is_refused_before_the_server_is_asked() -> None:
    """insert refuses a bad envelope at once, even with no server to ask."""
    store = MongoEventStore(closed_port_url())
    try:
        for bad in (envelope(eventId="evt-1"), envelope(payload={"n": 2**63})):
            with pytest.raises(InvalidMessage):
                await store.insert([envelope(), bad])
    finally:
        await store.close()


async def test_a_closed_store_is_down() -> None:
    """After close() every call raises DependencyDown and ping is False. (An unreachable
    server is DependencyDown the same way, after the 5 s server selection timeout.)"""
    store = MongoEventStore(closed_port_url())
    await store.close()
    assert await store.ping() is False
    calls = [
        store.insert([envelope()]),
        store.for_job(str(uuid.uuid4()), limit=5, newest_first=True),
        store.recent(5),
        store.dead_letters(5),
    ]
    for call in calls:
        with pytest.raises(DependencyDown):
            await call
