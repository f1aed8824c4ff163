"""Event store on MongoDB (official pymongo async API): database `observatory`,
collection `job_events` holding whole envelopes with their camelCase field names.

Errors, as on the SQL adapters (ports.py):

    no server, connection lost, timeout, client closed, other server errors → DependencyDown
    a document BSON cannot hold (an int beyond 64 bits, NUL in a key, over
    16 MiB) or a value the server refuses                                 → InvalidMessage

Documents are encoded once before the write, so a batch with one bad envelope writes
nothing. MongoDB cannot be installed on our development machines, so this adapter is
exercised by the shared event-store suite only where a server is reachable (compose,
Kubernetes).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import bson
from bson.errors import BSONError
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.errors import BulkWriteError, OperationFailure, PyMongoError

from observatory.core.contracts.ids import canonical_uuid
from observatory.core.errors import DependencyDown, InvalidMessage
from observatory.core.stores.event_rows import event_row, stored_envelope
from observatory.core.stores.records import DeadLetter
from observatory.core.stores.values import ms_text

DEP = "event_store"
DUPLICATE_KEY = 11000
# Server error codes that mean "this value", not "this server": BadValue, TypeMismatch,
# DollarPrefixedFieldName, BSONObjectTooLarge, KeyTooLong.
VALUE_CODES = frozenset({2, 14, 52, 10334, 17280})
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024  # MongoDB's maxBsonObjectSize


def refused(exc: BaseException) -> InvalidMessage:
    return InvalidMessage(f"{DEP} refused a value ({type(exc).__name__})")


@contextlib.contextmanager
def guarded() -> Iterator[None]:
    """Map driver errors (see the module docstring); never leak driver text."""
    try:
        yield
    except (BSONError, OverflowError) as exc:
        raise refused(exc) from exc
    except OperationFailure as exc:
        if exc.code in VALUE_CODES:
            raise refused(exc) from exc
        raise DependencyDown(DEP, f"server error {exc.code}") from exc
    except PyMongoError as exc:  # ConnectionFailure and its timeouts, InvalidOperation
        raise DependencyDown(DEP, type(exc).__name__) from exc


def storable(document: dict[str, Any]) -> dict[str, Any]:
    """`document`, once BSON is known to hold it (raises InvalidMessage otherwise)."""
    with guarded():
        size = len(bson.encode(document))
    if size > MAX_DOCUMENT_BYTES:
        raise InvalidMessage(f"{DEP} refused a value (document of {size} bytes)")
    return document


def _duplicates(exc: BulkWriteError) -> set[int]:
    """Indexes of the documents refused as already stored; any other refusal raises."""
    errors = exc.details.get("writeErrors", [])
    others = [err.get("code") for err in errors if err.get("code") != DUPLICATE_KEY]
    if others and all(code in VALUE_CODES for code in others):
        raise refused(exc) from exc
    if others or exc.details.get("writeConcernErrors"):
        raise exc  # the guard reports it as DependencyDown
    return {int(err["index"]) for err in errors}


class MongoEventStore:
    """EventStore over MongoDB (see module docstring)."""

    def __init__(self, url: str, *, namespace: str = "", database: str = "observatory") -> None:
        self._client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            url, serverSelectionTimeoutMS=5000, connectTimeoutMS=5000, timeoutMS=10000
        )
        db = self._client[database]
        prefix = f"{namespace}_" if namespace else ""
        self._events = db[f"{prefix}job_events"]
        self._dead = db[f"{prefix}dead_letters"]

    async def open(self) -> None:
        with guarded():
            await self._events.create_index("eventId", unique=True)
            await self._events.create_index([("payload.id", ASCENDING), ("occurredAt", ASCENDING)])
            await self._events.create_index([("occurredAt", DESCENDING)])
            await self._dead.create_index("key", unique=True)

    async def insert(self, envelopes: Sequence[dict[str, Any]]) -> list[str]:
        if not envelopes:
            return []
        # The checks every event store applies, then BSON's own: nothing is written
        # unless every envelope can be.
        rows = [event_row(e) for e in envelopes]
        docs = [
            storable(dict(stored_envelope(e, row))) for e, row in zip(envelopes, rows, strict=True)
        ]
        failed: set[int] = set()
        with guarded():
            try:
                await self._events.insert_many(docs, ordered=False)
            except BulkWriteError as exc:
                failed = _duplicates(exc)
        return [row.event_id for i, row in enumerate(rows) if i not in failed]

    async def _find(self, query: dict[str, Any], order: int, limit: int) -> list[dict[str, Any]]:
        with guarded():
            cursor = self._events.find(query, {"_id": 0}).sort("occurredAt", order).limit(limit)
            return [doc async for doc in cursor]

    async def for_job(self, job_id: str, *, limit: int, newest_first: bool) -> list[dict[str, Any]]:
        canonical = canonical_uuid(job_id)
        if canonical is None:
            return []  # no job has an id that is not a UUID
        return await self._find(
            {"payload.id": canonical}, DESCENDING if newest_first else ASCENDING, limit
        )

    async def recent(self, limit: int) -> list[dict[str, Any]]:
        return await self._find({}, DESCENDING, limit)

    async def add_dead_letters(self, letters: Sequence[DeadLetter]) -> int:
        documents = [storable({"document": letter.document}) for letter in letters]
        added = 0
        with guarded():
            for letter, document in zip(letters, documents, strict=True):
                result = await self._dead.update_one(
                    {"key": letter.key}, {"$setOnInsert": document}, upsert=True
                )
                added += 1 if result.upserted_id is not None else 0
        return added

    async def dead_letters(self, limit: int) -> list[dict[str, Any]]:
        with guarded():
            cursor = self._dead.find({}).sort("_id", DESCENDING).limit(limit)
            return [{"id": str(doc["_id"]), **doc["document"]} async for doc in cursor]

    async def remove_for_jobs(
        self, job_ids: Sequence[str], *, before: datetime, dry_run: bool = False
    ) -> int:
        wanted = [c for c in map(canonical_uuid, job_ids) if c is not None]
        if not wanted:
            return 0
        # occurredAt is kept as the envelope's text: RFC 3339 UTC with milliseconds as every
        # producer of ours writes it (clock.iso), which sorts in time order.
        query = {"payload.id": {"$in": wanted}, "occurredAt": {"$lt": ms_text(before)}}
        with guarded():
            if dry_run:
                return int(await self._events.count_documents(query))
            return int((await self._events.delete_many(query)).deleted_count)

    async def remove_dead_letters(
        self, before: datetime, *, limit: int, dry_run: bool = False
    ) -> int:
        # rejected_at is RFC 3339 UTC text with milliseconds (core.dead_letters), as the
        # SQL engines read it.
        query = {"document.rejected_at": {"$lt": ms_text(before)}}
        with guarded():
            if dry_run:
                return int(await self._dead.count_documents(query))
            cursor = self._dead.find(query, {"_id": 1}).sort("_id", ASCENDING).limit(limit)
            ids = [doc["_id"] async for doc in cursor]
            if not ids:
                return 0
            return int((await self._dead.delete_many({"_id": {"$in": ids}})).deleted_count)

    async def ping(self) -> bool:
        try:
            await self._client.admin.command("ping")
        except PyMongoError:
            return False
        return True

    async def close(self) -> None:
        await self._client.close()
