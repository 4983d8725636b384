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
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, web

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.databases import empty_postgres, reset_postgres  # noqa: E402
from bot.services.area import AreaProfile  # noqa: E402
from tests.e2e.conftest import free_port  # noqa: E402

TOKEN = "123456:LOAD"
SECRET = "load-test-secret"
JOIN = ("language:en", "consent_membership:yes", "consent_special:yes", "consent_consultations:yes")
REST_OF_PROFILE = ("ethnicity_group:white", "ethnicity:white_british", "disability:no",
                   "carer:no")  # fmt: skip
AREA = AreaProfile.load(ROOT / "areas" / "demo")
BOT_USER = {"id": 1, "is_bot": True, "first_name": "Panelbot", "username": "panel_load_bot"}


@dataclass
class Chat:
    """What the fake Bot API has seen for one resident's chat."""

    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    keyboard: list[str] = field(default_factory=list)  # callback data of the newest buttons
    texts: list[str] = field(default_factory=list)


class LoopbackBotApi:
    """Enough of the Bot API for the bot to start, receive by webhook and answer."""

    def __init__(self) -> None:
        self.chats: dict[int, Chat] = {}
        self.ids = itertools.count(1)

    def chat(self, chat_id: int) -> Chat:
        return self.chats.setdefault(chat_id, Chat())

    async def call(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await request.read()
        data: dict[str, Any] = (
            json.loads(body) if body.startswith(b"{") else dict(await request.post())
        )
        if method == "getMe":
            return self._ok(BOT_USER)
        if method in ("sendMessage", "sendDocument", "editMessageText", "editMessageReplyMarkup"):
            chat_id = int(data.get("chat_id", 0) or 0)
            markup = data.get("reply_markup")
            markup = json.loads(markup) if isinstance(markup, str) else markup or {}
            rows = markup.get("inline_keyboard", [])
            found = self.chat(chat_id)
            if rows:
                found.keyboard = [b.get("callback_data", "") for row in rows for b in row]
            found.texts.append(str(data.get("text", data.get("caption", ""))))
            found.arrived.set()
            chat = {"id": chat_id, "type": "private"}
            message = {"message_id": next(self.ids), "date": int(time.time()), "chat": chat,
                       "text": data.get("text", "")}  # fmt: skip
            return self._ok(message)
        if method == "getUpdates":
            await asyncio.sleep(0.5)
            return self._ok([])
        return self._ok(True)

    @staticmethod
    def _ok(result: object) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    def app(self) -> web.Application:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self.call)
        app.router.add_get("/bot{token}/{method}", self.call)
        return app


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    answers: int = 0
    errors: int = 0


class Resident:
    """One simulated resident posting updates to the bot's webhook."""

    update_ids = itertools.count(1)

    def __init__(self, chat_id: int, api: LoopbackBotApi, http: ClientSession, hook: str) -> None:
        self.chat_id = chat_id
        self.who = person_like_the_census(random.Random(chat_id))
        self.api = api
        self.http = http
        self.hook = hook
        self.messages = itertools.count(1)

    async def step(self, results: Results, *, text: str = "", press: str = "") -> None:
        """Send one message or press, and wait for the bot's first answer."""
        chat = self.api.chat(self.chat_id)
        chat.arrived.clear()
        user = {"id": self.chat_id, "is_bot": False, "first_name": "Load", "language_code": "en"}
        private = {"id": self.chat_id, "type": "private"}
        update: dict[str, Any] = {"update_id": next(Resident.update_ids)}
        if press:
            message = {"message_id": 1, "date": int(time.time()), "chat": private, "text": "."}
            update["callback_query"] = {"id": str(update["update_id"]), "from": user,
                                        "chat_instance": "1", "data": press,
                                        "message": message}  # fmt: skip
        else:
            command = text.split()[0] if text.startswith("/") else ""
            entities = (
                [{"type": "bot_command", "offset": 0, "length": len(command)}] if command else []
            )
            update["message"] = {"message_id": next(self.messages), "date": int(time.time()),
                                 "chat": private, "from": user, "text": text,
                                 "entities": entities}  # fmt: skip
        start = time.perf_counter()
        secret = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        async with self.http.post(self.hook, json=update, headers=secret) as answer:
            if answer.status != 200:
                results.errors += 1
        try:
            await asyncio.wait_for(chat.arrived.wait(), 30)
        except TimeoutError:
            results.errors += 1
            return
        results.latencies.append(time.perf_counter() - start)
        await asyncio.sleep(0.02)  # let the rest of the answer (edits, a second message) arrive

    async def join(self, results: Results) -> None:
        """Join the panel: language, consents, postcode and profile."""
        await self.step(results, text="/start")
        for press in JOIN:
            await self.step(results, press=press)
        district, age_band, sex = self.who
        await self.step(results, text=f"{district} 1AA")
        for press in (f"age_band:{age_band}", f"sex:{sex}", *REST_OF_PROFILE):
            await self.step(results, press=press)

    async def answer_survey(self, results: Results) -> None:
        """Open the survey and answer every question."""
        await self.step(results, text="/surveys")
        chat = self.api.chat(self.chat_id)
        start = next((b for b in chat.keyboard if b.startswith("n:")), None)
        if start is None:
            results.errors += 1
            return
        await self.step(results, press=start)
        for _ in range(40):
            buttons = chat.keyboard
            verbs = {
                b.split(":")[3]: b for b in buttons if b.startswith("s:") and b.count(":") >= 3
            }
            if "u" in verbs:
                await self.step(results, press=verbs["u"])
                return
            if "p" in verbs or "n" in verbs:
                await self.step(results, press=verbs.get("p") or verbs["n"])
            elif "t" in verbs and not any(t.startswith("✅") for t in chat.texts[-1:]):
                await self.step(results, press=verbs["t"])
                if "f" in verbs:
                    await self.step(results, press=verbs["f"])
            else:
                await self.step(results, text="3")
                if "f" in verbs:
                    await self.step(results, press=verbs["f"])
            results.answers += 1
        results.errors += 1


def person_like_the_census(rng: random.Random) -> tuple[str, str, str]:
    """A postcode district, age band and sex drawn from the demo area's census shares, so the
    residents fit the panel's quotas as a real population would (and none wait in reserve)."""
    totals = {place: sum(AREA.population("sex", place).values()) for place in AREA.census}
    place = rng.choices(list(totals), weights=list(totals.values()))[0]
    district = rng.choice([d for d, p in AREA.district_locality.items() if p == place])
    drawn = []
    for feature in ("age_band", "sex"):
        counts = AREA.population(feature, place)
        drawn.append(rng.choices(list(counts), weights=list(counts.values()))[0])
    return district, drawn[0], drawn[1]


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


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--residents", type=int, default=1000)
    parser.add_argument("--postgres", default="")
    parser.add_argument("--workers", default="1", help="comma-separated worker counts to try")
    args = parser.parse_args()
    for workers in (int(part) for part in args.workers.split(",")):
        with tempfile.TemporaryDirectory() as folder:
            if args.postgres:
                asyncio.run(reset_postgres(args.postgres))
            place = "PostgreSQL" if args.postgres else "SQLite"
            print(f"{workers} worker{'s' if workers > 1 else ''} on {place}")
            asyncio.run(load(args.residents, args.postgres, Path(folder) / "data", workers))
            if args.postgres:
                asyncio.run(empty_postgres(args.postgres))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
