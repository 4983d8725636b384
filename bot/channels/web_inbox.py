"""Where the outbox's messages go: web chats' pages for browser chat ids, else the Bot API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.services.chat import Button, Reply
from bot.services.delivery import BLOCKED, FAILED, SENT, SendResult, Transport
from bot.services.web_chat import deliver
from storage.database import Database


class WebInbox:
    """Delivers to a browser chat by adding the message to its page (seen on the next visit)."""

    def __init__(self, database: Database, *, clock: Callable[[], datetime]) -> None:
        self.database = database
        self.clock = clock

    async def send_message(
        self, chat_id: int, text: str, buttons: tuple[tuple[Button, ...], ...] = ()
    ) -> SendResult:
        """Add the message; a chat that is gone counts as blocked (left out from now on)."""
        delivered = await deliver(self.database, chat_id, Reply(text, buttons), self.clock())
        return SendResult(SENT if delivered else BLOCKED)


class Channels:
    """Sends each message by the channel its chat id belongs to (browser chat ids are negative)."""

    def __init__(self, web: Transport, telegram: Transport | None) -> None:
        self.web = web
        self.telegram = telegram

    async def send_message(
        self, chat_id: int, text: str, buttons: tuple[tuple[Button, ...], ...] = ()
    ) -> SendResult:
        """Send through the chat's channel."""
        if chat_id < 0:
            return await self.web.send_message(chat_id, text, buttons)
        if self.telegram is None:
            return SendResult(FAILED, error="no Telegram token")
        return await self.telegram.send_message(chat_id, text, buttons)
