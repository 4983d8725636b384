"""Results counted as responses are sent, so the dashboard never reads a million answers.

Each sent response adds one to its respondent's profile cell and to each of its answers in that
cell. If the tallies and the sent responses ever disagree (tallies from before they existed,
or responses erased since), the survey's tallies are counted again from the answers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from bot.services.results import answer_key, respondent_cell
from storage.database import Database
from storage.exports import responses
from storage.tallies import TallyRepository


async def count_response(
    tallies: TallyRepository, survey_id: str, profile: Mapping[str, str], answers: Mapping[str, Any]
) -> None:
    """Add one sent response to the tallies (in the sending transaction)."""
    given = {q: answer_key(v) for q, v in answers.items() if v is not None}
    await tallies.add_response(survey_id, respondent_cell(profile), given)


async def current_tallies(
    database: Database, survey_id: str
) -> tuple[dict[str, int], list[tuple[str, str, str, int]]]:
    """A survey's tallies, counted again first if they disagree with its sent responses."""
    async with database.transaction() as session:
        tallies = TallyRepository(session)
        cells = await tallies.cells(survey_id)
        if sum(cells.values()) == await tallies.sent(survey_id):
            return cells, await tallies.answers(survey_id)
    await recount(database, survey_id)
    async with database.transaction() as session:
        tallies = TallyRepository(session)
        return await tallies.cells(survey_id), await tallies.answers(survey_id)


async def recount(database: Database, survey_id: str) -> int:
    """Count a survey's tallies again from its sent responses; how many there are."""
    cells: Counter[str] = Counter()
    answers: Counter[tuple[str, str, str]] = Counter()
    async for page in responses(database, survey_id):
        for response in page:
            cell = respondent_cell(response.profile)
            cells[cell] += 1
            for question, (value, _redacted) in response.answers.items():
                if value is not None:
                    answers[(question, answer_key(value), cell)] += 1
    async with database.transaction() as session:
        await TallyRepository(session).replace(survey_id, cells, answers)
    return sum(cells.values())
