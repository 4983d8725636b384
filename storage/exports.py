"""Reads for exports: sent responses, a page at a time (keyset pages: memory stays flat)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import Database
from storage.models import ProfileAnswer, Resident, SurveyRun

PAGE = 5000


@dataclass
class Response:
    """One sent response: its run, the respondent's locality and profile, and the answers."""

    run_id: int
    profile: dict[str, str]
    answers: dict[str, tuple[Any, str | None]] = field(default_factory=dict)  # value, redacted


async def responses(
    database: Database, survey_id: str, *, with_answers: bool = True, page: int = PAGE
) -> AsyncIterator[list[Response]]:
    """Every sent response of a survey, in run order, a page at a time."""
    last = 0
    while True:
        async with database.transaction() as session:
            runs = await _runs_after(session, survey_id, last, page)
            if not runs:
                return
            profiles = await _profiles(session, {resident: loc for _r, resident, loc in runs})
            found = {run: Response(run, profiles[resident]) for run, resident, _loc in runs}
            if with_answers:
                await _add_answers(session, found)
        yield list(found.values())
        last = runs[-1][0]


async def _runs_after(
    session: AsyncSession, survey_id: str, last: int, page: int
) -> list[tuple[int, int, str | None]]:
    """The next page of sent runs: (run, resident, locality)."""
    query = (
        select(SurveyRun.id, SurveyRun.resident_id, Resident.locality)
        .join(Resident, Resident.id == SurveyRun.resident_id)
        .where(
            SurveyRun.survey_id == survey_id,
            SurveyRun.status == "submitted",
            SurveyRun.id > last,
        )
        .order_by(SurveyRun.id)
        .limit(page)
    )
    connection = await session.connection()  # Core rows: no ORM bookkeeping per row
    return [(run, resident, loc) for run, resident, loc in await connection.execute(query)]


async def _profiles(
    session: AsyncSession, localities: dict[int, str | None]
) -> dict[int, dict[str, str]]:
    """Each resident's locality and profile answers."""
    found = {resident: {"locality": loc or ""} for resident, loc in localities.items()}
    query = select(ProfileAnswer.resident_id, ProfileAnswer.feature, ProfileAnswer.value).where(
        ProfileAnswer.resident_id.in_(list(found))
    )
    connection = await session.connection()
    for resident, feature, value in await connection.execute(query):
        found[resident][feature] = value
    return found


_ANSWERS_BY_RUN = {
    # One row per response: every answer as {question: [{"value": ...}, redacted text]}.
    "sqlite": "SELECT run_id, json_group_object(question_id, json_array(json(value), "
    "redacted_text)) FROM survey_answers WHERE run_id IN :runs GROUP BY run_id",
    "postgresql": "SELECT run_id, json_object_agg(question_id, json_build_array(value, "
    "redacted_text))::text FROM survey_answers WHERE run_id IN :runs GROUP BY run_id",
}


async def _add_answers(session: AsyncSession, found: dict[int, Response]) -> None:
    """Fill in each response's answers (gathered by the database, one row per response)."""
    connection = await session.connection()
    sql = _ANSWERS_BY_RUN[connection.dialect.name]
    query = text(sql).bindparams(bindparam("runs", expanding=True))
    for run, gathered in await connection.execute(query, {"runs": list(found)}):
        answers = found[run].answers
        for question, (value, redacted) in json.loads(gathered).items():
            answers[question] = (value.get("value"), redacted)
