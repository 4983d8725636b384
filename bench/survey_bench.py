"""Survey answers per second: the pure engine alone, then engine + storage through PanelChat.

Every resident first starts the survey (timed as starts), then answers it (timed as answers).
Each event is handled as the bot handles it: the resident and their run are read, the update id
recorded, the engine run, free text redacted, the answer and the run state written and committed
before the reply is returned (SQLite in WAL mode with synchronous=NORMAL: a killed process loses
nothing committed). Answers take the hot path (storage/answer_store.py), whose transactions are
shared by answers arriving together (group commit); `--concurrency` residents answer at once.

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
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


from bench.databases import empty_postgres, reset_postgres  # noqa: E402
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
from tests.support.panel import add_members  # noqa: E402

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


async def send(chat: PanelChat, chat_id: int, latencies: list[float], **kwargs: str) -> None:
    """One inbound event handled as the bot handles it, timed."""
    event = Inbound(chat_id, f"bench:{next(_keys)}", display_name="Sam Jones", **kwargs)
    before = time.perf_counter()
    await chat.handle(event)
    latencies.append(time.perf_counter() - before)


async def in_parallel(
    concurrency: int, chat_ids: list[int], work: Callable[[int], Awaitable[None]]
) -> float:
    """Seconds taken by `concurrency` workers sharing the residents' work."""
    queue = list(reversed(chat_ids))

    async def worker() -> None:
        while queue:
            await work(queue.pop())

    begin = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - begin


def figures(latencies: list[float], elapsed: float) -> dict[str, float]:
    """Events per second and latency percentiles."""
    latencies.sort()
    return {
        "count": len(latencies),
        "per_s": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000,
    }


async def through_storage(
    url: str, residents: int, concurrency: int
) -> dict[str, dict[str, float]]:
    """Starts, then answers, per second through PanelChat on one database."""
    database = Database(url)
    bench = load_survey(SURVEY)
    story = load_survey(DEFINITIONS / "story.yaml")
    surveys = SurveyChat(SurveyLibrary({"bench": bench, "story": story}), clock=lambda: UTC_NOW)
    chat = PanelChat(database, surveys=surveys, clock=lambda: UTC_NOW)
    await add_members(database, range(1, residents + 1), UTC_NOW, postcode_district="LS6")
    chat_ids = list(range(1, residents + 1))
    starts: list[float] = []

    async def start_survey(chat_id: int) -> None:
        await send(chat, chat_id, starts, button="n:bench")

    start_seconds = await in_parallel(concurrency, chat_ids, start_survey)
    answers: list[float] = []

    async def answer_all(chat_id: int) -> None:
        for answer in ANSWERS:
            await send(chat, chat_id, answers, text=answer)

    answer_seconds = await in_parallel(concurrency, chat_ids, answer_all)
    await database.dispose()
    return {"starts": figures(starts, start_seconds), "answers": figures(answers, answer_seconds)}


def report(name: str, result: dict[str, dict[str, float]]) -> None:
    """Print one backend's figures."""
    for kind, figure in result.items():
        print(
            f"{name}: {figure['per_s']:,.0f} {kind}/s ({figure['count']:.0f} {kind}), "
            f"latency p50 {figure['p50_ms']:.2f} ms, p99 {figure['p99_ms']:.2f} ms"
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
        await empty_postgres(args.postgres)
    print(f"target on SQLite: >= {args.target:,.0f} answers/s")
    return 0 if sqlite["answers"]["per_s"] >= args.target else 1


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
