"""Telegram adapters for residents: turn an Update into an Inbound, call PanelChat, render."""

from __future__ import annotations

import logging
from dataclasses import replace

from telegram import Message, Update
from telegram.ext import CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.channels.replies import Replies
from bot.channels.telegram import TelegramApp, chosen_label
from bot.services.champion_chat import ChampionChat
from bot.services.chat import Button, Inbound, Outcome, Voice
from bot.services.metrics import handling
from bot.services.panel_chat import PanelChat, apology

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE
MAX_VOICE_BYTES = 10 * 1024 * 1024


def inbound_from(update: Update) -> Inbound | None:
    """The channel-neutral event in an update (None for updates we do not handle)."""
    user = update.effective_user
    chat = update.effective_chat
    if chat is None or chat.type != "private" or user is None:
        return None
    base = Inbound(
        chat.id,
        f"tg:{update.update_id}",
        client_language=user.language_code,
        display_name=user.full_name,
    )
    if update.callback_query is not None:
        return replace(base, button=update.callback_query.data or "")
    message = update.message
    if message is None:
        return None
    text = message.text or message.caption or ""
    if text.startswith("/"):
        head, _sep, argument = text.partition(" ")
        command = head[1:].split("@", 1)[0].lower()
        return replace(base, command=command, argument=argument.strip())
    return replace(base, text=text)


async def with_voice(event: Inbound, message: Message | None) -> Inbound:
    """The event with the voice note or audio it carries, downloaded (empty when too big)."""
    sound = message.voice or message.audio if message is not None else None
    if sound is None:
        return event
    if sound.file_size is not None and sound.file_size > MAX_VOICE_BYTES:
        return replace(event, text=None, voice=Voice(b""))
    file = await sound.get_file()
    content = bytes(await file.download_as_bytearray())
    suffix = "ogg" if message is not None and message.voice is not None else "audio"
    return replace(event, text=None, voice=Voice(content, suffix))


class ResidentHandlers:
    """The handlers that route every private message and button press: to the champions'
    service when it is theirs, else to PanelChat."""

    def __init__(
        self,
        chat: PanelChat,
        champions: ChampionChat | None = None,
        *,
        replies_per_second: float = 0.0,
    ) -> None:
        self.chat = chat
        self.champions = champions
        self.replies_per_second = replies_per_second
        self._replies: Replies | None = None

    async def on_update(self, update: Update, context: Context) -> None:
        """Handle one message or button press."""
        event = inbound_from(update)
        if event is None:
            return
        async with handling("telegram"):
            await self._answer(update, context, event)

    async def _answer(self, update: Update, context: Context, event: Inbound) -> None:
        if self.champions is not None and await self.champions.claims(event):
            outcome = await self.champions.handle(event)
        else:
            outcome = await self.chat.handle(await with_voice(event, update.message))
        replies = self._replies_for(context)
        query = update.callback_query
        if query is not None:
            await replies.acknowledge(query.id, outcome.notice)
            message = query.message
            if isinstance(message, Message):
                edit = self._edit_for(message, event, outcome)
                if edit is not None:
                    await replies.edit(message.chat_id, message.message_id, *edit)
        await replies.send(event.chat_id, outcome.replies)

    @staticmethod
    def _edit_for(
        message: Message, event: Inbound, outcome: Outcome
    ) -> tuple[str, tuple[tuple[Button, ...], ...]] | None:
        """The pressed message's new text and buttons: a question's new state (ticks), or the
        answered question with the choice made instead of its buttons."""
        if outcome.edit is not None:
            return outcome.edit.text, outcome.edit.buttons
        if outcome.stale or not message.text:
            return None
        label = chosen_label(message.reply_markup, event.button or "")
        return None if label is None else (f"{message.text}\n\n✓ {label}", ())

    def _replies_for(self, context: Context) -> Replies:
        if self._replies is None or self._replies.bot is not context.bot:
            self._replies = Replies(context.bot, self.replies_per_second)
        return self._replies

    async def on_error(self, update: object, context: Context) -> None:
        """The one error path: log without message text, then apologise kindly."""
        log.error("update failed: %s", type(context.error).__name__, exc_info=context.error)
        if (
            isinstance(update, Update)
            and update.effective_chat
            and update.effective_chat.type == "private"
        ):
            user = update.effective_user
            try:
                await context.bot.send_message(
                    update.effective_chat.id, apology(user.language_code if user else None)
                )
            except Exception:
                log.warning("could not send the apology")

    def register(self, application: TelegramApp) -> None:
        """Attach the handlers to a python-telegram-bot application."""
        private = filters.ChatType.PRIVATE
        application.add_handler(MessageHandler(private & ~filters.StatusUpdate.ALL, self.on_update))
        application.add_handler(CallbackQueryHandler(self.on_update))
        application.add_error_handler(self.on_error)
