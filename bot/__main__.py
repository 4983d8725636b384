"""Composition root and command line: `panelbot run`, `panelbot db upgrade`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import secrets
import sys
import time
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web
from telegram import BotCommand, Update

from bot.channels.telegram import build_application, send_direct
from bot.config import Settings, SettingsError
from bot.handlers.reminders import schedule_reminders
from bot.handlers.resident import ResidentHandlers
from bot.handlers.webhook import WebhookReceiver
from bot.sending import build_sender, send_until_stopped, sending
from bot.services.accounts import AccountError, Accounts
from bot.services.area import AreaProfile, AreaProfileError, check_area
from bot.services.area_install import install_area, installed_area
from bot.services.broadcast_wizard import BroadcastWizard
from bot.services.broadcasts import Broadcasts
from bot.services.champion_chat import ChampionChat
from bot.services.commands import command_menus
from bot.services.composition import LOCALITY, Counts, compose, panel_counts
from bot.services.dashboard import Dashboard
from bot.services.exports import FORMATS, Exporter, ExportRefused, FileSink
from bot.services.maximin import Lottery, Quota, maximin
from bot.services.panel_chat import PanelChat, utc_now
from bot.services.panel_status import status_table
from bot.services.quotas import Quotas
from bot.services.recruitment import Recruitment
from bot.services.redaction_cli import redact_stream
from bot.services.reminders import SurveyReminders
from bot.services.roles import ROLES, Roles
from bot.services.selection import Candidate, audit_record, candidates, census_quotas, invitation
from bot.services.story_wall import StoryWall
from bot.services.survey_chat import SurveyChat
from bot.services.survey_library import SurveyLibrary
from bot.surveys import Problem, SurveyError, check_survey, load_survey
from bot.web.app import create_app
from bot.web.guard import public
from storage.database import Database, open_database, upgrade
from storage.files import FileStore
from storage.repositories import PanelRepository, SelectionRepository

log = logging.getLogger("panelbot")


def configure_logging(level: str) -> None:
    """Plain structured-ish logs; HTTP client logs (which carry the token in URLs) kept quiet."""
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    for noisy in ("httpx", "httpcore", "telegram.ext.Updater", "apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def area_in_use(settings: Settings) -> AreaProfile | None:
    """Migrate, then the pack of PANELBOT_AREA_DIR (checked first), else the installed one."""
    area = AreaProfile.load(settings.area_dir) if settings.area_dir else None
    upgrade(settings.effective_database_url)
    return area or installed_area_of(settings)


def installed_area_of(settings: Settings) -> AreaProfile | None:
    """The area pack installed with `panelbot area load`, if any (the database is migrated)."""

    async def read() -> AreaProfile | None:
        async with open_database(settings.effective_database_url) as database:
            return await installed_area(database)

    return asyncio.run(read())


def dashboard_app(
    database: Database, library: SurveyLibrary, area: AreaProfile | None
) -> web.Application:
    """The web application with the dashboard's services."""
    return create_app(
        database,
        Accounts(database, clock=utc_now),
        Dashboard(database, library, area, clock=utc_now),
        StoryWall(database, library, clock=utc_now),
        Exporter(database, clock=utc_now),
    )


def build_web_app(
    settings: Settings, webhook_url: str | None, area: AreaProfile | None, *, send: bool = True
) -> web.Application:
    """Wire settings, database, services, the Telegram application and the web app."""
    token = settings.require_token()
    database = Database(settings.effective_database_url)
    library = SurveyLibrary.load(settings.surveys_dir)
    surveys = SurveyChat(library, voice_store=FileStore(settings.data_dir / "voice"), clock=utc_now)
    chat = PanelChat(
        database,
        area=area,
        store_full_postcode=settings.store_full_postcode,
        surveys=surveys,
    )
    application = build_application(token, settings.telegram_api_url)
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
    )
    ResidentHandlers(chat, champions).register(application)
    reminders = SurveyReminders(database, library, clock=utc_now)
    schedule_reminders(application, reminders, settings.reminder_check_minutes)
    app = dashboard_app(database, library, area)
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
                    webhook_url, secret_token=secret, allowed_updates=Update.ALL_TYPES
                )
            else:
                await application.bot.delete_webhook()
                assert application.updater is not None
                await application.updater.start_polling(allowed_updates=Update.ALL_TYPES)
            log.info("bot started (%s)", "webhook" if webhook_url else "long polling")
            if send:
                async with sending(sender, api):
                    yield
            else:
                yield
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            await application.stop()
        await database.dispose()

    app.cleanup_ctx.append(telegram_lifecycle)
    return app


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    """Migrate, then serve the bot and the web app until stopped."""
    settings.require_token()
    app = build_web_app(settings, args.webhook, area_in_use(settings), send=not args.no_sender)
    print(
        f"Panelbot is running: http://{settings.http_host}:{settings.http_port}/healthz", flush=True
    )
    web.run_app(app, host=settings.http_host, port=settings.http_port, print=None)
    return 0


