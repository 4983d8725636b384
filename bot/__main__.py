"""Composition root and command line: `panelbot run`, `panelbot db upgrade`."""

from __future__ import annotations

import argparse
import logging
import secrets
import sys
from collections.abc import AsyncIterator, Sequence
from urllib.parse import urlsplit

from aiohttp import web
from telegram import BotCommand, Update

from bot.channels.telegram import build_application
from bot.config import Settings, SettingsError
from bot.handlers.resident import ResidentHandlers
from bot.handlers.webhook import WebhookReceiver
from bot.services.area import AreaProfile, AreaProfileError
from bot.services.commands import command_menus
from bot.services.panel_chat import PanelChat
from bot.web.app import create_app
from storage.database import Database, upgrade

log = logging.getLogger("panelbot")


def configure_logging(level: str) -> None:
    """Plain structured-ish logs; HTTP client logs (which carry the token in URLs) kept quiet."""
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    for noisy in ("httpx", "httpcore", "telegram.ext.Updater", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def load_area(settings: Settings) -> AreaProfile | None:
    """The area profile, if one is configured."""
    return AreaProfile.load(settings.area_dir) if settings.area_dir else None


def build_web_app(settings: Settings, webhook_url: str | None) -> web.Application:
    """Wire settings, database, services, the Telegram application and the web app."""
    token = settings.require_token()
    database = Database(settings.effective_database_url)
    chat = PanelChat(
        database,
        area=load_area(settings),
        store_full_postcode=settings.store_full_postcode,
    )
    application = build_application(token, settings.telegram_api_url)
    ResidentHandlers(chat).register(application)
    app = create_app(database)
    secret = settings.webhook_secret or secrets.token_urlsafe(32)
    if webhook_url:
        path = urlsplit(webhook_url).path or "/telegram"
        app.router.add_post(path, WebhookReceiver(application, secret).receive)

    async def telegram_lifecycle(_app: web.Application) -> AsyncIterator[None]:
        async with application:
            for code, menu in command_menus().items():
                commands = [BotCommand(name, text) for name, text in menu]
                await application.bot.set_my_commands(commands, language_code=code)
            await application.start()
            if webhook_url:
                await application.bot.set_webhook(
                    webhook_url, secret_token=secret, allowed_updates=Update.ALL_TYPES
                )
            else:
                await application.bot.delete_webhook()
                assert application.updater is not None
                await application.updater.start_polling(allowed_updates=Update.ALL_TYPES)
            log.info("bot started (%s)", "webhook" if webhook_url else "long polling")
            yield
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            await application.stop()
        await database.dispose()

    app.cleanup_ctx.append(telegram_lifecycle)
    return app


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    """Migrate, then serve the bot and the web app until stopped."""
    app = build_web_app(settings, args.webhook)
    upgrade(settings.effective_database_url)
    print(
        f"Panelbot is running: http://{settings.http_host}:{settings.http_port}/healthz", flush=True
    )
    web.run_app(app, host=settings.http_host, port=settings.http_port, print=None)
    return 0


def cmd_db_upgrade(settings: Settings, _args: argparse.Namespace) -> int:
    """Migrate the database to the newest schema."""
    upgrade(settings.effective_database_url)
    print("Database is up to date.")
    return 0


def parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    top = argparse.ArgumentParser(
        prog="panelbot", description="Panelbot: a citizens' panel in a chat."
    )
    sub = top.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the bot and the web app")
    run.add_argument(
        "--webhook", metavar="URL", help="receive updates by webhook at this public URL"
    )
    run.set_defaults(handler=cmd_run)
    db = sub.add_parser("db", help="database tasks")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="migrate to the newest schema").set_defaults(
        handler=cmd_db_upgrade
    )
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `panelbot` command."""
    args = parser().parse_args(argv)
    try:
        settings = Settings.load()
        configure_logging(settings.log_level)
        return int(args.handler(settings, args))
    except (SettingsError, AreaProfileError) as error:
        print(f"panelbot: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
