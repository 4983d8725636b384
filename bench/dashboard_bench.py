"""Dashboard pages and exports on a big panel: server time per page, export rows per second.

Builds a panel of `--members` (default 100,000) with profiles, each of whom sent the shipped
housing_repairs (7 answers) and gp_access (3 answers) surveys: 1,000,000 answers. Then times
every page through the real web app (median of 3) after ANALYZE (VACUUM ANALYZE on PostgreSQL,
as autovacuum would do), then a CSV export in process (its rows/s)
and `panelbot export` to CSV in its own process (the whole command, and its peak memory).

Run: .venv/bin/python bench/dashboard_bench.py [--members 100000] [--reuse FILE.db]
     [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/benchdb]
`--reuse` keeps the SQLite panel in FILE.db, built only if the file is missing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402
from argon2 import PasswordHasher  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from bench.databases import empty_postgres, reset_postgres, settle  # noqa: E402
from bot.services.accounts import Accounts  # noqa: E402
from bot.services.area import AreaProfile  # noqa: E402
from bot.services.dashboard import Dashboard  # noqa: E402
from bot.services.exports import DiscardSink, Exporter  # noqa: E402
from bot.services.story_wall import StoryWall  # noqa: E402
from bot.services.survey_library import SurveyLibrary  # noqa: E402
from bot.services.tallies import recount  # noqa: E402
from bot.web.app import create_app  # noqa: E402
from storage.database import Database, upgrade_async  # noqa: E402
from storage.models import ProfileAnswer, Resident, SurveyAnswer, SurveyRun  # noqa: E402
from tests.support.panel import member_row  # noqa: E402

AREA = AreaProfile.load(ROOT / "areas" / "demo")
AGES = ("16_24", "25_34", "35_44", "45_54", "55_64", "65_74", "75_plus")
ETHNICITIES = ("white_british", "white_other", "asian_pakistani", "black_african", "mixed_other")
PAGES = ("/", "/composition", "/composition?locality=east_valley", "/surveys/housing_repairs",
         "/surveys/housing_repairs?by=age_band", "/stories", "/broadcasts", "/exports")  # fmt: skip
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
BATCH = 20_000


async def build(database: Database, members: int) -> None:
    """Members with profiles, each with one sent housing_repairs response."""
    chooser = random.Random(100_000)
    places = list(AREA.localities)
    for first in range(0, members, BATCH):
        ids = range(first + 1, min(first + BATCH, members) + 1)
        residents, profiles, runs, answers = [], [], [], []
        for n in ids:
            residents.append(member_row(10**9 + n, NOW, id=n, locality=chooser.choice(places)))
            for feature, value in (
                ("age_band", chooser.choice(AGES)),
                ("sex", chooser.choice(("female", "male"))),
                ("ethnicity", chooser.choices(ETHNICITIES, (80, 6, 6, 4, 4))[0]),
                ("disability", chooser.choice(("yes_a_lot", "yes_a_little", "no"))),
                ("carer", chooser.choice(("yes", "no"))),
            ):
                profiles.append({"resident_id": n, "feature": feature, "value": value,
                                 "answered_at": NOW})  # fmt: skip
            for offset, survey_id in ((0, "housing_repairs"), (10**7, "gp_access")):
                runs.append(
                    {"id": n + offset, "resident_id": n, "survey_id": survey_id,
                     "survey_version": 1, "status": "submitted", "state": {}, "started_at": NOW,
                     "updated_at": NOW, "submitted_at": NOW, "reminders_sent": 0}
                )  # fmt: skip
            gp = {
                "last_contact": chooser.choice(("past_month", "past_year", "never")),
                "contact_methods": chooser.sample(("phone", "online_form", "nhs_app"), 2),
                "ease": chooser.randint(1, 5),
            }
            answers.extend(
                {"run_id": n + 10**7, "question_id": q, "value": {"value": v},
                 "redacted_text": None, "answered_at": NOW}
                for q, v in gp.items()
            )  # fmt: skip
            given = {
                "tenure": chooser.choice(("rent_council", "rent_private", "own")),
                "repair_needed": chooser.choice(("yes", "no")),
                "problems": chooser.sample(("damp_mould", "heating", "plumbing", "pests"), 2),
                "reported": chooser.choice(("yes", "no")),
                "wait_weeks": chooser.randint(0, 52),
                "health_effect": chooser.randint(1, 5),
                "anything_else": "Damp in the bedroom",
            }
            for question, value in given.items():
                redacted = value if question == "anything_else" else None
                answers.append({"run_id": n, "question_id": question, "value": {"value": value},
                                "redacted_text": redacted, "answered_at": NOW})  # fmt: skip
        async with database.transaction() as session:
            await session.execute(insert(Resident), residents)
            await session.execute(insert(ProfileAnswer), profiles)
            await session.execute(insert(SurveyRun), runs)
            await session.execute(insert(SurveyAnswer), answers)


async def fill(database: Database, members: int) -> None:
    """Build the panel and count its tallies."""
    begin = time.perf_counter()
    await build(database, members)
    async with database.transaction() as session:
        answers = await session.scalar(select(func.count()).select_from(SurveyAnswer))
    built = time.perf_counter() - begin
    print(f"  built {members:,} members and {answers:,} answers in {built:.0f} s")
    begin = time.perf_counter()
    for survey_id in ("housing_repairs", "gp_access"):
        found = SurveyLibrary.load().get(survey_id)
        assert found is not None
        await recount(database, found)  # once, as after upgrading data from before tallies
    print(f"  counted the tallies from the answers (once) in {time.perf_counter() - begin:.1f} s")
    await settle(database.engine.url.render_as_string(hide_password=False))


async def measure(url: str, members: int, *, built: bool = False) -> None:
    """Build the panel (unless built), time the pages, then an export."""
    database = Database(url)
    if not built:
        await fill(database, members)
    library = SurveyLibrary.load()
    accounts = Accounts(
        database, clock=lambda: NOW, hasher=PasswordHasher(time_cost=1, memory_cost=8192)
    )
    name = f"bench{os.getpid()}"  # a new account each run, so a kept panel can be reused
    await accounts.add(name, "admin", "a long secret for timing")
    app = create_app(
        database, accounts, Dashboard(database, library, AREA, clock=lambda: NOW),
        StoryWall(database, library, clock=lambda: NOW), Exporter(database, clock=lambda: NOW),
    )  # fmt: skip
    async with TestClient(TestServer(app)) as client:
        token = await accounts.sign_in(name, "a long secret for timing", "127.0.0.1")
        headers = {"Cookie": f"__Host-panelbot={token}"}
        for path in PAGES:
            times = []
            for _ in range(3):
                start = time.perf_counter()
                response = await client.get(path, headers=headers)
                await response.read()
                times.append(time.perf_counter() - start)
                assert response.status == 200, (path, response.status)
            flag = "" if statistics.median(times) < 0.3 else "  (over 300 ms)"
            print(f"  {path:<42} {statistics.median(times) * 1000:8.0f} ms{flag}")
    await database.dispose()
    await export_in_process(url)
    export(url)


# Runs `panelbot` and, as it exits, prints its peak memory (VmHWM: this process image only;
# ru_maxrss of a child would count the forked copy of this big benchmark process).
_MEASURED = (
    "import atexit, re, runpy, sys\n"
    "def peak():\n"
    "    status = open('/proc/self/status').read()\n"
    "    print('peak', re.search(r'VmHWM:\\s+(\\d+)', status).group(1), file=sys.stderr)\n"
    "atexit.register(peak)\n"
    "sys.argv = ['panelbot', *sys.argv[1:]]\n"
    "runpy.run_module('bot', run_name='__main__')\n"
)


async def export_in_process(url: str) -> None:
    """Plan and write a CSV export in this process: the export's own rows per second."""
    database = Database(url)
    survey = SurveyLibrary.load().get("housing_repairs")
    assert survey is not None

    exporter = Exporter(database, clock=lambda: NOW)
    start = time.perf_counter()
    record = await exporter.write(
        await exporter.plan(survey), "csv", DiscardSink(), actor="bench", reason="benchmark"
    )
    elapsed = time.perf_counter() - start
    print(f"  CSV export in process (plan + write): {record.rows:,} rows in {elapsed:.2f} s ="
          f" {record.rows / elapsed:,.0f} rows/s")  # fmt: skip
    await database.dispose()


