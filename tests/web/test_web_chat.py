"""The web chat: the same conversation as Telegram, in a browser without JavaScript."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.channels.web_inbox import Channels, WebInbox
from bot.services.delivery import BLOCKED, FAILED, SENT
from bot.services.panel_chat import PanelChat
from bot.services.survey_chat import SurveyChat
from bot.services.survey_library import SurveyLibrary
from bot.services.web_chat import WebChat
from bot.web.app import create_app
from bot.web.chat_views import CHAT_COOKIE, START_COOKIE, START_LIMIT
from storage.database import Database
from storage.files import FileStore
from storage.models import Resident, SurveyRun
from storage.models import WebChat as WebChatRow
from tests.conftest import FakeClock
from tests.support.driver import LAST_ANSWER
from tests.support.web_resident import WebResident
from tests.web.conftest import AREA


@pytest.fixture
async def site(database: Database, clock: FakeClock) -> AsyncIterator[TestClient]:
    library = SurveyLibrary.load()
    chat = PanelChat(database, area=AREA, surveys=SurveyChat(library, clock=clock), clock=clock,
                     channel="web")  # fmt: skip
    app = create_app(database, web_chat=WebChat(database, chat, clock=clock))
    client = TestClient(TestServer(app))
    await client.start_server()
    yield client
    await client.close()


async def join(resident: WebResident, path: str = "/chat") -> None:
    """Join the panel through the web pages, pressing the same buttons as in Telegram."""
    await resident.start(path)
    for button in ("language:en", "consent_membership:yes", "consent_special:yes",
                   "consent_consultations:yes"):  # fmt: skip
        await resident.press(button)
    await resident.say("LS1 1AA")
    answers = ("age_band:65_74", "sex:female", "ethnicity_group:asian",
               "ethnicity:asian_pakistani", "disability:yes_a_little", LAST_ANSWER)  # fmt: skip
    for button in answers:
        await resident.press(button)


async def answer_gp_access(resident: WebResident) -> None:
    """Answer the GP access survey, whatever it asks, until the answers are sent."""
    for _ in range(40):
        buttons = resident.buttons(latest=True)
        labels = [label for _id, label in buttons]
        if "Send my answers" in labels:
            await resident.press_label("Send my answers")
            return
        if "Done" in labels and any("✅" in label for label in labels):
            await resident.press_label("Done")
        elif "Done" in labels and len(labels) <= 3:  # a story: some messages, then Done
            await resident.say("Nobody answered for an hour")
            await resident.press_label("Done")
        elif labels and labels[0] not in ("Skip", "Back", "Pause", "Done"):
            await resident.press(buttons[0][0])
        elif "number" in resident.texts()[-1].lower():
            await resident.say("3")
        else:
            await resident.say("The phone line was busy")
    raise AssertionError(f"the survey did not end: {resident.texts()[-1]}")


async def test_a_resident_joins_and_answers_a_survey_with_a_reload_in_the_middle(
    site: TestClient, database: Database
) -> None:
    resident = WebResident(site)
    welcome = await resident.open("/chat")
    assert "Have your say on local health and care" in welcome
    await join(resident)
    assert resident.statuses.count(303) >= 10  # every action redirects: reloads repeat nothing
    await resident.command("surveys")
    await resident.press_label("Getting help from your GP practice")
    first = resident.texts()[-1]
    await resident.open("/chat")  # the page closed and opened again: the same question
    assert resident.texts()[-1] == first
    await answer_gp_access(resident)
    assert "Thank you! Your answers have been sent." in resident.texts()[-1]
    async with database.transaction() as session:
        member = (await session.execute(select(Resident))).scalar_one()
        run = (await session.execute(select(SurveyRun))).scalar_one()
    assert (member.channel, member.status) == ("web", "member") and member.chat_id < 0
    assert run.status == "submitted" and run.response is not None


async def test_pages_speak_the_browsers_language_and_urdu_reads_right_to_left(
    site: TestClient,
) -> None:
    polish = await WebResident(site, accept_language="pl-PL,pl;q=0.9").open("/chat")
    assert 'lang="pl"' in polish and "Zacznij" in polish
    urdu = WebResident(site, accept_language="ur")
    page = await urdu.open("/chat")
    assert 'lang="ur" dir="rtl"' in page
    await urdu.start()
    await urdu.press("language:ur")
    assert 'lang="ur" dir="rtl"' in urdu.page and "بھیجیں" in urdu.page  # "Send"


async def test_forms_from_elsewhere_change_nothing(site: TestClient, database: Database) -> None:
    resident = WebResident(site)
    await resident.start()
    before = resident.texts()
    assert await resident.post(csrf="forged", button="language:en") == 303
    assert resident.texts() == before
    stranger = WebResident(site)  # no cookie: a post cannot start or reach anyone's chat
    assert await stranger.post(csrf="x", text="hello") == 303
    posted = await site.post("/chat/start", data={"csrf": "x"}, allow_redirects=False)
    assert posted.status == 303 and "Set-Cookie" not in posted.headers
    async with database.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(WebChatRow)) == 1


async def test_a_champions_link_a_copy_of_my_data_and_forgetting_me(
    site: TestClient, database: Database
) -> None:
    resident = WebResident(site)
    await join(resident, "/join?ref=champ_42")
    async with database.transaction() as session:
        member = (await session.execute(select(Resident))).scalar_one()
    assert member.referral_code == "champ_42"
    await resident.command("mydata")
    response = await site.get("/chat/file/" + str(len(resident.texts()) - 1),
                              headers=resident._headers())  # fmt: skip
    assert response.status == 200 and b'"postcode_district"' in await response.read()
    assert (await site.get("/chat/file/0")).status == 404  # no cookie, no file
    await resident.command("forgetme")
    await resident.press_label("Yes, delete everything")
    assert "Your chat has ended" in resident.page and resident.token == ""
    async with database.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Resident)) == 0
        assert await session.scalar(select(func.count()).select_from(WebChatRow)) == 0


async def test_broadcasts_and_notices_reach_web_chats_through_the_outbox(
    site: TestClient, database: Database
) -> None:
    resident = WebResident(site)
    await join(resident)
    async with database.transaction() as session:
        chat_id = (await session.execute(select(Resident.chat_id))).scalar_one()
    channels = Channels(WebInbox(database, clock=FakeClock()), telegram=None)
    sent = await channels.send_message(chat_id, "You said, we did: the phone line is open longer")
    assert sent.kind == SENT
    await resident.open("/chat")
    assert resident.texts()[-1] == "You said, we did: the phone line is open longer"
    assert (await channels.send_message(-5, "Nobody is here")).kind == BLOCKED
    assert (await channels.send_message(12345, "A Telegram chat")).kind == FAILED


async def test_one_address_cannot_start_chats_without_end(site: TestClient) -> None:
    site.server.app[START_LIMIT].most = 3
    for _ in range(3):
        await WebResident(site).start()
    response = await site.get("/chat")
    start = response.cookies[START_COOKIE].value
    form = {"csrf": start, "referral": ""}
    refused = await site.post("/chat/start", data=form, allow_redirects=False,
                              headers={"Cookie": f"{START_COOKIE}={start}"})  # fmt: skip
    assert refused.status == 429 and "Please try again later" in await refused.text()
    assert CHAT_COOKIE not in refused.cookies


async def test_a_story_told_by_voice_notes_from_the_phone(
    database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    voice = FileStore(tmp_path / "voice")
    surveys = SurveyChat(SurveyLibrary.load(), voice_store=voice, clock=clock)
    chat = PanelChat(database, area=AREA, surveys=surveys, clock=clock, channel="web")
    web_chat = WebChat(database, chat, clock=clock)
    client = TestClient(TestServer(create_app(database, web_chat=web_chat)))
    await client.start_server()
    resident = WebResident(client)
    await join(resident)
    await resident.voice(b"OggS not a story yet")  # outside a story: a kind no, nothing kept
    assert "send /story first" in resident.texts()[-1]
    await resident.command("story")
    await resident.voice(b"OggS first part", "audio/ogg", text="It started at the GP")
    await resident.voice(b"x" * (10 * 1024 * 1024 + 1), "audio/amr")
    assert "too long" in resident.texts()[-1]
    kept = sorted(path.suffix for path in (tmp_path / "voice").iterdir())
    assert kept == [".ogg"]  # the words went first, then the note; the long one was refused
    async with database.transaction() as session:
        run = (await session.execute(select(SurveyRun))).scalar_one()
    assert "It started at the GP" in str(run.state) and "[voice:" in str(run.state)
    await client.close()
