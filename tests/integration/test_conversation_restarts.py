"""A hypothesis state machine over the whole conversation: residents join and answer surveys
while the process restarts between any two updates, crashes inside an update's transaction (at
any SQLite instruction) and Telegram delivers updates again. The final database must be the one
that the same updates, each handled once without any fault, leave behind."""

from __future__ import annotations

import asyncio
import itertools
import shutil
import sqlite3
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import event as note
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot.services.area import AreaProfile
from bot.services.chat import Inbound, Outcome
from bot.services.panel_chat import PanelChat
from bot.services.survey_chat import SurveyChat
from bot.services.survey_library import SurveyLibrary
from storage.database import Database, upgrade
from storage.files import FileStore
from storage.models import ConsentRecord, ProfileAnswer, Resident, SurveyAnswer, SurveyRun
from tests.conftest import FakeClock

ROOT = Path(__file__).resolve().parents[2]
AREA = AreaProfile.load(ROOT / "areas" / "demo")
LIBRARY = SurveyLibrary.load(None)
CHATS = (71, 72)
TYPED = ("LS6 1AA", "LS6 1AA", "LS1 4AB", "3", "hello", "")
COMMANDS = ("surveys", "surveys", "surveys", "start", "profile", "help")


@dataclass
class Panel:
    """One process's view of the panel: a database and the conversation service."""

    database: Database
    chat: PanelChat

    @classmethod
    def open(cls, url: str, clock: FakeClock, voice: Path) -> Panel:
        database = Database(url)
        surveys = SurveyChat(LIBRARY, voice_store=FileStore(voice), clock=clock)
        return cls(database, PanelChat(database, area=AREA, surveys=surveys, clock=clock))


def buttons_of(outcome: Outcome) -> list[str]:
    """Every button the resident can see in an answer, newest last."""
    replies = [*outcome.replies, *([outcome.edit] if outcome.edit else [])]
    return [button.id for reply in replies for row in reply.buttons for button in row]


async def contents(database: Database) -> dict[str, Any]:
    """The database's meaning, without ids or times."""
    async with database.transaction() as session:
        residents = {
            r.id: (
                r.chat_id,
                r.status,
                r.step,
                repr(r.step_data),
                r.language,
                r.locality,
                r.postcode_district,
                r.consultations_stopped,
            )
            for r in (await session.execute(select(Resident))).scalars()
        }
        profile = sorted(
            (residents[a.resident_id][0], a.feature, a.value)
            for a in (await session.execute(select(ProfileAnswer))).scalars()
        )
        consents = sorted(
            (residents[c.resident_id][0], c.purpose, c.granted)
            for c in (await session.execute(select(ConsentRecord))).scalars()
        )
        runs = {
            run.id: (residents[run.resident_id][0], run.survey_id, run.status, repr(run.state))
            for run in (await session.execute(select(SurveyRun))).scalars()
        }
        answers = sorted(
            (*runs[a.run_id][:2], a.question_id, repr(a.value))
            for a in (await session.execute(select(SurveyAnswer))).scalars()
        )
    return {
        "residents": sorted(residents.values()),
        "profile": profile,
        "consents": consents,
        "runs": sorted(runs.values()),
        "answers": answers,
    }


class CrashAt:
    """Interrupts SQLite after a number of virtual-machine steps: a crash mid-transaction."""

    def __init__(self, steps: int) -> None:
        self.left = steps
        self.fired = False

    def __call__(self) -> int:
        self.left -= 1
        if self.left <= 0 and not self.fired:
            self.fired = True
            return 1
        return 0


