"""Where a champion is in the /broadcast wizard: one draft per chat."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChampionDraft


class DraftRepository:
    """Wizard drafts, inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, chat_id: int) -> dict[str, Any] | None:
        """The draft of a chat, if any."""
        draft = await self.session.get(ChampionDraft, chat_id)
        return dict(draft.state) if draft is not None else None

    async def put(self, chat_id: int, state: dict[str, Any], now: datetime) -> None:
        """Create or replace a chat's draft."""
        draft = await self.session.get(ChampionDraft, chat_id)
        if draft is None:
            self.session.add(ChampionDraft(chat_id=chat_id, state=state, updated_at=now))
        else:
            draft.state, draft.updated_at = state, now

    async def drop(self, chat_id: int) -> None:
        """Forget a chat's draft."""
        await self.session.execute(delete(ChampionDraft).where(ChampionDraft.chat_id == chat_id))
