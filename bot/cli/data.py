"""Data tasks: migrations, survey checks, exports, redaction, retention."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from bot.config import Settings, SettingsError
from bot.services.exports import Exporter, ExportRefused, FileSink
from bot.services.panel_chat import utc_now
from bot.services.redaction_cli import redact_stream
from bot.services.retention import Retention, RetentionPolicy, RetentionReport
from bot.services.survey_library import SurveyLibrary
from bot.surveys import Problem, check_survey, load_survey
from storage.database import Database, open_database, upgrade
from storage.files import FileStore


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
                exporter = Exporter(database, clock=utc_now)
                record = await exporter.write(
                    await exporter.plan(survey), args.format, FileSink(out), actor="cli",
                    reason=args.reason, progress=show,
                )  # fmt: skip
        return record.rows, record.suppressed

    try:
        rows, suppressed = asyncio.run(write())
    except ExportRefused as error:
        args.out.unlink(missing_ok=True)
        raise SettingsError(str(error)) from error
    print(f"\n{rows:,} rows written to {args.out} ({suppressed:,} suppressed to keep groups of 5).")
    return 0


def cmd_redact(_settings: Settings, _args: argparse.Namespace) -> int:
    """De-identify text lines or JSON lines (with a `text` field) from stdin to stdout."""
    count = redact_stream(sys.stdin, sys.stdout)
    print(f"panelbot: redacted {count} line(s)", file=sys.stderr)
    return 0


def retention_of(settings: Settings, database: Database) -> Retention:
    """The retention job with the settings' keeping times."""
    policy = RetentionPolicy(*settings.keep_days)
    voice = FileStore(settings.data_dir / "voice")
    return Retention(database, policy, voice_store=voice, clock=utc_now)


def cmd_retention(settings: Settings, _args: argparse.Namespace) -> int:
    """Remove what is past its keeping time now (`panelbot run` does it every day)."""
    upgrade(settings.effective_database_url)

    async def run() -> RetentionReport:
        async with open_database(settings.effective_database_url) as database:
            return await retention_of(settings, database).run()

    report = asyncio.run(run())
    print(
        f"Raw text of {report.raw_stories} moderated stories dropped; erased"
        f" {report.inactive_residents} inactive residents and {report.unfinished_joining} who"
        f" never finished joining; {report.export_records} old exports-register entries and"
        f" {report.web_chats} abandoned web chats removed."
    )
    return 0
