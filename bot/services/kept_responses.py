"""Sent responses kept whole for sharing, so an export reads one row per response.

Each keeps the respondent's profile cell when they sent it and every answer, free text only in
its redacted form. They are made as a response is sent; older ones are made on first need.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.services.results import COUNTED, respondent_cell
from bot.surveys import Survey
from storage.database import Database
from storage.exports import keep, unkept_responses

SHARED_AS_GIVEN = (*COUNTED, "number")  # every other answer is shared only as redacted text


def shareable(survey: Survey, answers: Mapping[str, tuple[Any, str | None]]) -> dict[str, Any]:
    """{question: answer}: choices and numbers as given, free text only redacted (or None)."""
    kept: dict[str, Any] = {}
    for question_id, (value, redacted) in answers.items():
        if value is None:
            continue
        question = survey.question(question_id)
        if question is not None and question.type in SHARED_AS_GIVEN:
            kept[question_id] = list(value) if isinstance(value, tuple) else value
        else:
            kept[question_id] = redacted or None
    return kept


async def keep_unkept(database: Database, survey: Survey) -> int:
    """Make the kept form of every sent response still without one; how many were made."""
    made = 0
    async for page in unkept_responses(database, survey.id):
        rows = [
            {
                "id": found.run_id,
                "cell": respondent_cell(found.profile),
                "response": shareable(survey, found.answers),
            }
            for found in page
        ]
        await keep(database, rows)
        made += len(rows)
    return made
