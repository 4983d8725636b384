"""Browser chats: found by the hash of their cookie; what each page shows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import WebChat


class WebChatRepository:
    """Browser chats, inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_token_hash(self, token_hash: str) -> WebChat | None:
        """The chat whose cookie hashes to this."""
        return await self.session.get(WebChat, token_hash)

    async def by_chat(self, chat_id: int) -> WebChat | None:
        """The browser chat with this chat id."""
        query = select(WebChat).where(WebChat.chat_id == chat_id)
        return (await self.session.execute(query)).scalar_one_or_none()

    def add(self, token_hash: str, chat_id: int, now: datetime) -> WebChat:
        """Stage a new chat."""
        chat = WebChat(
            token_hash=token_hash, chat_id=chat_id, shown={}, created_at=now, seen_at=now
        )
        self.session.add(chat)
        return chat

    @staticmethod
    def show(chat: WebChat, shown: dict[str, Any], now: datetime) -> None:
        """Replace what the chat's page shows."""
        chat.shown = shown
        chat.seen_at = now