def cmd_sender(settings: Settings, _args: argparse.Namespace) -> int:
    """Migrate, then only send broadcasts from the outbox until stopped."""
    settings.require_token()
    upgrade(settings.effective_database_url)
    print("Sending broadcasts from the outbox; Ctrl+C stops.", flush=True)
    asyncio.run(send_until_stopped(settings))
    return 0


def localities_of(settings: Settings, given: str) -> list[str]:
    """Comma-separated locality ids, each checked against the area in use."""
    ids = [part.strip() for part in given.split(",") if part.strip()]
    area = area_in_use(settings)
    unknown = [i for i in ids if area is None or i not in area.localities]
    if unknown:
        known = ", ".join(area.localities) if area else "none: load an area pack first"
        raise SettingsError(f"unknown localities {', '.join(unknown)} (known: {known})")
    return ids


def cmd_role(settings: Settings, args: argparse.Namespace) -> int:
    """Grant or revoke a role, or make a one-time invite code for one."""
    localities = localities_of(settings, args.localities or "")
    roles = Roles(Database(settings.effective_database_url), clock=utc_now)

    async def act() -> str:
        try:
            if args.role_command == "grant":
                await roles.grant(args.chat_id, args.role, localities, actor="cli")
                return f"Account {args.chat_id} is now {args.role}."
            if args.role_command == "revoke":
                done = await roles.revoke(args.chat_id, args.role, actor="cli")
                return f"Account {args.chat_id} is no longer {args.role}." if done else "Not held."
            code = await roles.invite(args.role, localities, actor="cli", days=args.days)
            return (
                f"One-time code for a {args.role}, valid {args.days} days. "
                f"They send this to the bot:\n/champion {code}"
            )
        except ValueError as error:
            raise SettingsError(str(error)) from error
        finally:
            await roles.database.dispose()

    print(asyncio.run(act()))
    return 0


def cmd_user_add(settings: Settings, args: argparse.Namespace) -> int:
    """Add a dashboard account; the password is asked for (or read from stdin)."""
    localities = localities_of(settings, args.localities or "")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password (12 characters or more): ")
        if getpass.getpass("Again: ") != password:
            raise SettingsError("the two passwords differ")

    async def add() -> None:
        async with open_database(settings.effective_database_url) as database:
            await Accounts(database, clock=utc_now).add(
                args.username, args.role, password, localities
            )

    try:
        asyncio.run(add())
    except AccountError as error:
        raise SettingsError(str(error)) from error
    print(f"Account {args.username.strip().lower()} ({args.role}) added.")
    return 0


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    """Write one survey's response set to a file, with a progress bar on stderr."""
    survey = SurveyLibrary.load(settings.surveys_dir).get(args.survey)
    if survey is None:
        raise SettingsError(f"no survey {args.survey!r}")
    upgrade(settings.effective_database_url)

    def show(done: int, total: int) -> None:
        filled = 30 * done // total if total else 30
        print(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done:,}/{total:,} rows", end="",
              file=sys.stderr, flush=True)  # fmt: skip

    async def write() -> tuple[int, int]:
        async with open_database(settings.effective_database_url) as database:
            with args.out.open("wb") as out:
                record = await Exporter(database, clock=utc_now).export(
                    survey, args.format, FileSink(out), actor="cli", reason=args.reason,
                    progress=show,
                )  # fmt: skip
        return record.rows, record.suppressed

    try:
        rows, suppressed = asyncio.run(write())
    except ExportRefused as error:
        args.out.unlink(missing_ok=True)
        raise SettingsError(str(error)) from error
    print(f"\n{rows:,} rows written to {args.out} ({suppressed:,} suppressed to keep groups of 5).")
    return 0


