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
import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import bson
from bson.errors import BSONError
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.errors import BulkWriteError, OperationFailure, PyMongoError

from observatory.core.clock import SystemClock, iso
from observatory.core.contracts.ids import canonical_uuid
from observatory.core.errors import DependencyDown, InvalidMessage
from observatory.core.stores.audit_rows import audit_rows
from observatory.core.stores.dead_letter_rows import (
    NEW,
    REPLAY_FAILED,
    REPLAYED,
    letter_queue,
    letter_reason,
    rejected_time,
    shown,
)
from observatory.core.stores.event_rows import event_row, stored_envelope
from observatory.core.stores.records import AuditEntry, AuditPage, DeadLetter, DeadLetterQuery
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
        self._audit = db[f"{prefix}audit_events"]

    async def open(self) -> None:
        with guarded():
            await self._events.create_index("eventId", unique=True)
            await self._events.create_index([("payload.id", ASCENDING), ("occurredAt", ASCENDING)])
            await self._events.create_index([("occurredAt", DESCENDING)])
            await self._dead.create_index("key", unique=True)
            await self._dead.create_index("replayKey", sparse=True)
            await self._audit.create_index("eventId", unique=True)
            await self._audit.create_index([("jobIds", ASCENDING), ("_id", ASCENDING)])
            await self._audit.create_index([("entry.occurredAt", ASCENDING)])
            await self._dead.create_index([("state", ASCENDING), ("_id", DESCENDING)])

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
        documents = [
            storable(
                {
                    "document": letter.document,
                    "state": NEW,
                    "queue": letter_queue(letter),
                    "reason": letter_reason(letter),
                    "rejectedAt": letter.document.get("rejected_at"),
                }
            )
            for letter in letters
        ]
        added = 0
        moment = SystemClock().now()
        now = iso(moment)
        with guarded():
            for letter, document in zip(letters, documents, strict=True):
                # stateAt is clock.iso text, which sorts in time order (dead_letter_rows.py)
                rejected = iso(rejected_time(letter.document, moment))
                flipped = await self._dead.update_one(
                    {
                        "$and": [
                            {"$or": [{"key": letter.key}, {"replayKey": letter.key}]},
                            {"$or": [{"stateAt": None}, {"stateAt": {"$lte": rejected}}]},
                        ],
                        "state": REPLAYED,
                    },
                    {
                        "$set": {
                            "state": REPLAY_FAILED,
                            "replayError": letter_reason(letter),
                            "stateAt": now,
                        }
                    },
                )
                if flipped.modified_count:
                    continue  # a replay that failed again: no new letter
                result = await self._dead.update_one(
                    {"key": letter.key}, {"$setOnInsert": document}, upsert=True
                )
                added += 1 if result.upserted_id is not None else 0
        return added

    async def dead_letters(self, limit: int) -> list[dict[str, Any]]:
        return await self.find_dead_letters(DeadLetterQuery(), limit)

    async def find_dead_letters(self, query: DeadLetterQuery, limit: int) -> list[dict[str, Any]]:
        match: dict[str, Any] = {}
        if query.state:
            match["state"] = query.state if query.state != NEW else {"$in": [NEW, None]}
        if query.queue:
            match["queue"] = query.queue
        if query.reason:
            match["reason"] = {"$regex": re.escape(query.reason), "$options": "i"}
        moments: dict[str, str] = {}
        if query.since:
            moments["$gte"] = iso(query.since)
        if query.until:
            moments["$lt"] = iso(query.until)
        if moments:
            match["rejectedAt"] = moments
        with guarded():
            cursor = self._dead.find(match).sort("_id", DESCENDING).limit(limit)
            return [_letter(doc) async for doc in cursor]

    async def dead_letter(self, letter_id: str) -> dict[str, Any] | None:
        if not bson.ObjectId.is_valid(letter_id):
            return None
        with guarded():
            doc = await self._dead.find_one({"_id": bson.ObjectId(letter_id)})
        return _letter(doc) if doc else None

    async def mark_dead_letter(
        self,
        letter_id: str,
        state: str,
        *,
        at: datetime,
        replay_key: str | None = None,
        error: str | None = None,
    ) -> None:
        if not bson.ObjectId.is_valid(letter_id):
            return
        changes: dict[str, Any] = {"state": state, "stateAt": iso(at), "replayError": error}
        if replay_key is not None:
            changes["replayKey"] = replay_key
        with guarded():
            await self._dead.update_one({"_id": bson.ObjectId(letter_id)}, {"$set": changes})

    async def add_audit(self, entries: Sequence[AuditEntry]) -> None:
        rows = audit_rows(entries)  # every entry checked before anything is written
        documents = [
            storable({"eventId": r.event_id, "entry": r.entry, "jobIds": list(r.job_ids)})
            for r in rows
        ]
        with guarded():
            for document in documents:
                await self._audit.update_one(
                    {"eventId": document["eventId"]}, {"$setOnInsert": document}, upsert=True
                )

    async def audit(self, limit: int, cursor: str | None) -> AuditPage:
        query: dict[str, Any] = {}
        if cursor is not None:
            if not bson.ObjectId.is_valid(cursor):
                raise ValueError("not a cursor of this store")
            query["_id"] = {"$lt": bson.ObjectId(cursor)}
        with guarded():
            found = self._audit.find(query).sort("_id", DESCENDING).limit(limit + 1)
            docs = [doc async for doc in found]
        more = len(docs) > limit
        return AuditPage(
            [d["entry"] for d in docs[:limit]], str(docs[limit - 1]["_id"]) if more else None
        )

    async def audit_for_job(self, job_id: str, limit: int) -> list[dict[str, Any]]:
        canonical = canonical_uuid(job_id)
        if canonical is None:
            return []
        with guarded():
            found = self._audit.find({"jobIds": canonical}).sort("_id", ASCENDING).limit(limit)
            return [doc["entry"] async for doc in found]

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

    async def remove_audit(self, before: datetime, *, limit: int, dry_run: bool = False) -> int:
        # The entry's occurredAt is clock.iso text (AuditEntry.as_dict), which sorts in time
        # order; the jobs an entry is filed under are in the same document.
        query = {"entry.occurredAt": {"$lt": ms_text(before)}}
        with guarded():
            if dry_run:
                return int(await self._audit.count_documents(query))
            cursor = self._audit.find(query, {"_id": 1}).sort("_id", ASCENDING).limit(limit)
            ids = [doc["_id"] async for doc in cursor]
            if not ids:
                return 0
            return int((await self._audit.delete_many({"_id": {"$in": ids}})).deleted_count)

    async def ping(self) -> bool:
        try:
            await self._client.admin.command("ping")
        except PyMongoError:
            return False
        return True

    async def close(self) -> None:
        await self._client.close()


def _letter(doc: dict[str, Any]) -> dict[str, Any]:
    """Letters stored before states existed read as new, their reason from the document."""
    document = doc["document"]
    return shown(
        str(doc["_id"]),
        document,
        state=doc.get("state") or NEW,
        queue=doc.get("queue"),
        reason=doc.get("reason") or str(document.get("validation_error") or ""),
        replay_error=doc.get("replayError"),
        state_at=doc.get("stateAt"),
    )
