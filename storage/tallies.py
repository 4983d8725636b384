"""Tallies of sent responses per profile cell: written when a response is sent, read by results."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AnswerTally, RespondentTally, SurveyRun

Insert = Callable[..., Any]
_INSERTS: dict[str, Insert] = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}


class TallyRepository:
    """Adds to, reads and rebuilds the tallies of one survey, in the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_response(self, survey_id: str, cell: str, answers: Mapping[str, str]) -> None:
        """Count one sent response: its cell, and each of its answers (as JSON text)."""
        await self._add(RespondentTally, [{"survey_id": survey_id, "cell": cell}], 1)
        rows = [
            {"survey_id": survey_id, "question_id": q, "value": v, "cell": cell}
            for q, v in answers.items()
        ]
        if rows:
            await self._add(AnswerTally, rows, 1)

    async def _add(self, table: Any, rows: list[dict[str, Any]], by: int) -> None:
        connection = await self.session.connection()
        upsert = _INSERTS[connection.dialect.name]
        statement = upsert(table).values(count=by)
        statement = statement.on_conflict_do_update(
            index_elements=[c.name for c in table.__table__.primary_key.columns],
            set_={"count": table.__table__.c.count + statement.excluded.count},
        )
        for row in rows:
            await connection.execute(statement.values(**row))

    async def cells(self, survey_id: str) -> dict[str, int]:
        """Respondents per cell."""
        query = select(RespondentTally.cell, RespondentTally.count).where(
            RespondentTally.survey_id == survey_id
        )
        return {cell: int(n) for cell, n in await self.session.execute(query)}

    async def answers(self, survey_id: str) -> list[tuple[str, str, str, int]]:
        """(question, value, cell, count) for every tallied answer."""
        query = select(
            AnswerTally.question_id, AnswerTally.value, AnswerTally.cell, AnswerTally.count
        ).where(AnswerTally.survey_id == survey_id)
        return [(q, v, c, int(n)) for q, v, c, n in await self.session.execute(query)]

    async def sent(self, survey_id: str) -> int:
        """How many responses to the survey are sent (to check the tallies against)."""
        query = (
            select(func.count())
            .select_from(SurveyRun)
            .where(SurveyRun.survey_id == survey_id, SurveyRun.status == "submitted")
        )
        return int((await self.session.execute(query)).scalar_one())

    async def replace(
        self, survey_id: str, cells: Counter[str], answers: Counter[tuple[str, str, str]]
    ) -> None:
        """Put freshly counted tallies in place of a survey's old ones."""
        await self.session.execute(
            delete(RespondentTally).where(RespondentTally.survey_id == survey_id)
        )
        await self.session.execute(delete(AnswerTally).where(AnswerTally.survey_id == survey_id))
        connection = await self.session.connection()
        if cells:
            rows = [{"survey_id": survey_id, "cell": c, "count": n} for c, n in cells.items()]
            await connection.execute(insert(RespondentTally), rows)
        if answers:
            await connection.execute(
                insert(AnswerTally),
                [
                    {"survey_id": survey_id, "question_id": q, "value": v, "cell": c, "count": n}
                    for (q, v, c), n in answers.items()
                ],
            )
