"""The answers' hot path gives exactly what the general path gives, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import random
import re
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.services.chat import Inbound, Outcome
from bot.services.panel_chat import PanelChat
from bot.services.survey_chat import SurveyChat
from storage.answer_store import AnswerTurn
from storage.database import Database
from storage.group_commit import GroupCommit
from storage.models import ProcessedUpdate, Resident, SurveyAnswer, SurveyRun
from tests.conftest import FakeClock, migrated_sqlite
from tests.integration.test_survey_chat import library, member, start_pets
from tests.support.driver import ResidentDriver

TYPED = ("banana", "7", "51", "Rex", "seventy", "Jones", "call me on 07700 900123", "")
NAVIGATION = {"Back", "Skip", "Pause", "Done"}
RUN_ID = re.compile(r"^s:\d+:")


def both_paths(database: Database, clock: FakeClock) -> tuple[PanelChat, PanelChat]:
    """One chat with the hot path and one without, on the same database."""
    surveys = SurveyChat(library(), clock=clock)
    quick = PanelChat(database, surveys=surveys, clock=clock)
    general = PanelChat(database, surveys=surveys, clock=clock, quick_answers=False)
    assert quick.quick is not None and general.quick is None
    return quick, general


def seen(outcome: Outcome) -> Any:
    """What a resident sees, with run ids taken out of the button ids."""

    def reply(r: Any) -> Any:
        if r is None:
            return None
        rows = tuple(tuple((RUN_ID.sub("s:RUN:", b.id), b.label) for b in row) for row in r.buttons)
        return r.text, rows

    return [reply(r) for r in outcome.replies], reply(outcome.edit), outcome.notice, outcome.stale


async def stored(database: Database, chat_id: int) -> Any:
    """A resident's runs (state and status) and answers, without ids or times."""
    async with database.transaction() as session:
        resident = await chat_resident(session, chat_id)
        runs = await session.execute(select(SurveyRun).where(SurveyRun.resident_id == resident))
        result = []
        for run in runs.scalars():
            answers = await session.execute(
                select(SurveyAnswer).where(SurveyAnswer.run_id == run.id)
            )
            kept = sorted((a.question_id, a.value, a.redacted_text) for a in answers.scalars())
            result.append((run.survey_id, run.status, run.state, kept))
        return result


async def chat_resident(session: Any, chat_id: int) -> int:
    found = await session.execute(select(Resident.id).where(Resident.chat_id == chat_id))
    return int(found.scalar_one())


async def test_a_random_walk_through_a_survey_looks_and_stores_the_same_on_both_paths(
    database: Database, clock: FakeClock
) -> None:
    quick_chat, general_chat = both_paths(database, clock)
    quick = await member(quick_chat, 7101, name="Sam Jones")
    general = await member(general_chat, 7102, name="Sam Jones")
    for driver in (quick, general):
        await start_pets(driver)
    assert quick_chat.quick is not None
    hot = quick_chat.quick.handle
    taken: list[Outcome] = []

    async def counted(event: Inbound) -> Outcome | None:
        outcome = await hot(event)
        if outcome is not None:
            taken.append(outcome)
        return outcome

    quick_chat.quick.handle = counted  # type: ignore[method-assign]
    chooser = random.Random(20261123)
    for _ in range(200):
        if not quick.labels() and chooser.random() < 0.2:
            await quick.command("surveys")  # a way back in after a pause or the end
            await general.command("surveys")
        labels = quick.labels()
        assert labels == general.labels()
        if chooser.random() < 0.9:  # mostly answering: pausing and sending end the walk early
            labels = [label for label in labels if label not in ("Pause", "Send my answers")]
        roll = chooser.random()
        if set(labels) <= NAVIGATION:
            roll = max(roll, 0.7)  # a question to type the answer to: mostly typed
        if labels and roll < 0.6:
            label = chooser.choice(labels)
            await quick.press_label(label)
            await general.press_label(label)
        elif roll < 0.9:
            text = chooser.choice(TYPED)
            await quick.say(text)
            await general.say(text)
        else:
            command = chooser.choice(("back", "skip"))
            await quick.command(command)
            await general.command(command)
        assert seen(quick.last) == seen(general.last)
        assert await stored(database, 7101) == await stored(database, 7102)
        clock.advance(60)
    assert len(taken) >= 60  # most events went the hot way