class ConversationWithFaults(RuleBasedStateMachine):
    """Residents talk to the bot; the process dies and Telegram repeats itself."""

    template: Path  # a migrated empty database, copied for each example

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.folder = Path(self.template).parent / f"run-{next(RUNS)}"
        self.folder.mkdir()
        shutil.copy(self.template, self.folder / "panel.db")
        self.url = f"sqlite+aiosqlite:///{self.folder / 'panel.db'}"
        self.clock = FakeClock()
        self.panel = Panel.open(self.url, self.clock, self.folder / "voice")
        self.handled: list[Inbound] = []  # each update once, in the order it took effect
        self.last: dict[int, Inbound] = {}
        self.seen: dict[int, list[str]] = {chat: [] for chat in CHATS}
        self.updates = itertools.count(1)

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def event(self, data: st.DataObject, chat_id: int) -> Inbound:
        """What the resident does next: a button on screen, some typing, or a command."""
        key = f"tg:{next(self.updates)}"
        base = Inbound(chat_id, key, client_language="en")
        # Mostly the first button on screen (which walks through joining and surveys), so runs
        # get far; sometimes any button, old or new, typing or a command.
        choice = data.draw(
            st.sampled_from(("first",) * 6 + ("any",) * 2 + ("typed",) * 2 + ("command",))
        )
        shown = self.seen[chat_id]
        if choice == "first" and shown:
            return replace(base, button=shown[0])
        if choice == "any" and shown:
            return replace(base, button=data.draw(st.sampled_from(shown)))
        if choice == "typed" or (not shown and data.draw(st.booleans())):
            return replace(base, text=data.draw(st.sampled_from(TYPED)))
        return replace(base, command=data.draw(st.sampled_from(COMMANDS)))

    def deliver(self, event: Inbound) -> None:
        """Handle an update as the webhook does and keep what the resident now sees."""
        outcome = self.run(self.panel.chat.handle(event))
        shown = buttons_of(outcome)
        if shown or outcome.replies:  # a message without buttons: nothing new to press
            self.seen[event.chat_id] = shown

    @rule(data=st.data(), chat_id=st.sampled_from(CHATS))
    def resident_acts(self, data: st.DataObject, chat_id: int) -> None:
        event = self.event(data, chat_id)
        self.deliver(event)
        self.handled.append(event)
        self.last[chat_id] = event

    @rule(data=st.data(), chat_id=st.sampled_from(CHATS), steps=st.integers(1, 800))
    def crash_inside_an_update(self, data: st.DataObject, chat_id: int, steps: int) -> None:
        """The process dies mid-update; once restarted, Telegram delivers the update again."""
        event = self.event(data, chat_id)
        crash = CrashAt(steps)
        self.run(self._on_sqlite(lambda raw: raw.set_progress_handler(crash, 1)))
        try:
            self.deliver(event)
        except (sqlite3.OperationalError, OperationalError) as error:
            if "interrupt" not in str(error):
                raise  # a real failure, not our crash
        self.run(self._on_sqlite(lambda raw: raw.set_progress_handler(None, 1)))
        note("crashed inside an update" if crash.fired else "the update ended before the crash")
        self.restart()
        self.deliver(event)
        self.handled.append(event)
        self.last[chat_id] = event

    @rule()
    def restart(self) -> None:
        """The process stops and starts again between two updates."""
        self.run(self.panel.database.dispose())
        self.panel = Panel.open(self.url, self.clock, self.folder / "voice")

    @precondition(lambda self: bool(self.last))
    @rule(data=st.data())
    def telegram_delivers_again(self, data: st.DataObject) -> None:
        """A resident's last update comes a second time: it must change nothing."""
        self.deliver(self.last[data.draw(st.sampled_from(sorted(self.last)))])

    async def _on_sqlite(self, change: Any) -> None:
        async with self.panel.database.engine.connect() as connection:
            raw = await connection.get_raw_connection()
            change(raw.driver_connection.sqlite_connection)  # type: ignore[union-attr]

    def teardown(self) -> None:
        try:
            faulty = self.run(contents(self.panel.database))
            self.run(self.panel.database.dispose())
            clean_folder = self.folder / "clean"
            clean_folder.mkdir()
            shutil.copy(self.template, clean_folder / "panel.db")
            clean = Panel.open(
                f"sqlite+aiosqlite:///{clean_folder / 'panel.db'}", FakeClock(), clean_folder
            )
            for event in self.handled:
                self.run(clean.chat.handle(event))
            expected = self.run(contents(clean.database))
            self.run(clean.database.dispose())
            assert faulty == expected
            note(f"{sum(r[1] == 'member' for r in faulty['residents'])} members")
            note("survey answers kept" if faulty["answers"] else "no survey answers")
        finally:
            self.loop.close()


RUNS = itertools.count(1)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("conversation")
    upgrade(f"sqlite+aiosqlite:///{folder / 'template.db'}")
    return folder / "template.db"


def test_restarts_crashes_and_redeliveries_leave_the_same_database(template: Path) -> None:
    ConversationWithFaults.template = template
    run_state_machine_as_test(
        ConversationWithFaults,
        settings=settings(
            max_examples=15,
            stateful_step_count=80,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        ),
    )
