"""Panel members made directly in the database, for tests and benchmarks about the panel."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import insert

from storage.database import Database
from storage.models import ProfileAnswer, Resident


def member_row(chat_id: int, now: datetime, **fields: Any) -> dict[str, Any]:
    """A member's row as joining leaves it (any column can be given instead)."""
    return {
        "channel": "telegram",
        "chat_id": chat_id,
        "language": "en",
        "status": "member",
        "step": "member",
        "step_data": {},
        "consultations_stopped": False,
        "joined_at": now,
        "created_at": now,
        "updated_at": now,
        **fields,
    }


async def add_members(
    database: Database, chat_ids: Iterable[int], now: datetime, **fields: Any
) -> None:
    """Members inserted in bulk, without profiles."""
    rows = [member_row(chat_id, now, **fields) for chat_id in chat_ids]
    async with database.transaction() as session:
        await session.execute(insert(Resident), rows)


def new_member(
    chat_id: int, locality: str, profile: dict[str, str], now: datetime, *, stopped: bool = False
) -> Resident:
    """A member as joining leaves them, with their profile answers."""
    resident = Resident(
        **member_row(chat_id, now, locality=locality, consultations_stopped=stopped, joined_at=None)
    )
    resident.profile = [
        ProfileAnswer(feature=f, value=v, answered_at=now) for f, v in profile.items()
    ]
    resident.consents = []
    return resident