async def test_a_redelivered_answer_changes_nothing_and_shows_where_the_resident_is(
    database: Database, clock: FakeClock
) -> None:
    chat = PanelChat(database, surveys=SurveyChat(library(), clock=clock), clock=clock)
    driver = await member(chat, 7201)
    await start_pets(driver)
    await driver.press_label("Next")
    dog = Inbound(7201, "redelivered:1", button=driver.button("A dog"))
    first = await chat.handle(dog)
    assert "What is its name?" in first.replies[-1].text
    await driver.say("Rex")
    again = await chat.handle(dog)
    assert "How many walks a week?" in again.replies[-1].text  # where they are now
    async with database.transaction() as session:
        keys = (await session.execute(select(ProcessedUpdate.update_key))).scalars()
        assert list(keys).count("redelivered:1") == 1
        answers = (await session.execute(select(SurveyAnswer))).scalars()
        assert {a.question_id: a.value["value"] for a in answers} == {
            "pet": "dog",
            "pet_name": "Rex",
        }


async def test_many_residents_answering_at_once_all_have_their_answers_kept(
    database: Database, clock: FakeClock
) -> None:
    chat = PanelChat(database, surveys=SurveyChat(library(), clock=clock), clock=clock)
    drivers: list[ResidentDriver] = [await member(chat, 7300 + n) for n in range(12)]
    for driver in drivers:
        await start_pets(driver)
        await driver.press_label("Next")

    async def answer(driver: ResidentDriver) -> None:
        await driver.press_label("A dog")
        await driver.say(f"Dog {driver.chat_id}")
        await driver.say(str(driver.chat_id % 50))

    await asyncio.gather(*(answer(driver) for driver in drivers))
    async with database.transaction() as session:
        rows = (await session.execute(select(SurveyAnswer))).scalars().all()
    by_run: dict[int, dict[str, object]] = {}
    for row in rows:
        by_run.setdefault(row.run_id, {})[row.question_id] = row.value["value"]
    names = sorted(answers["pet_name"] for answers in by_run.values())  # type: ignore[type-var]
    assert names == sorted(f"Dog {driver.chat_id}" for driver in drivers)
    assert all(
        answers["walks"] == int(str(answers["pet_name"])[4:]) % 50 for answers in by_run.values()
    )


async def test_a_failing_job_rolls_back_its_batch_and_sends_every_event_the_general_way(
    database: Database, clock: FakeClock
) -> None:
    assert database.answers is not None
    batches: GroupCommit[str] = GroupCommit(database.answers)

    def recorder(key: str, fail: bool = False) -> Any:
        async def job(turn: AnswerTurn) -> str | None:
            if not await turn.first_time(key, clock()):
                return None
            if fail:
                raise RuntimeError("a fault in one answer")
            return key

        return job

    results = await asyncio.gather(
        batches.run(1, recorder("batch:a")),
        batches.run(2, recorder("batch:b", fail=True)),
        batches.run(3, recorder("batch:c")),
    )
    assert results == [None, None, None]
    alone = await batches.run(4, recorder("batch:d"))
    assert alone == "batch:d"
    async with database.transaction() as session:
        keys = set((await session.execute(select(ProcessedUpdate.update_key))).scalars())
    assert keys == {"batch:d"}


async def test_a_batch_runs_its_jobs_in_chat_order_keeping_each_chats_own_order(
    database: Database,
) -> None:
    assert database.answers is not None
    batches: GroupCommit[None] = GroupCommit(database.answers)
    ran: list[tuple[int, int]] = []

    def job(chat: int, seq: int) -> Any:
        async def apply(_turn: AnswerTurn) -> None:
            ran.append((chat, seq))

        return apply

    order = [(3, 1), (1, 1), (3, 2), (2, 1), (1, 2)]
    await asyncio.gather(*(batches.run(chat, job(chat, seq)) for chat, seq in order))
    assert ran == [(1, 1), (1, 2), (2, 1), (3, 1), (3, 2)]


async def test_callers_are_not_left_waiting_when_the_batch_is_cancelled(tmp_path: Path) -> None:
    database = Database(await migrated_sqlite(tmp_path))
    assert database.answers is not None
    batches: GroupCommit[str] = GroupCommit(database.answers)
    started = asyncio.Event()

    async def slow(_turn: AnswerTurn) -> str:
        started.set()
        await asyncio.sleep(30)
        return "finished"

    waiting = asyncio.create_task(batches.run(1, slow))
    await started.wait()
    assert batches._drainer is not None
    batches._drainer.cancel()
    assert await asyncio.wait_for(waiting, 5) is None
    await database.dispose()
