"""Joining the panel through PanelChat on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.services.area import AreaProfile
from bot.services.panel_chat import PanelChat
from storage.database import Database
from storage.models import ConsentRecord, ProfileAnswer, Resident
from tests.conftest import FakeClock
from tests.support.driver import ResidentDriver, join, reach_postcode

DEMO_AREA = Path(__file__).resolve().parents[2] / "areas" / "demo"


@pytest.fixture
def chat(database: Database, clock: FakeClock) -> PanelChat:
    return PanelChat(database, area=AreaProfile.load(DEMO_AREA), clock=clock)


async def resident(database: Database, chat_id: int) -> Resident | None:
    async with database.transaction() as session:
        from storage.repositories import ResidentRepository

        residents = ResidentRepository(session)
        found = await residents.by_chat("telegram", chat_id)
        if found is not None:
            await residents.load_details(found)
        return found


async def test_a_resident_joins_with_every_answer_stored(
    chat: PanelChat, database: Database
) -> None:
    driver = ResidentDriver(chat, 501)
    await driver.command("start", "ref_champion42")
    assert driver.button_ids() == ["language:en", "language:cy", "language:pl", "language:ur"]
    await driver.press("language:en")
    assert "Do you agree to join the panel?" in driver.texts()[-1]
    await join_rest(driver)
    assert "Welcome to the panel" in driver.texts()[-1]

    member = await resident(database, 501)
    assert member is not None
    assert member.status == "member"
    assert member.referral_code == "champion42"
    assert member.postcode_district == "LS6"
    assert member.postcode_full is None  # not stored unless the deployment says so
    assert member.locality == "north_riverside"
    assert {a.feature: a.value for a in member.profile} == {
        "age_band": "65_74",
        "sex": "female",
        "ethnicity": "asian_pakistani",
        "disability": "yes_a_little",
        "carer": "yes",
    }
    purposes = {(c.purpose, c.granted, c.notice_version) for c in member.consents}
    assert purposes == {
        ("membership", True, "1.0"),
        ("special_category", True, "1.0"),
        ("consultations", True, "1.0"),
    }


async def join_rest(driver: ResidentDriver) -> None:
    for button in ("consent_membership:yes", "consent_special:yes", "consent_consultations:yes"):
        await driver.press(button)
    await driver.say("ls61aa")
    await driver.press("age_band:65_74")
    await driver.press("sex:female")
    await driver.press("ethnicity_group:asian")
    await driver.press("ethnicity:asian_pakistani")
    await driver.press("disability:yes_a_little")
    await driver.press("carer:yes")


async def test_without_special_category_consent_those_questions_are_not_asked(
    chat: PanelChat, database: Database
) -> None:
    driver = ResidentDriver(chat, 502)
    await join(driver, special=False)
    member = await resident(database, 502)
    assert member is not None and member.status == "member"
    assert {a.feature for a in member.profile} == {"age_band", "sex", "carer"}


async def test_nonsense_is_answered_kindly_and_the_question_asked_again(chat: PanelChat) -> None:
    driver = ResidentDriver(chat, 503)
    await driver.command("start")
    await driver.say("what is this??")
    assert driver.texts()[0] == "Please choose one of the buttons below."
    assert driver.button_ids()[:1] == ["language:en"]
    await reach_postcode(driver)
    for nonsense in ["", "12345", "my house", "x" * 4000, "‮LS6"]:
        await driver.say(nonsense)
        assert "doesn't look like a UK postcode" in driver.texts()[0]
        assert driver.texts()[1].startswith("What is your postcode?")
    await driver.say("BD1 1AA")
    assert "outside the area" in driver.texts()[0]
    await driver.press("age_band:16_24")  # a button from nowhere: nothing changes
    assert driver.last.stale
    await driver.say("LS1")
    assert driver.texts()[-1].startswith("How old are you?")


async def test_restart_resumes_where_the_resident_stopped(
    database: Database, clock: FakeClock
) -> None:
    area = AreaProfile.load(DEMO_AREA)
    driver = ResidentDriver(PanelChat(database, area=area, clock=clock), 504)
    await reach_postcode(driver)
    await driver.say("LS6 1AA")
    await driver.press("age_band:35_44")
    # A new service object on the same database is a restarted bot.
    driver.chat = PanelChat(database, area=area, clock=clock)
    await driver.say("hello?")
    assert driver.texts()[-1].startswith("Are you…?")
    assert "(Question 2 of 5)" in driver.texts()[-1]
    await driver.press("sex:male")
    assert driver.texts()[-1].startswith("Which of these best describes your ethnic group?")


async def test_a_redelivered_update_changes_nothing(chat: PanelChat, database: Database) -> None:
    from bot.services.chat import Inbound

    driver = ResidentDriver(chat, 505)
    await join(driver)
    event = Inbound(chat_id=505, update_key="tg:999", button="edit:age_band")
    await chat.handle(event)
    again = await chat.handle(event)
    assert again.replies  # the resident is shown where they are, not silence
    async with database.transaction() as session:
        count = await session.scalar(select(func.count()).select_from(ConsentRecord))
    assert count == 3


async def test_declining_membership_keeps_nothing(chat: PanelChat, database: Database) -> None:
    driver = ResidentDriver(chat, 506)
    await driver.command("start")
    await driver.press("language:en")
    await driver.press("consent_membership:no")
    assert "not kept anything" in driver.texts()[0]
    assert await resident(database, 506) is None


async def test_language_follows_telegram_and_can_change(chat: PanelChat) -> None:
    driver = ResidentDriver(chat, 507, client_language="pl-PL")
    await driver.command("start")
    polish = driver.texts()[0]
    assert polish != "Hello! Which language would you like to use?"
    await driver.press("language:cy")
    welsh_notice = driver.texts()[0]
    assert "/mydata" in welsh_notice
    await driver.command("language")
    await driver.press("language:en")
    assert driver.texts()[0] == "I will write to you in English from now on."
    assert "Do you agree to join the panel?" in driver.texts()[-1]


async def test_profile_can_be_seen_and_changed(chat: PanelChat, database: Database) -> None:
    driver = ResidentDriver(chat, 508)
    await join(driver)
    await driver.command("profile")
    assert "Age: 65 to 74" in driver.texts()[0]
    await driver.press("edit:age_band")
    await driver.press("age_band:75_plus")
    assert "Age: 75 or over" in driver.texts()[-1]
    await driver.press("edit:postcode")
    await driver.say("LS12 3AB")
    member = await resident(database, 508)
    assert member is not None
    assert member.postcode_district == "LS12" and member.locality == "west_moors"
    assert member.status == "member" and member.step == "member"


async def test_stop_withdraws_consultation_consent_and_start_offers_them_again(
    chat: PanelChat, database: Database
) -> None:
    driver = ResidentDriver(chat, 509)
    await join(driver)
    await driver.command("stop")
    member = await resident(database, 509)
    assert member is not None and member.consultations_stopped
    assert [c.granted for c in member.consents if c.purpose == "consultations"] == [True, False]
    await driver.command("start")
    await driver.press("resume:yes")
    member = await resident(database, 509)
    assert member is not None and not member.consultations_stopped


async def test_mydata_gives_everything_held(chat: PanelChat) -> None:
    import json

    driver = ResidentDriver(chat, 510)
    await join(driver)
    await driver.command("mydata")
    document = driver.last_reply().document
    assert document is not None
    data = json.loads(document.content)
    assert data["postcode_district"] == "LS6"
    assert data["profile"]["ethnicity"] == "asian_pakistani"
    assert len(data["consent_history"]) == 3
    assert data["chat"]["chat_id"] == 510


async def test_forgetme_erases_every_trace(chat: PanelChat, database: Database) -> None:
    driver = ResidentDriver(chat, 987654321)
    await join(driver)
    await driver.command("forgetme")
    await driver.press("forget_confirm:no")
    assert await resident(database, 987654321) is not None
    await driver.command("forgetme")
    await driver.press("forget_confirm:yes")
    assert "deleted" in driver.texts()[0]
    async with database.transaction() as session:
        for model in (Resident, ProfileAnswer, ConsentRecord):
            assert await session.scalar(select(func.count()).select_from(model)) == 0
    dump = await dump_database(database)
    assert "987654321" not in dump
    assert "LS6" not in dump


async def dump_database(database: Database) -> str:
    """Every value in every table, as one string."""
    from storage.models import Base

    rows: list[str] = []
    async with database.transaction() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                rows.append(repr(tuple(row)))
    return "\n".join(rows)
