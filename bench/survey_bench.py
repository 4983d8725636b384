"""Survey answers per second: the pure engine alone, then engine + storage through PanelChat.

Each answer is one inbound event handled as the bot handles it: one transaction that reads the
resident and the run, records the update id, runs the engine, redacts free text and writes the
answer and the run state, then commits (SQLite: WAL with synchronous=FULL, durable on commit).

Run: .venv/bin/python bench/survey_bench.py [--residents 300] [--concurrency 8]
     [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test] [--target 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from bot.services.chat import Inbound  # noqa: E402
from bot.services.panel_chat import PanelChat  # noqa: E402
from bot.services.survey_chat import SurveyChat  # noqa: E402
from bot.services.survey_library import SurveyLibrary  # noqa: E402
from bot.surveys import (  # noqa: E402
    DEFINITIONS,
    RunState,
    TextAnswer,
    load_survey,
    resume,
    start,
)
from storage.database import Database, upgrade_async  # noqa: E402
from storage.models import Base, Resident  # noqa: E402

SURVEY = Path(__file__).with_name("bench_survey.yaml")
ANSWERS = ("1", "42", "4", "yes", "The bus was late, call me on 07700 900123", "2", "7", "3")
ANSWERS += ("no", "Thank you to the nurse at the surgery")
UTC_NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
_keys = itertools.count()


def percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of a sorted list."""
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def engine_only(rounds: int) -> float:
    """Answers per second through the pure engine, with the JSON round trip of every state."""
    survey = load_survey(SURVEY)
    begin = time.perf_counter()
    for _ in range(rounds):
        state, _step = start(survey)
        for answer in ANSWERS:
            state, _step = resume(survey, RunState.from_json(state.to_json()), TextAnswer(answer))
    return rounds * len(ANSWERS) / (time.perf_counter() - begin)


async def add_members(database: Database, count: int) -> None:
    """Panel members ready to answer (joined directly, as the join flow leaves them)."""
    async with database.transaction() as session:
        for chat_id in range(1, count + 1):
            resident = Resident(
                channel="telegram",
                chat_id=chat_id,
                language="en",
                status="member",
                step="member",
                step_data={},
                postcode_district="LS6",
                consultations_stopped=False,
                joined_at=UTC_NOW,
                created_at=UTC_NOW,
                updated_at=UTC_NOW,
            )
            session.add(resident)


async def one_resident(chat: PanelChat, chat_id: int, latencies: list[float]) -> None:
    """Start the survey and answer every question, one event at a time."""

    async def send(**kwargs: str) -> None:
        event = Inbound(chat_id, f"bench:{next(_keys)}", display_name="Sam Jones", **kwargs)
        before = time.perf_counter()
        await chat.handle(event)
        latencies.append(time.perf_counter() - before)

    await send(button="n:bench")
    del latencies[-1]  # only answers are timed
    for answer in ANSWERS:
        await send(text=answer)


async def through_storage(url: str, residents: int, concurrency: int) -> dict[str, float]:
    """Answers per second through PanelChat on one database."""
    database = Database(url)
    bench = load_survey(SURVEY)
    story = load_survey(DEFINITIONS / "story.yaml")
    surveys = SurveyChat(SurveyLibrary({"bench": bench, "story": story}), clock=lambda: UTC_NOW)
    chat = PanelChat(database, surveys=surveys, clock=lambda: UTC_NOW)
    await add_members(database, residents)
    latencies: list[float] = []
    queue = list(range(1, residents + 1))

    async def worker() -> None:
        while queue:
            await one_resident(chat, queue.pop(), latencies)

    begin = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - begin
    await database.dispose()
    latencies.sort()
    return {
        "answers": len(latencies),
        "per_s": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000,
    }


async def reset_postgres(url: str) -> None:
    """An empty, migrated PostgreSQL database."""
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()
    await upgrade_async(url)


def report(name: str, result: dict[str, float]) -> None:
    """Print one backend's figures."""
    print(
        f"{name}: {result['per_s']:,.0f} answers/s ({result['answers']:.0f} answers), "
        f"latency p50 {result['p50_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms"
    )


async def main_async(args: argparse.Namespace) -> int:
    """Run every measurement and print the figures."""
    print(f"engine only (with JSON state round trip): {engine_only(2000):,.0f} answers/s")
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await upgrade_async(url)
        sqlite = await through_storage(url, args.residents, args.concurrency)
    report("engine + storage, SQLite", sqlite)
    if args.postgres:
        await reset_postgres(args.postgres)
        report(
            f"engine + storage, PostgreSQL (concurrency {args.concurrency})",
            await through_storage(args.postgres, args.residents, args.concurrency),
        )
        engine = create_async_engine(args.postgres)
        async with engine.begin() as connection:
            tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        await engine.dispose()
    print(f"target on SQLite: >= {args.target:,.0f} answers/s")
    return 0 if sqlite["per_s"] >= args.target else 1


def main() -> int:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--residents", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--postgres", default="")
    parser.add_argument("--target", type=float, default=2000.0)
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
