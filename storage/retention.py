"""Reads and deletions for the retention job: what is past its keeping time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ExportRecord, Resident, Story, WebChat


class RetentionRepository:
    """Finds and removes what has been kept long enough, in the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def moderated_stories(self, before: datetime) -> list[Story]:
        """Moderated stories told before `before`."""
        query = select(Story).where(Story.moderation != "new", Story.created_at < before)
        return list((await self.session.execute(query)).scalars())

    async def residents_idle_since(
        self, before: datetime, statuses: tuple[str, ...]
    ) -> list[Resident]:
        """Residents in these statuses who have done nothing since `before`."""
        query = select(Resident).where(Resident.status.in_(statuses), Resident.updated_at < before)
        return list((await self.session.execute(query)).scalars())

    async def drop_export_records(self, before: datetime) -> int:
        """Remove register entries older than `before`; how many."""
        result = await self.session.execute(
            delete(ExportRecord).where(ExportRecord.created_at < before)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def drop_idle_web_chats(self, before: datetime) -> int:
        """Browser chats not seen since `before` whose resident is gone or never came; how many."""
        alive = select(Resident.chat_id).where(Resident.channel == "web")
        stale = delete(WebChat).where(WebChat.seen_at < before, WebChat.chat_id.not_in(alive))
        result = await self.session.execute(stale)
        return int(getattr(result, "rowcount", 0) or 0)
