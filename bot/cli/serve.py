"""Serving: the bot with its web app, the dashboard alone, the sender alone."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from urllib.parse import urlsplit

from aiohttp import web
from telegram import BotCommand, Update

from bot.channels.telegram import build_application
from bot.cli.data import retention_of
from bot.cli.panel import area_in_use
from bot.cli.workers import cmd_run_workers
from bot.config import Settings
from bot.handlers.reminders import schedule_reminders
from bot.handlers.resident import ResidentHandlers
from bot.handlers.webhook import WebhookReceiver
from bot.logs import ACCESS_LOG_FORMAT
from bot.sending import build_sender, send_until_stopped, sending
from bot.services.accounts import Accounts
from bot.services.area import DEMO_AREA, AreaProfile
from bot.services.broadcast_wizard import BroadcastWizard
from bot.services.broadcasts import Broadcasts
from bot.services.champion_chat import ChampionChat
from bot.services.commands import command_menus
from bot.services.dashboard import Dashboard
from bot.services.exports import Exporter
from bot.services.panel_chat import PanelChat, utc_now
from bot.services.quiet_hours import QuietHours
from bot.services.reminders import SurveyReminders
from bot.services.roles import Roles
from bot.services.story_wall import StoryWall
from bot.services.survey_chat import SurveyChat
from bot.services.survey_library import SurveyLibrary
from bot.services.web_chat import CHANNEL as WEB_CHANNEL
from bot.services.web_chat import WebChat
from bot.web.app import create_app
from bot.web.guard import public
from storage.database import Database, upgrade
from storage.duty import JOBS, Duty
from storage.files import FileStore

log = logging.getLogger("panelbot")
# Telegram's most: each update is answered once handled, so these bound the updates in hand.
WEBHOOK_CONNECTIONS = 100
DEMO_BANNER = """Panelbot is running for {place}, without Telegram (no PANELBOT_TELEGRAM_TOKEN).
  Residents' web chat: {base}/chat
  Dashboard:           {base}/   (an account: panelbot user add NAME --role lead;
                                  a panel to look at: panelbot demo --members 2000)
Ctrl+C stops."""


def dashboard_app(
    database: Database,
    library: SurveyLibrary,
    area: AreaProfile | None,
    web_chat: WebChat | None = None,
    settings: Settings | None = None,
) -> web.Application:
    """The web application with the dashboard's services (and the web chat, if given)."""
    settings = settings or Settings()
    return create_app(
        database,
        Accounts(database, clock=utc_now),
        Dashboard(database, library, area, clock=utc_now),
        StoryWall(database, library, clock=utc_now),
        Exporter(database, clock=utc_now),
        web_chat=web_chat,
        metrics_token=settings.metrics_token,
        trusted_proxies=settings.trusted_proxies,
    )


def panel_chat(
    settings: Settings,
    database: Database,
    library: SurveyLibrary,
    area: AreaProfile | None,
    channel: str = "telegram",
) -> PanelChat:
    """The conversation with residents on one channel."""
    surveys = SurveyChat(library, voice_store=FileStore(settings.data_dir / "voice"), clock=utc_now)
    return PanelChat(
        database,
        area=area,
        store_full_postcode=settings.store_full_postcode,
        surveys=surveys,
        channel=channel,
    )


def web_chat(
    settings: Settings, database: Database, library: SurveyLibrary, area: AreaProfile | None
) -> WebChat:
    """The same conversation in the browser, for residents without Telegram."""
    chat = panel_chat(settings, database, library, area, channel=WEB_CHANNEL)
    return WebChat(database, chat, clock=utc_now)


