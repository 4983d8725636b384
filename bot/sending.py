"""Wiring of the broadcast sender: in `panelbot run`, or alone as `panelbot sender`."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.channels.bot_api import BotApi
from bot.channels.web_inbox import Channels, WebInbox
from bot.config import Settings
from bot.services.broadcast_text import composer
from bot.services.delivery import Limits, Sender
from bot.services.panel_chat import utc_now
from bot.services.quiet_hours import QuietHours
from bot.services.survey_library import SurveyLibrary
from storage.database import Database, open_database
from storage.duty import SENDER, Duty
from storage.outbox import Outbox


def build_sender(
    settings: Settings, database: Database, library: SurveyLibrary
) -> tuple[Sender, BotApi | None]:
    """A sender with the settings' limits, and the Bot API client it sends through (None
    without a Telegram token: then only web chats are sent to)."""
    limits = Limits(per_second=settings.send_per_second, in_flight=settings.send_in_flight)
    api = None
    if settings.telegram_token:
        api = BotApi(
            settings.telegram_api_url, settings.telegram_token, connections=limits.in_flight
        )
    sender = Sender(
        Outbox(database),
        Channels(WebInbox(database, clock=utc_now), api),
        composer(library),
        clock=utc_now,
        limits=limits,
        quiet=QuietHours(*settings.quiet_hours),
        # Only the holder of the sender duty sends, so what is `sending` when it takes the duty
        # was in flight in a sender that is gone (or cut off from the database).
        sole=True,
    )
    return sender, api


@asynccontextmanager
async def sending(sender: Sender, api: BotApi | None, database: Database) -> AsyncIterator[None]:
    """The sender draining the outbox in the background, whenever this process holds the
    sender duty (always on SQLite), until the block ends."""
    duty = Duty(database.url, SENDER, "sender")

    async def send(until: asyncio.Event) -> None:
        async with api or contextlib.nullcontext():
            await sender.run(until)

    stop = asyncio.Event()
    tasks = [asyncio.create_task(duty.keep(stop)), asyncio.create_task(duty.while_held(send, stop))]
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def send_until_stopped(settings: Settings) -> None:
    """`panelbot sender`: drain the outbox until SIGINT or SIGTERM."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stopping.set)
    library = SurveyLibrary.load(settings.surveys_dir)
    async with open_database(settings.effective_database_url) as database:
        sender, api = build_sender(settings, database, library)
        async with sending(sender, api, database):
            await stopping.wait()