def cmd_dashboard(settings: Settings, _args: argparse.Namespace) -> int:
    """Migrate, then serve only the dashboard (no Telegram)."""
    area = area_in_use(settings)
    database = Database(settings.effective_database_url)
    library = SurveyLibrary.load(settings.surveys_dir)
    app = dashboard_app(database, library, area)
    print(f"Dashboard: http://{settings.http_host}:{settings.http_port}/", flush=True)
    web.run_app(app, host=settings.http_host, port=settings.http_port, print=None)
    return 0


def cmd_db_upgrade(settings: Settings, _args: argparse.Namespace) -> int:
    """Migrate the database to the newest schema."""
    upgrade(settings.effective_database_url)
    print("Database is up to date.")
    return 0


def cmd_survey_check(_settings: Settings, args: argparse.Namespace) -> int:
    """Check survey files strictly: print every problem with its place."""
    failed = False
    for path in args.files:
        problems = check_survey(path)
        if problems:
            failed = True
            print_problems(problems, path)
        else:
            survey = load_survey(path)
            print(
                f"{path}: ok ({survey.id} version {survey.version}, "
                f"{len(survey.questions)} questions, languages {', '.join(survey.languages)})"
            )
    return 1 if failed else 0


def print_problems(problems: Sequence[Problem], path: str) -> None:
    """Print each problem, then how many."""
    for problem in problems:
        print(problem)
    print(f"{path}: {len(problems)} problem(s)")


def area_summary(profile: AreaProfile) -> str:
    """One line about a pack."""
    census = ", ".join(profile.features()) or "none"
    return (
        f"{profile.name}: {len(profile.localities)} localities, "
        f"{len(profile.district_locality)} districts, {len(profile.unit_locality)} unit postcodes, "
        f"census features: {census}"
    )


def cmd_area_check(_settings: Settings, args: argparse.Namespace) -> int:
    """Check an area pack: print every problem with its place."""
    problems = check_area(args.folder)
    if problems:
        print_problems(problems, str(args.folder))
        return 1
    print(f"{args.folder}: ok ({area_summary(AreaProfile.load(args.folder))})")
    return 0


def cmd_area_load(settings: Settings, args: argparse.Namespace) -> int:
    """Check an area pack and install it in the database."""
    problems = check_area(args.folder)
    if problems:
        print_problems(problems, str(args.folder))
        return 1
    profile = AreaProfile.load(args.folder)
    upgrade(settings.effective_database_url)

    async def install() -> None:
        async with open_database(settings.effective_database_url) as database:
            await install_area(database, profile)

    asyncio.run(install())
    print(f"Installed {area_summary(profile)}")
    return 0


def census_area(settings: Settings) -> AreaProfile:
    """The area pack in use (after migrating), which must hold census counts."""
    area = area_in_use(settings)
    if area is None or not area.features():
        raise SettingsError(
            "no area pack with census counts: set PANELBOT_AREA_DIR or run `panelbot area load DIR`"
        )
    return area


def cmd_panel_draw(settings: Settings, _args: argparse.Namespace) -> int:
    """Move reserve residents whose groups have room onto the panel; queue the news for them."""
    quotas = Quotas.from_area(census_area(settings))
    if quotas is None:
        raise SettingsError("the area pack has no panel_size, so there are no quotas")

    async def draw() -> int:
        url = settings.effective_database_url
        async with open_database(url) as database, database.transaction() as session:
            return len(await Recruitment(quotas).draw_and_tell(PanelRepository(session), utc_now()))

    moved = asyncio.run(draw())
    print(
        f"{moved} moved from the reserve list onto the panel; the bot (or `panelbot sender`) "
        "tells them in the chat."
    )
    return 0


