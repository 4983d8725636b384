"""Surveys in the chat through PanelChat on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.services.area import AreaProfile
from bot.services.chat import Outcome
from bot.services.panel_chat import PanelChat
from bot.services.reminders import SurveyReminders
from bot.services.survey_chat import SurveyChat
from bot.services.survey_library import SurveyLibrary
from bot.surveys import DEFINITIONS, load_survey
from storage.database import Database
from storage.files import FileStore
from storage.models import Story, SurveyAnswer, SurveyRun
from tests.conftest import FakeClock
from tests.support.driver import ResidentDriver, join

ROOT = Path(__file__).resolve().parents[2]
HOUR = 3600
PETS = ROOT / "tests" / "fixtures" / "surveys" / "branching.yaml"


def library() -> SurveyLibrary:
    pets = load_survey(PETS)
    story = load_survey(DEFINITIONS / "story.yaml")
    return SurveyLibrary({pets.id: pets, story.id: story})


def make_chat(database: Database, clock: FakeClock, voice: Path) -> PanelChat:
    surveys = SurveyChat(library(), voice_store=FileStore(voice), clock=clock)
    area = AreaProfile.load(ROOT / "areas" / "demo")
    return PanelChat(database, area=area, surveys=surveys, clock=clock)


@pytest.fixture
def chat(database: Database, clock: FakeClock, tmp_path: Path) -> PanelChat:
    return make_chat(database, clock, tmp_path / "voice")


async def member(chat: PanelChat, chat_id: int, name: str | None = None) -> ResidentDriver:
    driver = ResidentDriver(chat, chat_id, display_name=name)
    await join(driver)
    return driver


async def runs_of(database: Database) -> list[SurveyRun]:
    async with database.transaction() as session:
        return list((await session.execute(select(SurveyRun).order_by(SurveyRun.id))).scalars())


async def answers_of(database: Database) -> dict[str, object]:
    async with database.transaction() as session:
        rows = (await session.execute(select(SurveyAnswer))).scalars()
        return {row.question_id: row.value["value"] for row in rows}


async def start_pets(driver: ResidentDriver) -> None:
    await driver.command("surveys")
    assert "Pets and wellbeing" in driver.labels()
    await driver.press_label("Pets and wellbeing")


async def test_a_member_answers_every_kind_of_question_and_each_answer_is_kept(
    chat: PanelChat, database: Database
) -> None:
    driver = await member(chat, 9001)
    await start_pets(driver)
    assert driver.texts()[0].startswith("Pets and wellbeing")
    assert "Question 1 of" in driver.texts()[-1]
    await driver.press_label("Next")
    await driver.say("banana")  # not a pet: asked again, kindly, with Pause on offer
    assert "Please choose one of the buttons below." in driver.texts()[0]
    assert "Pause" in driver.labels()
    await driver.press_label("A dog")
    await driver.say("Rex")
    await driver.say("seventy")
    assert "A number from 0 to 50, please." in driver.texts()[0]
    await driver.say("51")
    assert "A number from 0 to 50, please." in driver.texts()[0]
    await driver.say("7")
    assert await answers_of(database) == {"pet": "dog", "pet_name": "Rex", "walks": 7}
    await driver.command("skip")
    await driver.press_label("4")
    await driver.press_label("Toys")
    assert driver.last.edit is not None and "✅ Toys" in driver.labels()
    await driver.press_label("Treats")
    await driver.press_label("A garden")  # a third is one too many
    assert driver.last.notice == "You can choose up to 2. Untick one to choose another."
    await driver.press_label("Done")
    await driver.press_label("No")
    await driver.press_label("Yes")  # all_good: happy >= 4 and toys ticked
    review = driver.texts()[-1]
    assert "Please check your answers" in review
    assert "Toys, Treats" in review and "(skipped)" in review
    await driver.press_label("Send my answers")
    assert "Thank you! Your answers have been sent." in driver.texts()[-1]
    [run] = await runs_of(database)
    assert run.status == "submitted" and run.submitted_at is not None
    assert await answers_of(database) == {
        "pet": "dog",
        "pet_name": "Rex",
        "walks": 7,
        "weight_kg": None,
        "happy": 4,
        "extras": ["toys", "treats"],
        "vet": "no",
        "all_good": "yes",
    }
    await driver.command("surveys")
    assert "Pets and wellbeing" not in driver.labels()


async def test_one_response_per_resident_per_survey_version(
    chat: PanelChat, database: Database
) -> None:
    driver = await member(chat, 9002)
    await start_pets(driver)
    start_button = "n:branching"
    await driver.press_label("Next")
    await driver.press_label("None")
    await driver.press_label("3")
    await driver.press_label("Skip")
    await driver.press_label("Skip")
    await driver.press_label("Next")  # "That's fine." after skipping the vet question
    await driver.press_label("Send my answers")
    await driver.press(start_button)
    assert driver.texts() == ["You have already answered this survey. Thank you!"]
    assert len(await runs_of(database)) == 1


async def test_a_survey_resumes_exactly_where_it_stopped_after_a_restart(
    chat: PanelChat, database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    driver = await member(chat, 9003)
    await start_pets(driver)
    await driver.press_label("Next")
    await driver.press_label("A cat")
    await driver.say("Tibbles")
    asked = driver.texts()[-1]
    assert "How heavy is it" in asked
    clock.advance(3 * 24 * 3600)
    driver.chat = make_chat(database, clock, tmp_path / "voice")  # a new process
    await driver.command("surveys")
    await driver.press_label("Carry on: Pets and wellbeing")
    assert driver.texts() == ["Welcome back! Here is where you left off.", asked]
    await driver.say("4.5")
    assert "How happy are you?" in driver.texts()[-1]
    assert (await answers_of(database))["weight_kg"] == 4.5


async def test_pause_and_carry_on_and_old_buttons_change_nothing(
    chat: PanelChat, database: Database
) -> None:
    driver = await member(chat, 9004)
    await start_pets(driver)
    await driver.press_label("Next")
    pet_buttons = driver.last
    await driver.press_label("A dog")
    driver.last = pet_buttons
    await driver.press_label("A cat")  # the same question's old button, pressed again
    assert driver.last.stale
    assert driver.texts() == ["Question 2 of 7\nWhat is its name?\n\nPlease type your answer."]
    assert (await answers_of(database))["pet"] == "dog"
    await driver.command("pause")
    assert driver.texts()[0].startswith("Paused.")
    [run] = await runs_of(database)
    assert run.status == "paused"
    await driver.say("hello")
    assert "nothing to answer just now" in driver.texts()[0]
    await driver.command("surveys")
    await driver.press_label("Carry on: Pets and wellbeing")
    assert "What is its name?" in driver.texts()[-1]
    await driver.command("back")
    assert "Which pet do you have?" in driver.texts()[-1]
    assert "Your answer was: A dog" in driver.texts()[-1]


async def test_another_command_mid_survey_offers_carry_on_or_pause(chat: PanelChat) -> None:
    driver = await member(chat, 9005)
    await start_pets(driver)
    await driver.press_label("Next")
    await driver.command("profile")
    assert driver.texts()[0].startswith("Your answers:")
    offer = "You were answering “Pets and wellbeing”. Would you like to carry on?"
    assert driver.texts()[-1] == offer
    await driver.press_label("Carry on")
    assert "Which pet do you have?" in driver.texts()[-1]


async def test_a_story_is_told_in_parts_described_and_kept_redacted(
    chat: PanelChat, database: Database, tmp_path: Path
) -> None:
    driver = await member(chat, 9006, name="Margaret Okafor")
    await driver.command("story")
    assert driver.texts()[0].startswith("Share your story")
    await driver.say("Margaret here. My GP at LS6 2AB would not call me back on 07700 900123.")
    assert "Thank you, I have that." in driver.texts()[0]
    await driver.voice(b"OggS-fake-voice")
    await driver.say("In the end the pharmacist helped.")
    await driver.press_label("Done")
    await driver.press_label("GP surgery")
    await driver.press_label("2")
    await driver.press_label("Being listened to")
    for label in ("Live well: adults", "Me"):
        await driver.press_label(label)
    await driver.press_label("Yes")
    assert "[voice note]" in driver.texts()[-1]
    await driver.press_label("Send my answers")
    assert "Thank you for sharing your story." in driver.texts()[-1]
    async with database.transaction() as session:
        [story] = (await session.execute(select(Story))).scalars()
        answers = (await session.execute(select(SurveyAnswer))).scalars().all()
    assert story.raw_text.startswith("Margaret here. My GP at LS6 2AB")
    assert "Margaret" not in story.redacted_text and "07700" not in story.redacted_text
    assert "<PHONE>" in story.redacted_text and "<POSTCODE>" in story.redacted_text
    assert story.signifiers["setting"] == "gp" and story.signifiers["feeling"] == 2
    assert story.quote_consent is True and story.moderation == "new"
    [key] = story.voice_files["keys"]
    assert (tmp_path / "voice" / key).read_bytes() == b"OggS-fake-voice"
    assert answers == []  # the story holds the one copy
    await driver.command("story")  # stories are repeatable
    assert driver.texts()[0].startswith("Share your story")
    await driver.command("forgetme")
    await driver.press_label("Yes, delete everything")
    assert not (tmp_path / "voice" / key).exists()


async def test_voice_notes_outside_a_story_are_refused_kindly(chat: PanelChat) -> None:
    driver = await member(chat, 9007)
    await driver.voice(b"OggS")
    assert driver.texts() == ["To share a story by voice note, send /story first."]
    await start_pets(driver)
    await driver.voice(b"OggS")
    assert "only take voice notes for stories" in driver.texts()[0]


async def test_my_data_includes_surveys_and_stories(chat: PanelChat) -> None:
    driver = await member(chat, 9008)
    await start_pets(driver)
    await driver.press_label("Next")
    await driver.press_label("A dog")
    await driver.command("mydata")
    document = driver.last.replies[0].document
    assert document is not None
    held = json.loads(document.content)
    [survey] = held["surveys"]
    assert survey["survey"] == "branching" and survey["answers"] == {"pet": "dog"}


async def test_reminders_at_most_n_never_in_quiet_hours_nor_after_stop(
    chat: PanelChat, database: Database, clock: FakeClock
) -> None:
    reminders = SurveyReminders(database, library(), clock=clock)
    driver = await member(chat, 9009)
    stopped = await member(chat, 9010)
    for resident in (driver, stopped):
        await start_pets(resident)
        await resident.press_label("Next")
    await stopped.command("stop")
    clock.advance(47 * HOUR)
    assert await reminders.due() == []
    clock.advance(2 * HOUR)
    [first] = await reminders.due()
    assert first.chat_id == 9009
    assert first.reply.text.startswith("You started “Pets and wellbeing”")
    assert await reminders.due() == []  # counted: not sent twice
    clock.now = clock.now.replace(hour=22) + timedelta(days=3)  # due, but in quiet hours
    assert await reminders.due() == []
    clock.now = clock.now.replace(hour=9, minute=30) + timedelta(days=1)
    [second] = await reminders.due()
    clock.advance(30 * 24 * HOUR)
    assert await reminders.due() == []  # the survey's maximum of two
    driver.last = Outcome(replies=[second.reply])
    await driver.press_label("Carry on")
    assert "Which pet do you have?" in driver.texts()[-1]


async def test_survey_commands_before_joining_ask_to_finish_joining_first(chat: PanelChat) -> None:
    driver = ResidentDriver(chat, 9011)
    await driver.command("start")
    for command in ("surveys", "story", "pause"):
        await driver.command(command)
        assert driver.texts()[0] == "Let's finish joining first."
        assert "Which language" in driver.texts()[-1]
