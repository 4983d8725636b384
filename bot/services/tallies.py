"""Results counted as responses are sent, so the dashboard never reads a million answers.

Each sent response adds one to its respondent's profile cell and to each of its answers in that
cell. If the tallies and the sent responses ever disagree (tallies from before they existed,
or responses erased since), the survey's tallies are counted again from the answers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from bot.services.kept_responses import keep_unkept
from bot.services.results import answer_key
from bot.surveys import Survey
from storage.database import Database
from storage.exports import kept_responses
from storage.tallies import TallyRepository, WeightedSum


async def count_response(
    tallies: TallyRepository, survey: Survey, cell: str, answers: Mapping[str, Any]
) -> None:
    """Add one sent response from a profile cell to the tallies (in the sending transaction)."""
    given = {q: answer_key(v, _type(survey, q)) for q, v in answers.items() if v is not None}
    await tallies.add_response(survey.id, cell, given)


def _type(survey: Survey, question_id: str) -> str:
    question = survey.question(question_id)
    return question.type if question is not None else ""


async def current_cells(database: Database, survey: Survey) -> dict[str, int]:
    """Respondents per profile cell, the tallies counted again first if they disagree."""
    async with database.transaction() as session:
        tallies = TallyRepository(session)
        cells = await tallies.cells(survey.id)
        if sum(cells.values()) == await tallies.sent(survey.id):
            return cells
    await recount(database, survey)
    async with database.transaction() as session:
        return await TallyRepository(session).cells(survey.id)


async def weighted_sums(
    database: Database, survey: Survey, weights: Mapping[str, tuple[float, str | None]]
) -> list[WeightedSum]:
    """Each answer's count and weighted sums per group (see TallyRepository.weighted_sums)."""
    async with database.transaction() as session:
        return await TallyRepository(session).weighted_sums(survey.id, weights)


async def recount(database: Database, survey: Survey) -> int:
    """Count a survey's tallies again from its sent responses; how many there are."""
    cells: Counter[str] = Counter()
    answers: Counter[tuple[str, str, str]] = Counter()
    totals: dict[tuple[str, str, str], float] = {}
    await keep_unkept(database, survey)
    async for page in kept_responses(database, survey.id):
        for _run, cell, response in page:
            cells[cell] += 1
            for question, value in response.items():
                if value is not None:
                    key, number = answer_key(value, _type(survey, question))
                    answers[(question, key, cell)] += 1
                    totals[(question, key, cell)] = totals.get((question, key, cell), 0.0) + number
    async with database.transaction() as session:
        await TallyRepository(session).replace(survey.id, cells, answers, totals)
    return sum(cells.values())