def solve_with_progress(
    people: list[dict[str, str]], quotas: list[Quota], size: int, time_limit: float
) -> Lottery:
    """Run maximin in a worker process, showing the time it has taken so far."""
    with ProcessPoolExecutor(max_workers=1) as workers:
        future = workers.submit(maximin, people, quotas, size, time_limit=time_limit)
        begin = time.monotonic()
        while True:
            try:
                lottery = future.result(timeout=1)
                break
            except FuturesTimeout:
                print(f"\rselecting fairly... {time.monotonic() - begin:.0f} s", end="", flush=True)
    print(f"\rselected in {lottery.seconds:.1f} s" + " " * 20)
    return lottery


def cmd_select(settings: Settings, args: argparse.Namespace) -> int:
    """Draw a sub-panel by lot within census quotas, keep its audit record, invite the chosen."""
    area = census_area(settings)
    features = args.features.split(",") if args.features else [LOCALITY, *area.features()]
    unknown = [f for f in features if f != LOCALITY and f not in area.features()]
    if unknown:
        raise SettingsError(f"no census counts for {', '.join(unknown)}")

    async def read_pool() -> list[Candidate]:
        url = settings.effective_database_url
        async with open_database(url) as database, database.transaction() as session:
            return candidates(await SelectionRepository(session).pool(), features)

    pool = asyncio.run(read_pool())
    if len(pool) < args.size:
        raise SettingsError(f"the pool has {len(pool)} members, fewer than {args.size}")
    quotas = census_quotas(area, args.size, features)
    try:
        lottery = solve_with_progress([c.groups for c in pool], quotas, args.size, args.time_limit)
    except ValueError as error:
        raise SettingsError(str(error)) from error
    chosen = lottery.draw(args.seed)
    record = audit_record(
        pool, quotas, lottery, chosen, size=args.size, seed=args.seed, now=utc_now()
    )

    async def keep_and_invite() -> tuple[int, int]:
        url = settings.effective_database_url
        async with open_database(url) as database, database.transaction() as session:
            SelectionRepository(session).record(record)
        selection_id = record.id
        invites = [(pool[i].chat_id, invitation(pool[i].language)) for i in sorted(chosen)]
        told = 0
        if settings.telegram_token:
            told = await send_direct(settings.telegram_token, settings.telegram_api_url, invites)
        return selection_id, told

    selection_id, told = asyncio.run(keep_and_invite())
    fair = args.size / len(pool)
    print(
        f"Selection {selection_id}: {len(chosen)} of {len(pool)} members (seed {args.seed}); "
        f"lowest chance {lottery.lowest:.2%} (equal chance would be {fair:.2%}; "
        f"the best possible is at most {lottery.bound:.2%}); {told} invited in the chat."
    )
    return 0


def cmd_panel_status(settings: Settings, args: argparse.Namespace) -> int:
    """Print the panel's composition against the area's census."""
    area = census_area(settings)
    if args.locality and args.locality not in area.localities:
        raise SettingsError(f"no locality {args.locality!r} (use {', '.join(area.localities)})")

    async def read() -> tuple[dict[str | None, Counts], dict[str | None, int]]:
        url = settings.effective_database_url
        async with open_database(url) as database, database.transaction() as session:
            panel = PanelRepository(session)
            return panel_counts(await panel.profile_counts()), await panel.locality_counts()

    counts, members = asyncio.run(read())
    print(status_table(area, compose(area, counts, members, args.locality), args.locality))
    return 0


