"""Event store on MongoDB (official pymongo async API): database `observatory`,
collection `job_events` holding whole envelopes with their camelCase field names.

MongoDB cannot be installed on our development machines, so this adapter is exercised
by the shared event-store suite only where a server is reachable (compose, Kubernetes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.errors import BulkWriteError, PyMongoError

from observatory.core.errors import DependencyDown
from observatory.core.stores.records import DeadLetter

DEP = "event_store"
DUPLICATE_KEY = 11000


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
        try:
            await self._events.create_index("eventId", unique=True)
            await self._events.create_index([("payload.id", ASCENDING), ("occurredAt", ASCENDING)])
            await self._events.create_index([("occurredAt", DESCENDING)])
            await self._dead.create_index("key", unique=True)
        except PyMongoError as exc:
            raise DependencyDown(DEP, type(exc).__name__) from exc

    async def insert(self, envelopes: Sequence[dict[str, Any]]) -> list[str]:
        if not envelopes:
            return []
        docs = [dict(e) for e in envelopes]
        failed: set[int] = set()
        try:
            await self._events.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(err.get("code") != DUPLICATE_KEY for err in errors):
                raise DependencyDown(DEP, "bulk write failed") from exc
            failed = {int(err["index"]) for err in errors}
        except PyMongoError as exc:
            raise DependencyDown(DEP, type(exc).__name__) from exc
        return [e["eventId"] for i, e in enumerate(envelopes) if i not in failed]

    async def _find(self, query: dict[str, Any], order: int, limit: int) -> list[dict[str, Any]]:
        try:
            cursor = self._events.find(query, {"_id": 0}).sort("occurredAt", order).limit(limit)
            return [doc async for doc in cursor]
        except PyMongoError as exc:
            raise DependencyDown(DEP, type(exc).__name__) from exc

    async def for_job(self, job_id: str, *, limit: int, newest_first: bool) -> list[dict[str, Any]]:
        return await self._find(
            {"payload.id": job_id}, DESCENDING if newest_first else ASCENDING, limit
        )

    async def recent(self, limit: int) -> list[dict[str, Any]]:
        return await self._find({}, DESCENDING, limit)

    async def add_dead_letters(self, letters: Sequence[DeadLetter]) -> int:
        added = 0
        try:
            for letter in letters:
                result = await self._dead.update_one(
                    {"key": letter.key},
                    {"$setOnInsert": {"document": letter.document}},
                    upsert=True,
                )
                added += 1 if result.upserted_id is not None else 0
        except PyMongoError as exc:
            raise DependencyDown(DEP, type(exc).__name__) from exc
        return added

    async def dead_letters(self, limit: int) -> list[dict[str, Any]]:
        try:
            cursor = self._dead.find({}).sort("_id", DESCENDING).limit(limit)
            return [{"id": str(doc["_id"]), **doc["document"]} async for doc in cursor]
        except PyMongoError as exc:
            raise DependencyDown(DEP, type(exc).__name__) from exc

    async def ping(self) -> bool:
        try:
            await self._client.admin.command("ping")
        except PyMongoError:
            return False
        return True

    async def close(self) -> None:
        await self._client.close()
