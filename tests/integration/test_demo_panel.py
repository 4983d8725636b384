"""The demo panel: made-up people enough for every dashboard page, never beside real ones."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.services.dashboard import Dashboard
from bot.services.demo_panel import DemoError, fill_demo_panel
from bot.services.exports import Exporter
from bot.services.story_wall import StoryWall
from bot.services.survey_library import SurveyLibrary
from storage.database import Database
from storage.models import Resident, SurveyRun
from tests.conftest import FakeClock
from tests.support.panel import add_members
from tests.web.conftest import AREA


async def test_a_demo_panel_fills_every_page(database: Database, clock: FakeClock) -> None:
    library = SurveyLibrary.load()
    made = await fill_demo_panel(database, library, AREA, 400, clock=clock)
    assert made.members == 400 and made.responses > 300 and made.stories > 10
    dashboard = Dashboard(database, library, AREA, clock=clock)
    composition = await dashboard.composition()
    assert composition is not None and composition.members == 400
    for survey_id in ("gp_access", "housing_repairs"):
        results = await dashboard.results(survey_id, by="age_band")
        assert results is not None and not results.too_few
        assert results.design_effect != "1.00"  # the panel leans, so weighting moves it
    broadcasts = await dashboard.broadcasts(None)
    assert len(broadcasts) == 2 and all(report.sent > 0 for _b, report in broadcasts)
    assert len(await Exporter(database, clock=clock).register()) == 1
    wall = StoryWall(database, library, clock=clock)
    assert (await wall.cards("new")) and (await wall.cards("approved"))
    async with database.transaction() as session:
        sent = select(func.count()).select_from(SurveyRun).where(SurveyRun.cell.is_not(None))
        assert await session.scalar(sent) == made.responses  # kept whole, ready to export
        chat_ids = (await session.execute(select(Resident.chat_id))).scalars()
        assert all(chat_id < -(2**52) for chat_id in chat_ids)  # nobody can be messaged


async def test_the_demo_refuses_a_database_with_real_residents(
    database: Database, clock: FakeClock
) -> None:
    await add_members(database, [7001], clock())
    with pytest.raises(DemoError):
        await fill_demo_panel(database, SurveyLibrary.load(), AREA, 10, clock=clock)


async def test_the_demo_tops_up_and_lets_visitors_join_beside_it(
    database: Database, clock: FakeClock
) -> None:
    library = SurveyLibrary.load()
    await fill_demo_panel(database, library, AREA, 20, clock=clock)
    await add_members(database, [7001], clock(), channel="web")  # someone tried the web chat
    again = await fill_demo_panel(database, library, AREA, 25, clock=clock)
    assert (again.members, again.panel) == (5, 25)
    assert (await fill_demo_panel(database, library, AREA, 25, clock=clock)).members == 0
