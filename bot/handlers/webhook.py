"""The Telegram webhook route: secret checked in constant time before the body is read.

An update is answered only once it has been handled: a worker killed mid-way leaves Telegram
without an answer, so Telegram delivers it again (to any worker), and the update log makes sure
what had been committed is not applied twice.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from aiohttp import web
from telegram import Update

from bot.channels.replies import WEBHOOK_ANSWER
from bot.channels.telegram import TelegramApp

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookReceiver:
    """Receives updates from Telegram and handles each before answering."""

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
        # Through the application's processor: each chat's updates in turn, a bounded number
        # at once; handler errors reach the error handler (which apologises), never Telegram.
        processor = self.application.update_processor
        answer: list[dict[str, Any]] = []
        token = WEBHOOK_ANSWER.set(answer)
        try:
            await processor.process_update(update, self.application.process_update(update))
        finally:
            WEBHOOK_ANSWER.reset(token)
        return web.json_response(answer[0]) if answer else web.Response(status=200)