def build_web_app(
    settings: Settings, webhook_url: str | None, area: AreaProfile | None, *, send: bool = True
) -> web.Application:
    """Wire settings, database, services, the Telegram application and the web app."""
    token = settings.require_token()
    database = Database(settings.effective_database_url)
    library = SurveyLibrary.load(settings.surveys_dir)
    chat = panel_chat(settings, database, library, area)
    application = build_application(
        token,
        settings.telegram_api_url,
        concurrency=settings.updates_at_once,
        replies_per_second=settings.replies_per_second,
    )
    sender, api = build_sender(settings, database, library)
    broadcasts = Broadcasts(database, clock=utc_now, wake=sender.wake.set)
    champions = ChampionChat(
        database,
        Roles(database, clock=utc_now),
        broadcasts,
        BroadcastWizard(database, broadcasts, library, area, clock=utc_now),
        area,
        bot_username=lambda: application.bot.username,
        clock=utc_now,
        web_address=settings.public_url,
    )
    ResidentHandlers(chat, champions, replies_per_second=settings.replies_per_second).register(
        application
    )
    jobs = Duty(database.url, JOBS, "jobs")
    quiet = QuietHours(*settings.quiet_hours)
    reminders = SurveyReminders(database, library, clock=utc_now, quiet=quiet)
    schedule_reminders(application, reminders, settings.reminder_check_minutes, jobs)
    browser = web_chat(settings, database, library, area)
    app = dashboard_app(database, library, area, browser, settings)
    secret = settings.webhook_secret or secrets.token_urlsafe(32)
    if webhook_url:
        path = urlsplit(webhook_url).path or "/telegram"
        app.router.add_post(path, public(WebhookReceiver(application, secret).receive))

    async def telegram_lifecycle(_app: web.Application) -> AsyncIterator[None]:
        async with application:
            for code, menu in command_menus().items():
                commands = [BotCommand(name, text) for name, text in menu]
                await application.bot.set_my_commands(commands, language_code=code)
            await application.start()
            if webhook_url:
                await application.bot.set_webhook(
                    webhook_url,
                    secret_token=secret,
                    allowed_updates=Update.ALL_TYPES,
                    max_connections=WEBHOOK_CONNECTIONS,
                )
            else:
                await application.bot.delete_webhook()
                assert application.updater is not None
                await application.updater.start_polling(allowed_updates=Update.ALL_TYPES)
            log.info("bot started (%s)", "webhook" if webhook_url else "long polling")
            if send:
                async with sending(sender, api, database):
                    yield
            else:
                yield
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            await application.stop()
        await database.dispose()

    app.cleanup_ctx.append(telegram_lifecycle)
    app.cleanup_ctx.append(_retention_daily(settings, database, jobs))
    return app


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    """Migrate, then serve the bot and the web app until stopped (without a Telegram token:
    the web chat and the dashboard only, on the demo area unless another is set)."""
    if args.workers > 1:
        return cmd_run_workers(settings, args)
    area = area_in_use(settings)
    base = f"http://{settings.http_host}:{settings.http_port}"
    worker = args.worker_index is not None
    if not settings.telegram_token:
        database = Database(settings.effective_database_url)
        library = SurveyLibrary.load(settings.surveys_dir)
        area = area or AreaProfile.load(DEMO_AREA)
        chat = web_chat(settings, database, library, area)
        app = dashboard_app(database, library, area, chat, settings)
        app.cleanup_ctx.append(_sending_to_web_chats(settings, database, library))
        app.cleanup_ctx.append(
            _retention_daily(settings, database, Duty(database.url, JOBS, "jobs"))
        )
        print(DEMO_BANNER.format(base=base, place=area.name), flush=True)
    else:
        app = build_web_app(settings, args.webhook, area, send=not args.no_sender)
        if not worker:
            print(f"Panelbot is running: {base}/healthz, web chat {base}/chat", flush=True)
    use_fast_event_loop()
    web.run_app(app, host=settings.http_host, port=settings.http_port, print=None,
                access_log_format=ACCESS_LOG_FORMAT, reuse_port=worker or None)  # fmt: skip
    return 0


def use_fast_event_loop() -> None:
    """uvloop where it is installed (not on Windows): the same asyncio, less CPU a message."""
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


RETENTION_EVERY = 24 * 3600.0


def _retention_daily(
    settings: Settings, database: Database, jobs: Duty
) -> Callable[[web.Application], AsyncIterator[None]]:
    """The retention job, a minute after start and then every day, while the web app runs, in
    the one worker holding the jobs duty (which this lifecycle keeps)."""

    async def daily() -> None:
        await asyncio.sleep(60)
        while True:
            try:
                if jobs.held:
                    report = await retention_of(settings, database).run()
                    log.info("retention: %s", report)
            except Exception:
                log.exception("the retention job failed; it runs again tomorrow")
            await asyncio.sleep(RETENTION_EVERY)

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        stop = asyncio.Event()
        keeping = asyncio.create_task(jobs.keep(stop))
        task = asyncio.create_task(daily())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        stop.set()
        await keeping

    return lifecycle


def _sending_to_web_chats(
    settings: Settings, database: Database, library: SurveyLibrary
) -> Callable[[web.Application], AsyncIterator[None]]:
    """The outbox's sender while the web app runs (without Telegram: to web chats only)."""

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        async with sending(*build_sender(settings, database, library), database):
            yield
        await database.dispose()

    return lifecycle


def cmd_sender(settings: Settings, _args: argparse.Namespace) -> int:
    """Migrate, then only send broadcasts from the outbox until stopped."""
    settings.require_token()
    upgrade(settings.effective_database_url)
    print("Sending broadcasts from the outbox; Ctrl+C stops.", flush=True)
    asyncio.run(send_until_stopped(settings))
    return 0


def cmd_dashboard(settings: Settings, _args: argparse.Namespace) -> int:
    """Migrate, then serve only the dashboard (no Telegram)."""
    area = area_in_use(settings)
    database = Database(settings.effective_database_url)
    library = SurveyLibrary.load(settings.surveys_dir)
    app = dashboard_app(database, library, area, settings=settings)
    print(f"Dashboard: http://{settings.http_host}:{settings.http_port}/", flush=True)
    web.run_app(app, host=settings.http_host, port=settings.http_port, print=None,
                access_log_format=ACCESS_LOG_FORMAT)  # fmt: skip
    return 0
