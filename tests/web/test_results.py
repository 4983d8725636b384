"""Survey results on the dashboard: raw and weighted side by side, small groups hidden."""

from __future__ import annotations

from datetime import timedelta

from aiohttp.test_utils import TestClient

from storage.database import Database
from storage.models import SurveyAnswer, SurveyRun
from tests.conftest import FakeClock
from tests.support.panel import new_member
from tests.web.conftest import Browser


async def respond(
    database: Database, clock: FakeClock, first: int, count: int, sex: str, repair: str
) -> None:
    """`count` members of one sex who sent housing_repairs with one answer to repair_needed."""
    async with database.transaction() as session:
        for chat_id in range(first, first + count):
            member = new_member(chat_id, "city_centre", {"sex": sex, "age_band": "35_44"}, clock())
            session.add(member)
            await session.flush()
            run = SurveyRun(
                resident_id=member.id,
                survey_id="housing_repairs",
                survey_version=1,
                status="submitted",
                state={},
                started_at=clock(),
                updated_at=clock(),
                submitted_at=clock(),
                reminders_sent=0,
            )
            session.add(run)
            await session.flush()
            for question, value in (("repair_needed", repair), ("wait_weeks", 4)):
                session.add(
                    SurveyAnswer(
                        run_id=run.id,
                        question_id=question,
                        value={"value": value},
                        answered_at=clock(),
                    )
                )


async def test_raw_and_weighted_figures_side_by_side_with_small_groups_hidden(
    web: TestClient, database: Database, clock: FakeClock
) -> None:
    clock.advance(-timedelta(days=7).total_seconds())
    await respond(database, clock, 1, 30, "female", "yes")  # women are over-represented
    await respond(database, clock, 100, 10, "male", "no")
    await respond(database, clock, 200, 3, "male", "yes")
    browser = Browser(web)
    assert await browser.sign_in("lead1")
    status, page = await browser.get("/surveys/housing_repairs")
    assert status == 200
    assert "45 responses" in page  # 43 rounded to the nearest 5
    # repair_needed: 33 yes (75%? no: 33/43 = 77%) raw; weighting to a 51/49 census lowers it
    row = page[page.index("has your home needed a repair") :]
    assert '<td>35</td><td data-value="77">77%</td>' in row
    weighted = int(row.split('data-value="77">77%</td><td data-value="')[1].split('"')[0])
    assert 55 < weighted < 70
    assert "45 answers. Average 4.0 (weighted 4.0)." in page  # wait_weeks, from its sum
    status, by_sex = await browser.get("/surveys/housing_repairs?by=sex")
    assert "A woman (30)" in by_sex and "A man (15)" in by_sex
    assert "too few" not in by_sex.split("has your home needed a repair")[1].split("</table>")[1]


async def test_a_survey_with_few_responses_shows_none(
    web: TestClient, database: Database, clock: FakeClock
) -> None:
    await respond(database, clock, 1, 9, "female", "yes")
    browser = Browser(web)
    assert await browser.sign_in("admin1")
    status, page = await browser.get("/surveys/housing_repairs")
    assert status == 200 and "Too few responses to show." in page
    assert "has your home needed a repair" not in page
    assert (await browser.get("/surveys/story"))[0] == 404
    assert (await browser.get("/surveys/housing_repairs?by=postcode"))[0] == 404


async def test_champions_cannot_see_survey_results(web: TestClient) -> None:
    browser = Browser(web)
    assert await browser.sign_in("champion1")
    assert (await browser.get("/surveys"))[0] == 403
    assert (await browser.get("/surveys/housing_repairs"))[0] == 403
