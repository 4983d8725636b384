"""Load test: simulated residents join and answer a survey through a Bot API on loopback.

A small, fast Bot API (in this process) answers what python-telegram-bot asks at start-up,
records every message the bot sends, and wakes the resident it was for. `panelbot run --webhook`
runs as users run it; each resident posts its updates to the webhook one at a time, waiting for
the bot's answer before the next, as a person would. Reported: answers a second (survey
answers only), reply latency p50/p95/p99 (all steps), errors, and the bot process's memory.

Run: .venv/bin/python -m bench.load.run [--residents 1000] [--postgres URL --workers 1,2,4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import ClientSession, web

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.databases import empty_postgres, reset_postgres, settle  # noqa: E402
from bot.services.broadcasts import MESSAGE, Broadcasts, Draft  # noqa: E402
from storage.broadcasts import Audience  # noqa: E402
from storage.database import Database, upgrade_async  # noqa: E402
from tests.e2e.conftest import free_port  # noqa: E402
from tests.support.loopback_telegram import (  # noqa: E402
    SECRET,
    TOKEN,
    LoopbackBotApi,
    Resident,
    Results,
)
from tests.support.panel import add_members  # noqa: E402


def peak_memory_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def bot_processes(pid: int) -> list[int]:
    """The bot's worker processes: the supervisor's children, or the bot itself."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children] or [pid]


async def load(residents: int, database_url: str, data: Path, workers: int) -> None:
    api = LoopbackBotApi()
    runner = web.AppRunner(api.app())
    await runner.setup()
    api_port, bot_port = free_port(), free_port()
    await web.TCPSite(runner, "127.0.0.1", api_port).start()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PANELBOT_")},
        "PANELBOT_TELEGRAM_TOKEN": TOKEN, "PANELBOT_TELEGRAM_API_URL": f"http://127.0.0.1:{api_port}",
        "PANELBOT_WEBHOOK_SECRET": SECRET, "PANELBOT_HTTP_PORT": str(bot_port),
        "PANELBOT_DATA_DIR": str(data), "PANELBOT_AREA_DIR": str(ROOT / "areas" / "demo"),
        "PANELBOT_LOG_LEVEL": "WARNING",
        **({"PANELBOT_DATABASE_URL": database_url} if database_url else {}),
    }  # fmt: skip
    hook = f"http://127.0.0.1:{bot_port}/telegram"
    bot = subprocess.Popen(  # noqa: ASYNC220 (started once, before the load begins)
        [sys.executable, "-m", "bot", "run", "--webhook", hook, "--workers", str(workers)],
        cwd=ROOT,
        env=env,
    )
    joining, answering = Results(), Results()
    try:
        async with ClientSession() as http:
            for _ in range(300):
                try:
                    async with http.get(f"http://127.0.0.1:{bot_port}/readyz") as ready:
                        if ready.status == 200:
                            break
                except OSError:
                    pass
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)  # the webhook is set just after the server answers
            people = [Resident(10_000 + n, api, http, hook) for n in range(residents)]
            begin = time.perf_counter()
            await asyncio.gather(*(person.join(joining) for person in people))
            joined = time.perf_counter()
            await asyncio.gather(*(person.answer_survey(answering) for person in people))
            answered = time.perf_counter()
        memory = max(peak_memory_mb(pid) for pid in bot_processes(bot.pid))
    finally:
        bot.terminate()
        bot.wait(20)
        await runner.cleanup()
    print(f"  joining: {residents:,} residents, {report(joining, joined - begin)}")
    print(f"  answering the survey: {answering.answers:,} answers,"
          f" {answering.answers / (answered - joined):,.0f} answers/s,"
          f" {report(answering, answered - joined)}")  # fmt: skip
    print(f"  peak memory {memory:.0f} MB a worker")


def report(results: Results, elapsed: float) -> str:
    """Messages answered a second, reply latency percentiles and errors of one phase."""
    cuts = (
        statistics.quantiles(results.latencies, n=100) if len(results.latencies) > 1 else [0.0] * 99
    )
    return (f"{len(results.latencies) / elapsed:,.0f} messages answered/s in {elapsed:.1f} s;"
            f" reply latency p50 {cuts[49] * 1000:.0f} ms, p95 {cuts[94] * 1000:.0f} ms,"
            f" p99 {cuts[98] * 1000:.0f} ms; {results.errors} errors")  # fmt: skip


async def prefill(url: str, members: int) -> None:
    """Members already on the panel, and an urgent broadcast to them all, queued."""
    began = time.perf_counter()
    await upgrade_async(url)
    database = Database(url)
    now = datetime.now(UTC)
    for start in range(0, members, 10_000):
        chat_ids = range(10**9 + start, 10**9 + min(members, start + 10_000))
        await add_members(database, chat_ids, now)
    broadcasts = Broadcasts(database, clock=lambda: datetime.now(UTC), wake=lambda: None)
    draft = Draft(MESSAGE, Audience(), now, text="The consultation is open.", urgent=True)
    made = await broadcasts.send(draft, actor="bench", sender=None, allowed=None)
    await database.dispose()
    await settle(url)
    print(f"  {members:,} members on the panel, a broadcast to {made.recipients:,} queued"
          f" ({time.perf_counter() - began:.0f} s)")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--residents", type=int, default=1000)
    parser.add_argument("--postgres", default="")
    parser.add_argument("--workers", default="1", help="comma-separated worker counts to try")
    parser.add_argument(
        "--members",
        type=int,
        default=0,
        help="members already on the panel, all of them sent"
        " an urgent broadcast as the load begins (e.g. 100000, for the memory figure)",
    )
    args = parser.parse_args()
    for workers in (int(part) for part in args.workers.split(",")):
        with tempfile.TemporaryDirectory() as folder:
            if args.postgres:
                asyncio.run(reset_postgres(args.postgres))
            place = "PostgreSQL" if args.postgres else "SQLite"
            print(f"{workers} worker{'s' if workers > 1 else ''} on {place}")
            data = Path(folder) / "data"
            if args.members:
                url = args.postgres or f"sqlite+aiosqlite:///{data / 'panelbot.db'}"
                asyncio.run(prefill(url, args.members))
            asyncio.run(load(args.residents, args.postgres, data, workers))
            if args.postgres:
                asyncio.run(empty_postgres(args.postgres))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
