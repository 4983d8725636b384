"""A Telegram on loopback for load and fault runs: a fast Bot API and simulated residents.

The Bot API answers what python-telegram-bot asks at start-up and records every message the bot
sends. Each resident posts its updates to the bot's webhook one at a time, as Telegram does: an
update the webhook did not take (a worker killed, a refused connection, a 5xx) is delivered again
with the same update_id; after the bot's apology the resident sends the same thing again, as a
person would; silence is an error.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import ClientSession, web

from bot.services.area import AreaProfile
from bot.services.panel_chat import apology

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:LOAD"
SECRET = "load-test-secret"
JOIN = ("language:en", "consent_membership:yes", "consent_special:yes", "consent_consultations:yes")
REST_OF_PROFILE = ("ethnicity_group:white", "ethnicity:white_british", "disability:no",
                   "carer:no")  # fmt: skip
AREA = AreaProfile.load(ROOT / "areas" / "demo")
BOT_USER = {"id": 1, "is_bot": True, "first_name": "Panelbot", "username": "panel_load_bot"}
APOLOGY = apology("en")
REPLY_WITHIN = 30.0  # seconds a resident waits for an answer before calling it silence
REDELIVER_FOR = 60.0  # seconds Telegram keeps trying to deliver an update here
TRIES_AFTER_APOLOGY = 20


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
        self.sent: Counter[int] = Counter()  # messages sent to each chat (not edits)

    def chat(self, chat_id: int) -> Chat:
        """What has been seen of one chat."""
        return self.chats.setdefault(chat_id, Chat())

    async def call(self, request: web.Request) -> web.Response:
        """Answer one Bot API call."""
        method = request.match_info["method"]
        body = await request.read()
        data: dict[str, Any] = (
            json.loads(body) if body.startswith(b"{") else dict(await request.post())
        )
        if method == "getMe":
            return self._ok(BOT_USER)
        if method in ("sendMessage", "sendDocument", "editMessageText", "editMessageReplyMarkup"):
            chat_id = int(data.get("chat_id", 0) or 0)
            if method.startswith("send"):
                self.sent[chat_id] += 1
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
        """The Bot API as an aiohttp application."""
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self.call)
        app.router.add_get("/bot{token}/{method}", self.call)
        return app


@dataclass
class Results:
    """What the residents went through."""

    latencies: list[float] = field(default_factory=list)
    answers: int = 0
    errors: int = 0
    apologies: int = 0  # "something went wrong, send it again" answers
    redeliveries: int = 0  # updates the webhook did not take at first
    finished: int = 0  # residents who got to the end of what they set out to do
    problems: Counter[str] = field(default_factory=Counter)  # errors by kind

    def problem(self, kind: str) -> None:
        """Count an error of some kind."""
        self.errors += 1
        self.problems[kind] += 1


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
        """Send one message or press and wait for the bot's answer; after an apology, send it
        again."""
        chat = self.api.chat(self.chat_id)
        for _attempt in range(TRIES_AFTER_APOLOGY):
            chat.arrived.clear()
            seen = len(chat.texts)
            start = time.perf_counter()
            if not await self._deliver(self._update(text, press), results):
                results.problem("the webhook never took an update")
                return
            try:
                await asyncio.wait_for(chat.arrived.wait(), REPLY_WITHIN)
            except TimeoutError:
                results.problem("silence")
                return
            results.latencies.append(time.perf_counter() - start)
            await asyncio.sleep(0.02)  # let the rest of the answer (edits, a second message) come
            if not any(APOLOGY in said for said in chat.texts[seen:]):
                return
            results.apologies += 1
            await asyncio.sleep(0.5)
        results.problem("apologies without end")

    def _update(self, text: str, press: str) -> dict[str, Any]:
        """A new update: a message, or a press of a button."""
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
        return update

    async def _deliver(self, update: dict[str, Any], results: Results) -> bool:
        """Post the update until the webhook takes it, as Telegram does; False if it never does."""
        secret = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        deadline = time.monotonic() + REDELIVER_FOR
        while True:
            try:
                async with self.http.post(self.hook, json=update, headers=secret) as answer:
                    if answer.status == 200:
                        return True
                    if answer.status < 500:
                        return False
            except (aiohttp.ClientError, OSError):
                pass
            results.redeliveries += 1
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.2)

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
            results.problem("no survey to start")
            return
        await self.step(results, press=start)
        for _ in range(40):
            buttons = chat.keyboard
            verbs = {
                b.split(":")[3]: b for b in buttons if b.startswith("s:") and b.count(":") >= 3
            }
            if "u" in verbs:
                await self.step(results, press=verbs["u"])
                results.finished += 1
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
        results.problem("a survey that never ended")


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