def cmd_redact(_settings: Settings, _args: argparse.Namespace) -> int:
    """De-identify text lines or JSON lines (with a `text` field) from stdin to stdout."""
    count = redact_stream(sys.stdin, sys.stdout)
    print(f"panelbot: redacted {count} line(s)", file=sys.stderr)
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
    run.add_argument(
        "--no-sender",
        action="store_true",
        help="leave broadcasts to a separate `panelbot sender` process",
    )
    run.set_defaults(handler=cmd_run)
    sub.add_parser(
        "sender", help="only send broadcasts from the outbox (next to `run --no-sender`)"
    ).set_defaults(handler=cmd_sender)
    sub.add_parser("dashboard", help="serve only the dashboard").set_defaults(handler=cmd_dashboard)
    export = sub.add_parser("export", help="export a survey's response set, safe to share")
    export.add_argument("--survey", required=True, help="the survey's id")
    export.add_argument("--format", choices=FORMATS, default="csv")
    export.add_argument("--out", type=Path, required=True, help="the file to write")
    export.add_argument("--reason", required=True, help="why (kept in the exports register)")
    export.set_defaults(handler=cmd_export)
    user = sub.add_parser("user", help="dashboard accounts")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add_user = user_sub.add_parser("add", help="add a dashboard account")
    add_user.add_argument("username")
    add_user.add_argument("--role", choices=ROLES, required=True)
    add_user.add_argument("--localities", help="comma-separated locality ids (champions)")
    add_user.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    add_user.set_defaults(handler=cmd_user_add)
    role = sub.add_parser("role", help="admins, co-design leads and community champions")
    role_sub = role.add_subparsers(dest="role_command", required=True)
    for name, text in (
        ("grant", "give an account (its numeric Telegram id) a role"),
        ("revoke", "take a role away"),
        ("invite", "make a one-time code that gives a role to whoever sends /champion CODE"),
    ):
        command = role_sub.add_parser(name, help=text)
        if name != "invite":
            command.add_argument("--chat-id", type=int, required=True, help="Telegram user id")
        command.add_argument("--role", choices=ROLES, required=True)
        command.add_argument("--localities", help="comma-separated locality ids (champions)")
        if name == "invite":
            command.add_argument("--days", type=int, default=14, help="days the code is valid")
        command.set_defaults(handler=cmd_role)
    db = sub.add_parser("db", help="database tasks")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="migrate to the newest schema").set_defaults(
        handler=cmd_db_upgrade
    )
    survey = sub.add_parser("survey", help="survey definition tasks")
    survey_sub = survey.add_subparsers(dest="survey_command", required=True)
    check = survey_sub.add_parser("check", help="check survey files and print every problem")
    check.add_argument("files", nargs="+", metavar="FILE", help="survey YAML files")
    check.set_defaults(handler=cmd_survey_check)
    area = sub.add_parser("area", help="area profile packs")
    area_sub = area.add_subparsers(dest="area_command", required=True)
    for name, handler, text in (
        ("check", cmd_area_check, "check a pack and print every problem"),
        ("load", cmd_area_load, "check a pack and install it in the database"),
    ):
        command = area_sub.add_parser(name, help=text)
        command.add_argument("folder", type=Path, metavar="DIR", help="the pack's folder")
        command.set_defaults(handler=handler)
    panel = sub.add_parser("panel", help="the panel")
    panel_sub = panel.add_subparsers(dest="panel_command", required=True)
    status = panel_sub.add_parser("status", help="composition against the census, as a table")
    status.add_argument("--locality", help="one locality's composition")
    status.set_defaults(handler=cmd_panel_status)
    panel_sub.add_parser(
        "draw", help="move reserve residents whose groups have room onto the panel"
    ).set_defaults(handler=cmd_panel_draw)
    select_parser = sub.add_parser("select", help="draw a sub-panel by lot within quotas")
    select_parser.add_argument("--size", type=int, required=True, help="how many to select")
    select_parser.add_argument("--seed", type=int, required=True, help="the lottery's seed")
    select_parser.add_argument(
        "--features", help="comma-separated features for quotas (default: all in the census)"
    )
    select_parser.add_argument(
        "--time-limit", type=float, default=60.0, help="seconds the solver may take"
    )
    select_parser.set_defaults(handler=cmd_select)
    sub.add_parser(
        "redact", help="de-identify text or JSON lines (field `text`) from stdin to stdout"
    ).set_defaults(handler=cmd_redact)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `panelbot` command."""
    args = parser().parse_args(argv)
    try:
        settings = Settings.load()
        configure_logging(settings.log_level)
        return int(args.handler(settings, args))
    except (SettingsError, AreaProfileError, SurveyError) as error:
        print(f"panelbot: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
