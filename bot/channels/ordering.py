"""Updates of different chats handled at once, each chat's updates one at a time and in order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# python-telegram-bot's own bound only counts waiting updates (cheap: a task each); the bound on
# work in hand is ours, taken once an update's turn in its chat has come.
WAITING_LIMIT = 100_000


class PerChatOrder(BaseUpdateProcessor):
    """Runs up to `concurrency` updates at once; a chat's next update waits for its last."""

    def __init__(self, concurrency: int) -> None:
        super().__init__(WAITING_LIMIT)
        self._working = asyncio.Semaphore(concurrency)
        self._chats: dict[int, tuple[asyncio.Lock, int]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for the chat's earlier updates (asyncio locks are first come, first served)."""
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            async with self._working:
                await coroutine
            return
        lock = self._enter(chat.id)
        try:
            async with lock, self._working:
                await coroutine
        finally:
            self._leave(chat.id)

    def _enter(self, chat_id: int) -> asyncio.Lock:
        lock, users = self._chats.get(chat_id, (None, 0))
        lock = lock or asyncio.Lock()
        self._chats[chat_id] = (lock, users + 1)
        return lock

    def _leave(self, chat_id: int) -> None:
        lock, users = self._chats[chat_id]
        if users == 1:
            del self._chats[chat_id]  # nobody waits: forget the chat
        else:
            self._chats[chat_id] = (lock, users - 1)

    @property
    def chats_in_hand(self) -> int:
        """How many chats have an update in hand or waiting."""
        return len(self._chats)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""
