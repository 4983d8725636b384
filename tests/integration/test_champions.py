"""Champions in the chat: invite codes, roles checked, links, stats, the /broadcast wizard."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.services.area import AreaProfile
from bot.services.broadcast_wizard import BroadcastWizard
from bot.services.broadcasts import Broadcasts
from bot.services.champion_chat import ChampionChat
from bot.services.chat import Inbound, Outcome
from bot.services.panel_chat import PanelChat
from bot.services.roles import CHAMPION, Roles
from storage.database import Database
from storage.models import AuditEntry, Broadcast, OutboxMessage, Resident, SurveyRun
from tests.conftest import FakeClock
from tests.integration.test_survey_chat import library
from tests.support.driver import ResidentDriver, join

ROOT = Path(__file__).resolve().parents[2]
AREA = AreaProfile.load(ROOT / "areas" / "demo")
_keys = itertools.count()


class Champion:
    """An account talking to ChampionChat."""

    def __init__(self, chat: ChampionChat, chat_id: int) -> None:
        self.chat = chat
        self.chat_id = chat_id
        self.last = Outcome()

    async def send(self, **kwargs: str) -> Outcome:
        event = Inbound(self.chat_id, f"champion:{next(_keys)}", client_language="en", **kwargs)
        assert await self.chat.claims(event), kwargs
        self.last = await self.chat.handle(event)
        return self.last

    async def press(self, label: str) -> Outcome:
        return await self.send(button=self.button(label))

    def button(self, label: str) -> str:
        for reply in self.last.replies:
            for row in reply.buttons:
                for button in row:
                    if button.label == label:
                        return button.id
        raise LookupError(f"no {label!r} in {self.labels()}")

    def labels(self) -> list[str]:
        return [b.label for r in self.last.replies for row in r.buttons for b in row]

    def text(self) -> str:
        return "\n".join(reply.text for reply in self.last.replies)


async def city_champion(
    database: Database, clock: FakeClock, chat_id: int, message: str | None = None
) -> Champion:
    """A City Centre champion, in the wizard with a message typed when one is given."""
    chat = champion_chat(database, clock)
    await Roles(database, clock=clock).grant(chat_id, CHAMPION, ["city_centre"], actor="test")
    champion = Champion(chat, chat_id)
    if message is not None:
        await champion.send(command="broadcast")
        await champion.press("A message")
        await champion.send(text=message)
    return champion


def champion_chat(database: Database, clock: FakeClock) -> ChampionChat:
    woken: list[bool] = []
    broadcasts = Broadcasts(database, clock=clock, wake=lambda: woken.append(True))
    return ChampionChat(
        database,
        Roles(database, clock=clock),
        broadcasts,
        BroadcastWizard(database, broadcasts, library(), AREA, clock=clock),
        AREA,
        bot_username=lambda: "panel_test_bot",
        clock=clock,
        web_address="https://panel.example.org/",
    )


async def recruit(database: Database, clock: FakeClock, code: str, first: int, n: int) -> None:
    """Residents who join through a champion's link (all in City Centre, LS1)."""
    panel = PanelChat(database, area=AREA, surveys=None, clock=clock)
    for chat_id in range(first, first + n):
        driver = ResidentDriver(panel, chat_id)
        await driver.command("start", f"ref_{code}")
        await join(driver, postcode="LS1 1AA")


async def test_an_invite_code_makes_a_champion_once_and_only_before_it_expires(
    database: Database, clock: FakeClock
) -> None:
    chat = champion_chat(database, clock)
    roles = Roles(database, clock=clock)
    code = await roles.invite(CHAMPION, ["city_centre"], actor="test")
    stranger = Champion(chat, 501)
    await stranger.send(command="mylink")
    assert "for community champions" in stranger.text()
    await stranger.send(command="champion", argument=code)
    assert "Welcome, community champion for City Centre" in stranger.text()
    late = Champion(chat, 502)
    await late.send(command="champion", argument=code)  # already used
    assert "that code does not work" in late.text()
    expired = await roles.invite(CHAMPION, ["city_centre"], actor="test", days=1)
    clock.advance(timedelta(days=2).total_seconds())
    await late.send(command="champion", argument=expired)
    assert "that code does not work" in late.text()
    await late.send(command="broadcast")
    assert "for community champions" in late.text()
    async with database.transaction() as session:
        actions = list((await session.execute(select(AuditEntry.action))).scalars())
    assert actions.count("invite.redeem") == 1 and actions.count("invite.refused") == 2


async def test_a_champions_link_counts_who_joined_by_numbers_with_small_ones_hidden(
    database: Database, clock: FakeClock
) -> None:
    chat = champion_chat(database, clock)
    role = await Roles(database, clock=clock).grant(77, CHAMPION, ["city_centre"], actor="test")
    assert role.referral_code
    champion = Champion(chat, 77)
    await champion.send(command="mylink")
    reply = champion.last.replies[0]
    assert f"https://t.me/panel_test_bot?start=ref_{role.referral_code}" in reply.text
    assert f"https://panel.example.org/join?ref={role.referral_code}" in reply.text  # web chat
    assert reply.document is not None and reply.document.content.startswith(b"\x89PNG")
    await recruit(database, clock, role.referral_code, 9000, 3)
    await champion.send(command="mystats")
    assert "joined through your link: * (on the panel: *)" in champion.text()
    await recruit(database, clock, role.referral_code, 9100, 9)
    await champion.send(command="mystats")
    assert "joined through your link: 10 (on the panel: 10)" in champion.text()
    assert "Age: 65 to 74 10" in champion.text() and "Unpaid carer: Yes 10" in champion.text()
    assert "Pakistani" not in champion.text()  # never by ethnicity or health
    assert "City Centre needs more:" in champion.text()


