"""Broadcast sender throughput against a local fake Bot API (a separate process).

With limits off it shows what the sender itself can do (target: at least 1,000 messages a second,
Telegram's paid-broadcast ceiling); `--paced` sends 3,000 at the default 30 a second, which should
take within 5% of 100 s. Also prints the sender's CPU time per message.

Run: .venv/bin/python bench/sender_bench.py [--members 5000] [--in-flight 64] [--paced]
     [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/benchdb]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


from bench.databases import empty_postgres, reset_postgres  # noqa: E402
from bot.channels.bot_api import BotApi  # noqa: E402
from bot.services.broadcast_text import composer  # noqa: E402
from bot.services.broadcasts import MESSAGE, Broadcasts, Draft  # noqa: E402
from bot.services.delivery import Limits, Sender  # noqa: E402
from bot.services.quiet_hours import QuietHours  # noqa: E402
from storage.broadcasts import Audience  # noqa: E402
from storage.database import Database, upgrade_async  # noqa: E402
from storage.outbox import Outbox  # noqa: E402
from tests.support.panel import add_members  # noqa: E402

NOW = datetime.now(UTC)
NEVER_QUIET = QuietHours(start=datetime.min.time(), end=datetime.min.time())


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_fake(port: int) -> subprocess.Popen[bytes]:
    """The fake Bot API in its own process, answering once it is up."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fake_bot_api", str(port)], cwd=ROOT
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/fake/stats", timeout=1).close()
            return process
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the fake Bot API did not start")


async def send_all(database: Database, port: int, members: int, limits: Limits) -> float:
    """Make one broadcast to everyone and time the sender until the outbox is empty."""
    broadcasts = Broadcasts(database, clock=lambda: datetime.now(UTC), wake=lambda: None)
    draft = Draft(MESSAGE, Audience(), datetime.now(UTC), text="A new consultation is open.")
    broadcast = await broadcasts.send(draft, actor="bench", sender=None, allowed=None)
    assert broadcast.recipients == members, broadcast.recipients
    stop = asyncio.Event()
    async with BotApi(f"http://127.0.0.1:{port}", "1:BENCH", connections=limits.in_flight) as api:
        sender = Sender(
            Outbox(database),
            api,
            composer(None),
            clock=lambda: datetime.now(UTC),
            limits=limits,
            quiet=NEVER_QUIET,
            sole=database.dialect == "sqlite",
        )
        begin, cpu = time.perf_counter(), time.process_time()
        running = asyncio.create_task(sender.run(stop))
        while True:
            await asyncio.sleep(0.05)
            report = await broadcasts.report(broadcast.id)
            assert report is not None
            if report.pending == 0:
                break
        elapsed, cpu = time.perf_counter() - begin, time.process_time() - cpu
        stop.set()
        await running
    print(
        f"  {report.sent:,} sent in {elapsed:.2f} s: {report.sent / elapsed:,.0f} messages/s; "
        f"sender CPU {cpu / report.sent * 1000:.3f} ms per message"
    )
    return elapsed


async def run(url: str, args: argparse.Namespace, port: int) -> None:
    """Both measurements on one database."""
    database = Database(url)
    await add_members(database, range(100_000, 100_000 + args.members), NOW, locality="city_centre")
    print(f"limits off, {args.in_flight} in flight, {args.members:,} members:")
    await send_all(database, port, args.members, Limits(per_second=0, in_flight=args.in_flight))
    await database.dispose()
    if args.paced:
        paced = Database(url.replace("bench.db", "paced.db"))
        if paced.dialect == "sqlite":
            await upgrade_async(paced.url)
        else:
            await reset_postgres(url)
        await add_members(paced, range(100_000, 103_000), NOW, locality="city_centre")
        print("default limits (30 a second), 3,000 members:")
        elapsed = await send_all(paced, port, 3000, Limits())
        print(f"  {elapsed:.1f} s against the 100 s that 30 a second allows ({elapsed / 100:.1%})")
        await paced.dispose()


def main() -> int:
    """Parse the arguments, start the fake, measure."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--in-flight", type=int, default=64)
    parser.add_argument("--paced", action="store_true")
    parser.add_argument("--postgres", default="")
    args = parser.parse_args()
    port = free_port()
    fake = start_fake(port)
    try:
        with tempfile.TemporaryDirectory() as folder:
            if args.postgres:
                asyncio.run(reset_postgres(args.postgres))
                url = args.postgres
            else:
                url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
                asyncio.run(upgrade_async(url))
            print("SQLite" if not args.postgres else "PostgreSQL")
            asyncio.run(run(url, args, port))
            if args.postgres:
                asyncio.run(empty_postgres(args.postgres))
    finally:
        fake.terminate()
        fake.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
