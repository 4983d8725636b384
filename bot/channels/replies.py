"""Replies to residents: the few Bot API calls of a conversation, made lean.

python-telegram-bot turns every answer of the Bot API into objects and passes each call through
its rate limiter; for the replies of a busy conversation that was a third of the bot's CPU. These
calls go through the bot's own request object (the same transport, errors and test doubles) and
leave the answer unparsed. A 429 is waited out and tried again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextvars import ContextVar
from typing import Any

from aiolimiter import AsyncLimiter
from telegram import Bot, InputFile
from telegram.error import BadRequest, RetryAfter
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.channels.telegram import keyboard
from bot.services.chat import Button, Reply

log = logging.getLogger(__name__)
TRIES = 3
# Set by the webhook route while it handles an update: a call placed here goes back to Telegram
# in the webhook's answer, sparing a request (Telegram allows one; its result is not known).
WEBHOOK_ANSWER: ContextVar[list[dict[str, Any]] | None] = ContextVar("webhook_answer", default=None)


class Replies:
    """Sends a conversation's replies, edits and button acknowledgements."""

    def __init__(self, bot: Bot, per_second: float = 0.0) -> None:
        self.bot = bot
        self._pace = AsyncLimiter(per_second, 1) if per_second > 0 else None

    async def send(self, chat_id: int, replies: list[Reply]) -> None:
        """Send each reply in order: text with buttons, or a file with a caption."""
        for reply in replies:
            if reply.document is not None:
                document = InputFile(reply.document.content, filename=reply.document.filename)
                markup = keyboard(reply.buttons)
                await self.bot.send_document(
                    chat_id, document, caption=reply.text, reply_markup=markup
                )
            else:
                await self._call(
                    "sendMessage",
                    {
                        "chat_id": chat_id,
                        "text": reply.text,
                        "reply_markup": _markup(reply.buttons),
                    },
                )

    async def acknowledge(self, query_id: str, notice: str | None) -> None:
        """Answer a button press (stops the button's spinner), with a short notice if any."""
        call: dict[str, Any] = {"callback_query_id": query_id, "text": notice}
        webhook_answer = WEBHOOK_ANSWER.get()
        if webhook_answer is not None and not webhook_answer:
            webhook_answer.append({"method": "answerCallbackQuery", **_present(call)})
            return
        await self._call("answerCallbackQuery", call)

    async def edit(
        self, chat_id: int, message_id: int, text: str, buttons: tuple[tuple[Button, ...], ...]
    ) -> None:
        """Change a message the bot sent (a question's ticks, or the answer chosen)."""
        call = {"chat_id": chat_id, "message_id": message_id, "text": text}
        try:
            await self._call("editMessageText", {**call, "reply_markup": _markup(buttons)})
        except BadRequest:
            log.debug("message %s could not be edited", message_id)

    async def _call(self, method: str, parameters: dict[str, Any]) -> None:
        data = RequestData(
            [RequestParameter.from_input(k, v) for k, v in _present(parameters).items()]
        )
        url = f"{self.bot.base_url}/{method}"
        for attempt in range(1, TRIES + 1):
            try:
                async with self._pace or contextlib.nullcontext():
                    await self.bot.request.post(url, data)
                return
            except RetryAfter as error:
                if attempt == TRIES:
                    raise
                await asyncio.sleep(_seconds(error.retry_after))


def _markup(buttons: tuple[tuple[Button, ...], ...]) -> dict[str, Any] | None:
    """An inline keyboard as the Bot API takes it (None without buttons)."""
    if not buttons:
        return None
    return {
        "inline_keyboard": [
            [{"text": b.label, "callback_data": b.id} for b in row] for row in buttons
        ]
    }


def _present(parameters: dict[str, Any]) -> dict[str, Any]:
    """The parameters that have a value."""
    return {name: value for name, value in parameters.items() if value is not None}


def _seconds(retry_after: Any) -> float:
    """A 429's wait in seconds (python-telegram-bot gives an int or a timedelta)."""
    return float(getattr(retry_after, "total_seconds", lambda: retry_after)())
