"""The Telegram channel: builds the python-telegram-bot application and renders outcomes."""

from __future__ import annotations

from typing import Any, TypeAlias

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import Forbidden, TelegramError
from telegram.ext import AIORateLimiter, Application

from bot.channels.aiohttp_request import AiohttpRequest
from bot.channels.ordering import PerChatOrder
from bot.services.chat import Button

TelegramApp: TypeAlias = Application[Any, Any, Any, Any, Any, Any]


def build_application(
    token: str,
    api_url: str,
    *,
    concurrency: int = 64,
    replies_per_second: float = 0.0,
    rate_limit: bool = True,
) -> TelegramApp:
    """A python-telegram-bot application talking to the Bot API at api_url: `concurrency`
    chats handled at once, each chat's updates in order; replies paced to `replies_per_second`
    overall (0: only as Telegram asks, by waiting out its 429s)."""
    base = api_url.rstrip("/")
    builder = (
        Application.builder()
        .token(token)
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .concurrent_updates(PerChatOrder(concurrency))
        .request(AiohttpRequest())
    )
    if rate_limit:
        limiter = AIORateLimiter(overall_max_rate=replies_per_second, max_retries=3)
        # The builder is typed for a limiter without per-call arguments; AIORateLimiter takes some.
        builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]
    return builder.build()


def keyboard(rows: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    """Inline keyboard for button rows (None when there are none)."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.id) for b in row] for row in rows]
    )


def chosen_label(markup: InlineKeyboardMarkup | None, data: str) -> str | None:
    """The label of the button with this callback id in a keyboard."""
    if markup is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return button.text
    return None


async def send_direct(token: str, api_url: str, messages: list[tuple[int, str]]) -> int:
    """Send plain messages outside the running bot (from a command); return how many went."""
    sent = 0
    if not messages:
        return sent
    try:
        async with Bot(token, base_url=f"{api_url.rstrip('/')}/bot") as bot:
            for chat_id, text in messages:
                try:
                    await bot.send_message(chat_id, text)
                    sent += 1
                except Forbidden:
                    continue  # blocked the bot: they keep their place all the same
    except TelegramError:
        return sent  # the Bot API is unreachable: the caller reports who was not told
    return sent
