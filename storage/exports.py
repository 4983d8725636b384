"""Reads for exports: sent responses as kept for sharing, a page at a time (keyset pages, so
memory stays flat), and the older responses whose shareable form is still to be made."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import Database
from storage.driver import fetch_all
from storage.models import ProfileAnswer, Resident, SurveyRun

PAGE = 5000


@dataclass
class Response:
    """One sent response: its run, the respondent's locality and profile, and the answers."""

    run_id: int
    profile: dict[str, str]
    answers: dict[str, tuple[Any, str | None]] = field(default_factory=dict)  # value, redacted


KeptResponse = tuple[int, str, dict[str, Any]]  # run id, cell (JSON), shareable answers
# As text on both engines: orjson decodes it faster than asyncpg's JSON codec (json.loads).
_KEPT_AFTER = """SELECT id, cell, CAST(response AS TEXT) FROM survey_runs
WHERE survey_id = :survey_id AND status = 'submitted' AND id > :last AND cell IS NOT NULL
ORDER BY id LIMIT :page"""


async def kept_responses(
    database: Database, survey_id: str, page: int = PAGE
) -> AsyncIterator[Sequence[KeptResponse]]:
    """Every sent response's cell and shareable answers, in run order, by pages."""
    last = 0
    while True:
        async with database.transaction() as session:
            connection = await session.connection()
            rows = await fetch_all(
                connection, _KEPT_AFTER, survey_id=survey_id, last=last, page=page
            )
        if not rows:
            return
        yield [(run, cell, orjson.loads(response)) for run, cell, response in rows]
        last = rows[-1][0]


async def sent_cells(database: Database, survey_id: str) -> dict[str, int]:
    """How many kept responses there are in each cell."""
    query = (
        select(SurveyRun.cell, func.count())
        .where(SurveyRun.survey_id == survey_id, SurveyRun.status == "submitted")
        .where(SurveyRun.cell.is_not(None))
        .group_by(SurveyRun.cell)
    )
    async with database.transaction() as session:
        return {cell: int(n) for cell, n in await session.execute(query)}


async def unkept_responses(
    database: Database, survey_id: str, *, page: int = PAGE
) -> AsyncIterator[list[Response]]:
    """Sent responses not yet kept for sharing, with profile and answers, a page at a time."""
    last = 0
    while True:
        async with database.transaction() as session:
            runs = await _runs_after(session, survey_id, last, page)
            if not runs:
                return
            profiles = await _profiles(session, {resident: loc for _r, resident, loc in runs})
            found = {run: Response(run, profiles[resident]) for run, resident, _loc in runs}
            await _add_answers(session, found)
        yield list(found.values())
        last = runs[-1][0]


async def keep(database: Database, kept: Sequence[Mapping[str, Any]]) -> None:
    """Store responses' cells and shareable answers ({"id", "cell", "response"} each)."""
    async with database.transaction() as session:
        await session.execute(update(SurveyRun), list(kept))


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
            SurveyRun.cell.is_(None),
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
