"""The outbox: broadcast messages waiting to be sent, claimed in batches and marked as they go.

A row is `pending` until a sender claims it (`sending`), then `sent`, `blocked`, `failed`,
`skipped` (the resident stopped consultations or left the panel after the broadcast was made) or,
when its broadcast is cancelled, `cancelled`. A row is marked sent only after the Bot API has
accepted it, so a sender that dies leaves `sending` rows behind: they go back to `pending` (at
start-up, or once their lease has run out), and only those that were in flight can be sent twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, TextClause, bindparam, func, select, text

from storage.database import Database
from storage.models import OutboxMessage, UtcDateTime

SENDING, PENDING = "sending", "pending"
DONE_STATES = ("sent", "blocked", "failed", "skipped", "cancelled")

_PICK = """
SELECT o.id FROM outbox o JOIN broadcasts b ON b.id = o.broadcast_id
WHERE o.status = 'pending' AND o.not_before <= :now AND b.status = 'scheduled'
AND (b.urgent OR :daytime)
ORDER BY o.not_before, o.id LIMIT :limit"""
_CLAIM = "UPDATE outbox SET status = 'sending', claimed_at = :now WHERE id IN ({pick}) RETURNING id"


def _at(*names: str) -> list[Any]:
    """Typed datetime parameters, stored exactly as the ORM stores them."""
    return [bindparam(name, type_=UtcDateTime()) for name in names]


def _timed(sql: str, *names: str) -> TextClause:
    return text(sql).bindparams(*_at(*names))


_DETAILS = text(
    """
SELECT o.id, o.chat_id, o.broadcast_id, o.attempts, r.language,
       r.status = 'member' AND NOT r.consultations_stopped AND r.blocked_at IS NULL
FROM outbox o JOIN residents r ON r.id = o.resident_id WHERE o.id IN :ids"""
).bindparams(bindparam("ids", expanding=True))
_FINISH = _timed(
    """
UPDATE outbox SET status = :status, attempts = :attempts, not_before = :not_before,
sent_at = :sent_at, error = :error, claimed_at = NULL
WHERE id = :id AND status = 'sending'""",
    "not_before",
    "sent_at",
)
_BLOCK_RESIDENT = _timed(
    "UPDATE residents SET blocked_at = :now "
    "WHERE id = (SELECT resident_id FROM outbox WHERE id = :id) AND blocked_at IS NULL",
    "now",
)
_RELEASE = _timed(
    "UPDATE outbox SET status = 'pending', claimed_at = NULL "
    "WHERE status = 'sending' AND claimed_at <= :before",
    "before",
)
_BROADCAST = text("SELECT kind, text, survey_id FROM broadcasts WHERE id = :id")


@dataclass(frozen=True)
class Claimed:
    """A claimed message: where it goes, in which language, and whether it may still go."""

    id: int
    chat_id: int
    broadcast_id: int
    attempts: int
    language: str
    wanted: bool  # still a member who wants consultations and has not blocked the bot


@dataclass(frozen=True)
class Finished:
    """What became of a claimed message."""

    id: int
    status: str  # sent | blocked | failed | skipped | pending (try again from not_before)
    attempts: int
    not_before: datetime
    error: str | None = None


@dataclass(frozen=True)
class BroadcastContent:
    """What a broadcast says."""

    kind: str
    text: str
    survey_id: str | None


class Outbox:
    """Claims, finishes and releases outbox rows, in batches, on any backend."""

    def __init__(self, database: Database) -> None:
        self.database = database
        pick = _PICK + (" FOR UPDATE OF o SKIP LOCKED" if database.dialect == "postgresql" else "")
        self._claim = _timed(_CLAIM.format(pick=pick), "now").bindparams(
            bindparam("daytime", type_=Boolean()), bindparam("limit", type_=Integer())
        )

    async def counts(self) -> dict[str, int]:
        """Messages per state (pending, sending, sent, blocked, failed)."""
        async with self.database.transaction() as session:
            query = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            return {status: int(n) for status, n in await session.execute(query)}

    async def claim(self, limit: int, now: datetime, *, daytime: bool) -> list[Claimed]:
        """Take up to `limit` due messages (urgent ones only at night) for this sender."""
        async with self.database.transaction() as session:
            connection = await session.connection()
            claimed = await connection.execute(
                self._claim, {"now": now, "daytime": daytime, "limit": limit}
            )
            ids = [row[0] for row in claimed]
            if not ids:
                return []
            rows = await connection.execute(_DETAILS, {"ids": ids})
            found = [Claimed(r[0], r[1], r[2], r[3], r[4], bool(r[5])) for r in rows]
        return sorted(found, key=lambda message: message.id)

    async def finish(self, results: Sequence[Finished], now: datetime) -> None:
        """Record what became of claimed messages; blocked residents become inactive."""
        if not results:
            return
        rows: list[dict[str, Any]] = [
            {
                "id": result.id,
                "status": result.status,
                "attempts": result.attempts,
                "not_before": result.not_before,
                "sent_at": now if result.status == "sent" else None,
                "error": result.error,
            }
            for result in results
        ]
        blocked = [
            {"id": result.id, "now": now} for result in results if result.status == "blocked"
        ]
        async with self.database.transaction() as session:
            connection = await session.connection()
            await connection.execute(_FINISH, rows)
            if blocked:
                await connection.execute(_BLOCK_RESIDENT, blocked)

    async def release(self, claimed_before: datetime) -> int:
        """Put messages claimed before a moment (by a sender that died) back in the queue."""
        async with self.database.transaction() as session:
            connection = await session.connection()
            result = await connection.execute(_RELEASE, {"before": claimed_before})
            return int(getattr(result, "rowcount", 0) or 0)

    async def content(self, broadcast_id: int) -> BroadcastContent | None:
        """What a broadcast says (None when it no longer exists)."""
        async with self.database.transaction() as session:
            connection = await session.connection()
            row = (await connection.execute(_BROADCAST, {"id": broadcast_id})).first()
        return BroadcastContent(row[0], row[1], row[2]) if row is not None else None