async def test_the_wizard_sends_to_a_segment_of_the_champions_own_area(
    database: Database, clock: FakeClock
) -> None:
    chat = champion_chat(database, clock)
    await Roles(database, clock=clock).grant(78, CHAMPION, ["city_centre"], actor="test")
    await recruit(database, clock, "nobody", 9200, 4)  # City Centre, aged 65-74
    champion = Champion(chat, 78)
    await champion.send(command="broadcast")
    await champion.press("A message")
    await champion.send(text="The new walk-in clinic opens on Monday. What do you think?")
    assert champion.labels()[:-1] == ["City Centre"]  # only their own locality
    await champion.press("City Centre")
    await champion.press("Age")
    await champion.press("65 to 74")
    assert "This will go to 4 members: City Centre, Age: 65 to 74." in champion.text()
    await champion.press("Send now")
    assert "Done: broadcast" in champion.text() and "to 4 members" in champion.text()
    async with database.transaction() as session:
        [made] = (await session.execute(select(Broadcast))).scalars().all()
        rows = (await session.execute(select(OutboxMessage))).scalars().all()
    assert made.created_by == 78 and made.audience["localities"] == ["city_centre"]
    assert sorted(row.chat_id for row in rows) == [9200, 9201, 9202, 9203]


async def test_a_champion_cannot_reach_beyond_their_area_even_with_a_forged_button(
    database: Database, clock: FakeClock
) -> None:
    champion = await city_champion(database, clock, 79, "Hello")
    await champion.send(button="w:place:*")  # "everywhere" is not theirs
    assert champion.last.stale
    await champion.send(button="w:place:east_valley")
    assert champion.last.stale


async def test_a_scheduled_broadcast_can_be_cancelled_by_its_champion_only(
    database: Database, clock: FakeClock
) -> None:
    chat = champion_chat(database, clock)
    roles = Roles(database, clock=clock)
    await roles.grant(80, CHAMPION, ["city_centre"], actor="test")
    await roles.grant(81, CHAMPION, ["city_centre"], actor="test")
    await recruit(database, clock, "nobody", 9300, 2)
    champion = Champion(chat, 80)
    await champion.send(command="broadcast")
    await champion.press("A message")
    await champion.send(text="Drop-in session on Friday")
    await champion.press("City Centre")
    await champion.press("Everyone there")
    await champion.press("Another time")
    await champion.send(text="half past six")
    assert "Please type a day and time like 24/11 18:30" in champion.text()
    await champion.send(text="24/11 18:30")
    assert "from 24/11 18:30" in champion.text()
    await champion.send(command="broadcasts")
    assert "Cancel it" in champion.labels()
    other = Champion(chat, 81)
    cancel_id = next(
        b.id
        for r in champion.last.replies
        for row in r.buttons
        for b in row
        if b.label == "Cancel it"
    )
    await other.send(button=cancel_id)
    assert other.last.notice == "That broadcast is not yours."
    await champion.press("Cancel it")
    assert "is cancelled" in champion.text()
    async with database.transaction() as session:
        statuses = set((await session.execute(select(OutboxMessage.status))).scalars())
    assert statuses == {"cancelled"}


@pytest.mark.parametrize("typed", ["", "x" * 3501])
async def test_an_empty_or_overlong_message_is_asked_for_again(
    database: Database, clock: FakeClock, typed: str
) -> None:
    champion = await city_champion(database, clock, 82, typed)
    assert "up to 3500 characters" in champion.text()
    assert await champion.chat.wizard.awaiting_text(82)


async def test_news_for_those_who_answered_reaches_exactly_them_in_the_champions_area(
    database: Database, clock: FakeClock
) -> None:
    champion = await city_champion(database, clock, 83)
    await recruit(database, clock, "nobody", 9400, 3)
    async with database.transaction() as session:
        ids = dict((await session.execute(select(Resident.chat_id, Resident.id))).tuples().all())
        for chat_id in (9400, 9402):
            session.add(
                SurveyRun(
                    resident_id=ids[chat_id],
                    survey_id="branching",
                    survey_version=3,
                    status="submitted",
                    state={},
                    started_at=clock(),
                    updated_at=clock(),
                    reminders_sent=0,
                )
            )
    await champion.send(command="broadcast")
    await champion.press("News for those who answered a survey")
    await champion.press("Pets and wellbeing")
    await champion.send(text="You said the vet was too far: a clinic now opens in the library.")
    await champion.press("City Centre")
    assert "This will go to 2 members: City Centre, who answered Pets and wellbeing." in (
        champion.text()
    )
    await champion.press("Send now")
    async with database.transaction() as session:
        queued = sorted((await session.execute(select(OutboxMessage.chat_id))).scalars())
    assert queued == [9400, 9402]
