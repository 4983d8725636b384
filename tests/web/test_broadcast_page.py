"""Broadcasts on the dashboard: delivery reports; champions see only their own area's."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from bot.services.broadcasts import MESSAGE, Broadcasts, Draft
from storage.broadcasts import Audience
from storage.database import Database
from tests.conftest import FakeClock
from tests.support.panel import add_members
from tests.web.conftest import Browser


async def test_reports_are_shown_and_champions_see_only_their_localities(
    web: TestClient, database: Database, clock: FakeClock
) -> None:
    service = Broadcasts(database, clock=clock, wake=lambda: None)
    for place in ("city_centre", "east_valley"):
        draft = Draft(MESSAGE, Audience((place,)), clock(), text=f"News for {place}")
        await service.send(draft, actor="test", sender=None, allowed=None)
    lead = Browser(web)
    assert await lead.sign_in("lead1")
    status, page = await lead.get("/broadcasts")
    assert status == 200 and "1 (message)" in page and "2 (message)" in page
    champion = Browser(web)
    assert await champion.sign_in("champion1")  # City Centre
    _status, page = await champion.get("/broadcasts")
    assert "1 (message)" in page and "2 (message)" not in page


async def test_delivery_counts_go_through_disclosure_control(
    web: TestClient, database: Database, clock: FakeClock
) -> None:
    await add_members(database, range(800, 803), clock(), locality="west_moors")
    await add_members(database, range(900, 923), clock(), locality="south_dales")
    service = Broadcasts(database, clock=clock, wake=lambda: None)
    for place in ("west_moors", "south_dales"):
        draft = Draft(MESSAGE, Audience((place,)), clock(), text="News")
        await service.send(draft, actor="test", sender=None, allowed=None)
    lead = Browser(web)
    assert await lead.sign_in("lead1")
    _status, page = await lead.get("/broadcasts")
    small = page.split("1 (message)")[1].split("</tr>")[0]
    assert "<td>*</td>" in small and "too few to show" in small  # 3 recipients
    large = page.split("2 (message)")[1].split("</tr>")[0]
    assert "<td>25</td>" in large and "too few" not in large  # 23, rounded to 5