def export(url: str) -> None:
    """Time `panelbot export` to CSV as a user runs it; its rows/s and peak memory."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "responses.zip"
        command = [sys.executable, "-c", _MEASURED, "export", "--survey", "housing_repairs",
                   "--format", "csv", "--out", str(out), "--reason", "benchmark"]  # fmt: skip
        environment = {**os.environ, "PANELBOT_DATABASE_URL": url}
        start = time.perf_counter()
        done = subprocess.run(command, env=environment, capture_output=True, text=True, check=True)
        elapsed = time.perf_counter() - start
        rows = int(done.stdout.split()[0].replace(",", ""))
        size = out.stat().st_size / 2**20
    peak = int(done.stderr.rsplit("peak ", 1)[1].split()[0]) / 1024
    print(f"  panelbot export (CSV), the whole command: {rows:,} rows in {elapsed:.1f} s ="
          f" {rows / elapsed:,.0f} rows/s, {size:.1f} MB zip;"
          f" its peak memory {peak:,.0f} MB")  # fmt: skip


def main() -> int:
    """Parse the arguments and measure on SQLite, then PostgreSQL if given."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--postgres", default="")
    parser.add_argument("--reuse", type=Path, help="keep the SQLite panel in this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        file = args.reuse or Path(folder) / "bench.db"
        built = args.reuse is not None and args.reuse.exists()
        url = args.postgres or f"sqlite+aiosqlite:///{file.resolve()}"
        if args.postgres:
            asyncio.run(reset_postgres(url))
        else:
            asyncio.run(upgrade_async(url))
        print("PostgreSQL" if args.postgres else "SQLite")
        asyncio.run(measure(url, args.members, built=built and not args.postgres))
        if args.postgres:
            asyncio.run(empty_postgres(url))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
