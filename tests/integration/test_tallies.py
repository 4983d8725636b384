"""Results counted as responses are sent: tallies match a full count, and heal after erasure."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.services.area import AreaProfile
from bot.services.panel_chat import PanelChat
from bot.services.results import TEXT_KEY, survey_results, weigh
from bot.services.survey_chat import SurveyChat
from bot.services.survey_library import SurveyLibrary
from bot.services.tallies import current_cells, recount, weighted_sums
from bot.surveys import DEFINITIONS, load_survey
from storage.database import Database
from storage.models import SurveyRun
from storage.tallies import TallyRepository
from tests.conftest import FakeClock
from tests.support.driver import ResidentDriver, join

ROOT = Path(__file__).resolve().parents[2]
AREA = AreaProfile.load(ROOT / "areas" / "demo")
QUICK = """\
format: 1
id: quick_poll
version: 1
languages: [en]
title: {en: "A quick poll"}
questions:
  - id: happy
    type: yes_no
    text: {en: "Are you happy with your GP?"}
  - id: why
    type: text
    text: {en: "Why?"}
"""


def chat_with_poll(database: Database, clock: FakeClock, folder: Path) -> PanelChat:
    path = folder / "quick_poll.yaml"
    path.write_text(QUICK, encoding="utf-8")
    poll = load_survey(path)
    library = SurveyLibrary({poll.id: poll, "story": load_survey(DEFINITIONS / "story.yaml")})
    return PanelChat(database, area=AREA, surveys=SurveyChat(library, clock=clock), clock=clock)


async def answer(chat: PanelChat, chat_id: int, yes: bool) -> ResidentDriver:
    driver = ResidentDriver(chat, chat_id)
    await join(driver, postcode="LS1 1AA")
    await driver.command("surveys")
    await driver.press_label("A quick poll")
    await driver.press_label("Yes" if yes else "No")
    await driver.say("Ring me on 07700 900123, Dr Jones was kind")
    await driver.press_label("Send my answers")
    assert "Thank you! Your answers have been sent." in driver.texts()[-1]
    return driver


async def test_sending_a_response_counts_it_and_the_count_matches_a_full_recount(
    database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    chat = chat_with_poll(database, clock, tmp_path)
    drivers = [await answer(chat, 8100 + n, yes=n % 3 != 0) for n in range(12)]
    async with database.transaction() as session:
        tallies = TallyRepository(session)
        counted = (await tallies.cells("quick_poll"), sorted(await tallies.answers("quick_poll")))
    assert sum(counted[0].values()) == 12
    poll = load_survey(tmp_path / "quick_poll.yaml")
    await recount(database, poll)
    async with database.transaction() as session:
        tallies = TallyRepository(session)
        recounted = (await tallies.cells("quick_poll"), sorted(await tallies.answers("quick_poll")))
    assert counted == recounted
    # What a response said in free text is never a tally key, and it is kept only redacted.
    assert {v for q, v, _c, _n, _t in counted[1] if q == "why"} == {TEXT_KEY}
    async with database.transaction() as session:
        kept = (await session.execute(select(SurveyRun.response, SurveyRun.cell))).all()
    assert len(kept) == 12 and all(cell for _r, cell in kept)
    assert all("07700" not in response["why"] for response, _c in kept)
    assert {response["happy"] for response, _c in kept} == {"yes", "no"}
    yes = sum(n for q, v, _c, n, _t in counted[1] if q == "happy" and v == '"yes"')
    assert yes == 8
    # Someone erased: the tallies disagree with the responses and are counted again.
    await drivers[1].command("forgetme")
    await drivers[1].press_label("Yes, delete everything")
    cells = await current_cells(database, poll)
    assert sum(cells.values()) == 11
    weighting = weigh(cells, AREA)
    sums = await weighted_sums(database, poll, weighting.by_cell(None))
    assert sum(row[3] for row in sums if row[1] == '"yes"') == 7
    assert sum(row[4] for row in sums if row[0] == "happy") == pytest.approx(11)  # mean weight 1
    results = survey_results(poll, weighting, sums, {}, None)
    assert not results.too_few and results.respondents == "10"
