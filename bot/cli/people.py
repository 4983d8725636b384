"""Roles in the chat and dashboard accounts."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import secrets
import sys

from bot.cli.panel import area_in_use
from bot.config import Settings, SettingsError
from bot.services.accounts import AccountError, Accounts
from bot.services.area import DEMO_AREA, AreaProfile
from bot.services.demo_panel import DemoError, DemoPanel, fill_demo_panel
from bot.services.panel_chat import utc_now
from bot.services.roles import Roles
from bot.services.survey_library import SurveyLibrary
from storage.database import Database, open_database


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


DEMO_ACCOUNT = "demo"


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    """Fill the panel with made-up residents, answers and stories, and a dashboard account."""
    area = area_in_use(settings) or AreaProfile.load(DEMO_AREA)
    password = secrets.token_urlsafe(12)

    async def fill() -> tuple[DemoPanel, bool]:
        async with open_database(settings.effective_database_url) as database:
            library = SurveyLibrary.load(settings.surveys_dir)
            made = await fill_demo_panel(database, library, area, args.members, clock=utc_now)
            try:
                await Accounts(database, clock=utc_now).add(DEMO_ACCOUNT, "lead", password, [])
            except AccountError:
                return made, False
            return made, True

    try:
        made, new_account = asyncio.run(fill())
    except DemoError as error:
        raise SettingsError(str(error)) from error
    print(f"The demo panel of {area.name} has {made.panel:,} made-up members ({made.members:,}"
          f" added now, with {made.responses:,} survey responses and {made.stories:,}"
          " stories).")  # fmt: skip
    if new_account:
        print(f"Dashboard account: {DEMO_ACCOUNT}, password {password} (shown only now).")
    else:
        print(f"The dashboard account {DEMO_ACCOUNT} already exists: use its password.")
    print(
        f"Start it with: panelbot run   (then open http://{settings.http_host}:{settings.http_port}/)"
    )
    return 0
