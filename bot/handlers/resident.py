"""Telegram adapters for residents: turn an Update into an Inbound, call PanelChat, render."""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.channels.telegram import TelegramApp, chosen_label, send_replies
from bot.services.chat import Inbound
from bot.services.panel_chat import PanelChat, apology

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE


def inbound_from(update: Update) -> Inbound | None:
    """The channel-neutral event in an update (None for updates we do not handle)."""
    user = update.effective_user
    chat = update.effective_chat
    if chat is None or chat.type != "private" or user is None:
        return None
    key, language_code = f"tg:{update.update_id}", user.language_code
    if update.callback_query is not None:
        data = update.callback_query.data or ""
        return Inbound(chat.id, key, button=data, client_language=language_code)
    message = update.message
    if message is None:
        return None
    text = message.text or ""
    if text.startswith("/"):
        head, _sep, argument = text.partition(" ")
        command = head[1:].split("@", 1)[0].lower()
        return Inbound(
            chat.id, key, command=command, argument=argument.strip(), client_language=language_code
        )
    return Inbound(chat.id, key, text=text, client_language=language_code)


class ResidentHandlers:
    """The handlers that route every private message and button press to PanelChat."""

    def __init__(self, chat: PanelChat) -> None:
        self.chat = chat

    async def on_update(self, update: Update, context: Context) -> None:
        """Handle one message or button press."""
        event = inbound_from(update)
        if event is None:
            return
        outcome = await self.chat.handle(event)
        query = update.callback_query
        if query is not None:
            await query.answer(outcome.notice)
            message = query.message
            if not outcome.stale and isinstance(message, Message) and message.text:
                label = chosen_label(message.reply_markup, event.button or "")
                if label is not None:
                    await self._mark_answered(message, label)
        await send_replies(context.bot, event.chat_id, outcome.replies)

    @staticmethod
    async def _mark_answered(message: Message, label: str) -> None:
        """Replace the answered question's buttons with the chosen answer."""
        try:
            await message.edit_text(f"{message.text}\n\n✓ {label}", reply_markup=None)
        except BadRequest:
            log.debug("answered message %s could not be edited", message.message_id)

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
