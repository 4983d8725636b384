"""Recruitment against quotas: a full group puts newcomers on the reserve list, even when many
join at the same moment (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from sqlalchemy import func, select

from bot.services.area import AreaProfile
from bot.services.panel_chat import PanelChat
from bot.services.quotas import Quotas, groups_of
from bot.services.recruitment import PLACE_OPENED, Recruitment, place_opened_text
from storage.database import Database
from storage.models import Broadcast, OutboxMessage, Resident
from storage.repositories import PanelRepository
from tests.conftest import FakeClock
from tests.support.driver import LAST_ANSWER, ResidentDriver, join

DEMO = AreaProfile.load(Path(__file__).resolve().parents[2] / "areas" / "demo")
PROFILE = {  # what tests.support.driver.join answers
    "age_band": "65_74",
    "sex": "female",
    "ethnicity": "asian_pakistani",
    "disability": "yes_a_little",
    "carer": "yes",
}


def smallest_target(area: AreaProfile) -> int:
    quotas = Quotas.from_area(area)
    assert quotas is not None
    groups = groups_of(PROFILE, "west_moors")
    return min(quotas.targets[f][c] for f, c in groups.items() if c in quotas.targets.get(f, {}))


async def statuses(database: Database) -> dict[str, int]:
    async with database.transaction() as session:
        rows = await session.execute(
            select(Resident.status, func.count()).group_by(Resident.status)
        )
        return {status: int(count) for status, count in rows}


async def test_a_full_group_sends_newcomers_to_the_reserve_list(
    database: Database, clock: FakeClock
) -> None:
    area = dataclasses.replace(DEMO, panel_size=30)
    limit = smallest_target(area)
    chat = PanelChat(database, area=area, clock=clock)
    for chat_id in range(1, limit + 1):
        await join(ResidentDriver(chat, chat_id), postcode="LS12 1AA")
    late = ResidentDriver(chat, 999)
    await join(late, postcode="LS12 1AA")
    assert "reserve list" in late.texts()[0]
    await late.command("surveys")
    assert "reserve list" in late.texts()[0]
    assert await statuses(database) == {"member": limit, "reserve": 1}


async def test_quotas_hold_under_concurrent_joins(database: Database, clock: FakeClock) -> None:
    area = dataclasses.replace(DEMO, panel_size=60)
    limit = smallest_target(area)
    chat = PanelChat(database, area=area, clock=clock)
    drivers = [ResidentDriver(chat, 5000 + i) for i in range(limit + 8)]
    for driver in drivers:
        await join(driver, postcode="LS12 1AA", last=False)
    await asyncio.gather(*(driver.press(LAST_ANSWER) for driver in drivers))  # all at once
    assert await statuses(database) == {"member": limit, "reserve": 8}


async def test_the_reserve_is_drawn_from_when_a_place_opens(
    database: Database, clock: FakeClock
) -> None:
    area = dataclasses.replace(DEMO, panel_size=30)
    limit = smallest_target(area)
    chat = PanelChat(database, area=area, clock=clock)
    members = [ResidentDriver(chat, 100 + i) for i in range(limit)]
    waiting = [ResidentDriver(chat, 200 + i) for i in range(2)]
    for driver in [*members, *waiting]:
        await join(driver, postcode="LS12 1AA")
        clock.advance(60)
    await members[0].command("forgetme")
    await members[0].press_label("Yes, delete everything")  # the longest-waiting takes the place
    assert await statuses(database) == {"member": limit, "reserve": 1}
    async with database.transaction() as session:
        notice = (await session.execute(select(Broadcast))).scalar_one()
        queued = (await session.execute(select(OutboxMessage.chat_id))).scalars().all()
    assert (notice.kind, notice.text, queued) == ("notice", PLACE_OPENED, [200])
    quotas = Quotas.from_area(area)
    assert quotas is not None
    async with database.transaction() as session:  # nobody else has room: nothing more drawn
        assert await Recruitment(quotas).draw(PanelRepository(session)) == []
    assert "now a member" in place_opened_text("en")
    assert place_opened_text("cy") != place_opened_text("en")
    await waiting[0].command("surveys")
    assert "reserve list" not in " ".join(waiting[0].texts())
