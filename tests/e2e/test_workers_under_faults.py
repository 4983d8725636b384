"""Several workers on PostgreSQL, under faults: workers killed with -9 while residents join,
answer a survey and receive a broadcast; the database restarted under load. Nothing committed
is lost, every resident can carry on, and nobody meets silence."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.services.broadcasts import MESSAGE, Broadcasts, Draft
from storage.broadcasts import Audience
from storage.database import Database
from storage.models import OutboxMessage, Resident, SurveyAnswer, SurveyRun
from tests.conftest import _truncate, migrated_postgres
from tests.e2e.conftest import ROOT, free_port
from tests.support.db_proxy import RestartableProxy
from tests.support.loopback_telegram import SECRET, TOKEN, LoopbackBotApi, Results
from tests.support.loopback_telegram import Resident as Person
from tests.support.panel import add_members

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
WORKERS = 2
IN_FLIGHT = 4  # broadcast messages a sender has in flight at once


class Workers:
    """`panelbot run --webhook URL --workers N` as a real process tree."""

    def __init__(self, api_url: str, database_url: str, folder: Path) -> None:
        self.port = free_port()
        self.hook = f"http://127.0.0.1:{self.port}/telegram"
        self.log = folder / "workers.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PANELBOT_")},
            "PANELBOT_TELEGRAM_TOKEN": TOKEN,
            "PANELBOT_TELEGRAM_API_URL": api_url,
            "PANELBOT_WEBHOOK_SECRET": SECRET,
            "PANELBOT_HTTP_PORT": str(self.port),
            "PANELBOT_DATA_DIR": str(folder / "data"),
            "PANELBOT_AREA_DIR": str(ROOT / "areas" / "demo"),
            "PANELBOT_DATABASE_URL": database_url,
            "PANELBOT_QUIET_HOURS": "off",
            "PANELBOT_SEND_PER_SECOND": "60",
            "PANELBOT_SEND_IN_FLIGHT": str(IN_FLIGHT),
        }
        self.process: asyncio.subprocess.Process | None = None
        self.kills = 0

    async def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", "--webhook", self.hook,
                "--workers", str(WORKERS), cwd=ROOT, env=self.env, stdout=log, stderr=log,
            )  # fmt: skip
        await self.all_up()

    async def all_up(self) -> None:
        """Wait until every worker answers /readyz."""
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                if len(self.pids()) == WORKERS and await self._ready(http):
                    await asyncio.sleep(1.0)  # the other worker, and the webhook being set
                    return
                await asyncio.sleep(0.1)
        raise AssertionError(f"workers did not start: {self.log.read_text()[-3000:]}")

    async def _ready(self, http: aiohttp.ClientSession) -> bool:
        try:
            async with http.get(f"http://127.0.0.1:{self.port}/readyz") as answer:
                return answer.status == 200
        except aiohttp.ClientError:
            return False

    def pids(self) -> list[int]:
        """The workers' process ids (the supervisor's children)."""
        assert self.process is not None
        pid = self.process.pid
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]

    def kill(self, pid: int) -> None:
        """kill -9 one worker: no chance to finish anything."""
        os.kill(pid, signal.SIGKILL)
        self.kills += 1

    async def stop(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(self.process.wait(), 40) == 0

    def kill_all(self) -> None:
        """After a failed test: the supervisor and its workers, whatever state they are in."""
        if self.process is None or self.process.returncode is not None:
            return
        for pid in [*self.pids(), self.process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
async def start_workers(tmp_path: Path) -> AsyncIterator[Callable[[str, str], Awaitable[Workers]]]:
    """Starts worker trees, and kills whatever is left of them at the end."""
    started: list[Workers] = []

    async def start(api_url: str, database_url: str) -> Workers:
        workers = Workers(api_url, database_url, tmp_path)
        started.append(workers)
        await workers.start()
        return workers

    yield start
    for workers in started:
        workers.kill_all()


@pytest.fixture
async def api() -> AsyncIterator[tuple[LoopbackBotApi, str]]:
    loopback = LoopbackBotApi()
    runner = web.AppRunner(loopback.app())
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield loopback, f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def residents_take_part(
    loopback: LoopbackBotApi, hook: str, chat_ids: range, results: Results
) -> None:
    """Each resident joins, then answers the survey, all at once."""
    async with aiohttp.ClientSession() as http:
        people = [Person(chat_id, loopback, http, hook) for chat_id in chat_ids]

        async def take_part(person: Person) -> None:
            await person.join(results)
            await person.answer_survey(results)

        await asyncio.gather(*(take_part(person) for person in people))


async def kill_now_and_then(workers: Workers, times: int, every: float, seed: int) -> None:
    """Kill a worker every so often, whichever the dice say."""
    dice = random.Random(seed)
    for _ in range(times):
        await asyncio.sleep(every)
        workers.kill(dice.choice(workers.pids()))


async def panel_state(url: str, chat_ids: range) -> dict[str, Any]:
    """What the database holds for these residents."""
    database = Database(url)
    async with database.transaction() as session:
        residents = (
            await session.execute(
                select(Resident.chat_id, Resident.status).where(
                    Resident.chat_id.between(chat_ids.start, chat_ids.stop - 1)
                )
            )
        ).all()
        runs = (
            await session.execute(
                select(SurveyRun.resident_id, SurveyRun.status, func.count(SurveyAnswer.id))
                .join(SurveyAnswer, SurveyAnswer.run_id == SurveyRun.id, isouter=True)
                .group_by(SurveyRun.id)
            )
        ).all()
    await database.dispose()
    return {"residents": residents, "runs": runs}


async def test_workers_killed_during_joins_surveys_and_a_broadcast(
    api: tuple[LoopbackBotApi, str], start_workers: Callable[[str, str], Awaitable[Workers]]
) -> None:
    url = await migrated_postgres()
    database = Database(url)
    await _truncate(database)
    loopback, api_url = api
    workers = await start_workers(api_url, url)
    chat_ids = range(20_000, 20_040)
    results = Results()
    killing = asyncio.create_task(kill_now_and_then(workers, times=4, every=2.0, seed=8))
    await residents_take_part(loopback, workers.hook, chat_ids, results)
    await killing
    assert results.errors == 0, results
    assert results.finished == len(chat_ids)  # every resident carried on to the end
    assert workers.kills == 4
    print(f"{workers.kills} kills: {results.redeliveries} updates delivered again")
    state = await panel_state(url, chat_ids)
    assert sorted(chat for chat, _status in state["residents"]) == list(chat_ids)
    assert {status for _chat, status in state["residents"]} == {"member"}
    assert len(state["runs"]) == len(chat_ids)  # one run each: no answer applied twice
    assert {status for _r, status, _n in state["runs"]} == {"submitted"}
    assert len({answers for _r, _s, answers in state["runs"]}) == 1  # nobody lost an answer

    # A broadcast to 600 members, with both workers killed twice while it goes out.
    await workers.all_up()
    members = range(300_000, 300_560)
    await add_members(database, members, datetime.now(UTC))
    service = Broadcasts(database, clock=lambda: datetime.now(UTC), wake=lambda: None)
    draft = Draft(MESSAGE, Audience(), datetime.now(UTC), text="The clinic consultation is open.")
    made = await service.send(draft, actor="test", sender=None, allowed=None)
    everyone = set(members) | set(chat_ids)
    assert made.recipients == len(everyone)
    before = {chat: loopback.sent[chat] for chat in everyone}
    for delivered in (150, 350):
        for _ in range(1500):  # 30 s at most
            if sum(loopback.sent[chat] - before[chat] for chat in everyone) >= delivered:
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError(f"the broadcast stalled: {workers.log.read_text()[-3000:]}")
        for pid in workers.pids():
            workers.kill(pid)
        await workers.all_up()
    for _ in range(600):
        async with database.transaction() as session:
            left = await session.scalar(
                select(func.count()).where(OutboxMessage.status.in_(("pending", "sending")))
            )
        if left == 0:
            break
        await asyncio.sleep(0.1)
    await workers.stop()
    await database.dispose()
    got = {chat: loopback.sent[chat] - before[chat] for chat in everyone}
    assert min(got.values()) >= 1, "someone was missed"
    resent = sum(got.values()) - len(everyone)
    # At each kill only the dead sender's messages in flight (or sent in the last 50 ms, before
    # their results were recorded) may go again.
    assert resent <= 2 * (IN_FLIGHT + 60 * 0.05), resent
    print(f"broadcast to {len(everyone)}: {resent} sent twice over two kills of both workers")


async def test_a_database_restart_under_load_gets_a_kind_try_again_not_silence(
    api: tuple[LoopbackBotApi, str], start_workers: Callable[[str, str], Awaitable[Workers]]
) -> None:
    url = await migrated_postgres()
    database = Database(url)
    await _truncate(database)
    await database.dispose()
    loopback, api_url = api
    target = make_url(url)
    async with RestartableProxy(target.port or 5432, target.host or "127.0.0.1") as proxy:
        proxied = target.set(host="127.0.0.1", port=proxy.port).render_as_string(False)
        workers = await start_workers(api_url, proxied)
        chat_ids = range(21_000, 21_040)
        results = Results()

        async def restart_twice() -> None:
            for _ in range(2):
                await asyncio.sleep(2.5)
                proxy.restart(2.0)

        restarting = asyncio.create_task(restart_twice())
        await residents_take_part(loopback, workers.hook, chat_ids, results)
        await restarting
        await workers.stop()
    assert proxy.restarts == 2
    print(f"2 restarts: {results.apologies} apologies, {results.redeliveries} redeliveries")
    assert results.apologies > 0, "the restarts never met a resident"
    assert results.errors == 0, results  # no silence, and every resident carried on
    assert results.finished == len(chat_ids)
    state = await panel_state(url, chat_ids)
    assert len(state["runs"]) == len(chat_ids)
    assert {status for _r, status, _n in state["runs"]} == {"submitted"}
    assert len({answers for _r, _s, answers in state["runs"]}) == 1
