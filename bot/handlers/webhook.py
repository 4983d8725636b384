"""The Telegram webhook route: secret checked in constant time before the body is read."""

from __future__ import annotations

import hmac
import json
import logging

from aiohttp import web
from telegram import Update

from bot.channels.telegram import TelegramApp

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookReceiver:
    """Receives updates from Telegram and queues them for the application."""

    def __init__(self, application: TelegramApp, secret: str) -> None:
        self.application = application
        self._secret = secret.encode("utf-8")

    async def receive(self, request: web.Request) -> web.Response:
        """Accept one update if the secret token matches."""
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8")
        if not hmac.compare_digest(given, self._secret):
            return web.Response(status=403)
        try:
            payload = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            return web.Response(status=400)
        update = Update.de_json(payload, self.application.bot)
        if update is None:
            return web.Response(status=400)
        await self.application.update_queue.put(update)
        return web.Response(status=200)
