"""Composition root and command line: `panelbot run`, `panelbot db upgrade`, ..."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.cli.data import cmd_db_upgrade, cmd_export, cmd_redact, cmd_retention, cmd_survey_check
from bot.cli.panel import (
    cmd_area_check,
    cmd_area_load,
    cmd_panel_draw,
    cmd_panel_status,
    cmd_select,
)
from bot.cli.people import cmd_demo, cmd_role, cmd_user_add
from bot.cli.serve import cmd_dashboard, cmd_run, cmd_sender
from bot.cli.workers import WORKER_OPTION
from bot.config import Settings, SettingsError
from bot.logs import configure_logging
from bot.services.area import AreaProfileError
from bot.services.exports import FORMATS
from bot.services.roles import ROLES
from bot.surveys import SurveyError


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
    run.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="run N worker processes on one port (needs --webhook and PostgreSQL)",
    )
    run.add_argument(WORKER_OPTION, type=int, help=argparse.SUPPRESS)  # set by the supervisor
    run.set_defaults(handler=cmd_run)
    sub.add_parser(
        "sender", help="only send broadcasts from the outbox (next to `run --no-sender`)"
    ).set_defaults(handler=cmd_sender)
    sub.add_parser("dashboard", help="serve only the dashboard").set_defaults(handler=cmd_dashboard)
    sub.add_parser(
        "retention", help="remove what is past its keeping time (run does it daily)"
    ).set_defaults(handler=cmd_retention)
    demo = sub.add_parser("demo", help="fill the panel with made-up people, to try Panelbot out")
    demo.add_argument("--members", type=int, default=2000, help="how many (default 2000)")
    demo.set_defaults(handler=cmd_demo)
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
        configure_logging(settings.log_level, settings.log_format)
        return int(args.handler(settings, args))
    except (SettingsError, AreaProfileError, SurveyError) as error:
        print(f"panelbot: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
