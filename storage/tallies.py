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
Tally = tuple[str, str, str, int, float]  # question, answer key, cell, count, total
_INSERTS: dict[str, Insert] = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}


class TallyRepository:
    """Adds to, reads and rebuilds the tallies of one survey, in the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_response(
        self, survey_id: str, cell: str, answers: Mapping[str, tuple[str, float]]
    ) -> None:
        """Count one sent response: its cell, and each answer (its key, and a number's value)."""
        connection = await self.session.connection()
        upsert = _INSERTS[connection.dialect.name]
        respondent = upsert(RespondentTally).values(survey_id=survey_id, cell=cell, count=1)
        await connection.execute(
            respondent.on_conflict_do_update(
                index_elements=["survey_id", "cell"],
                set_={"count": RespondentTally.count + respondent.excluded.count},
            )
        )
        for question, (key, number) in answers.items():
            answer = upsert(AnswerTally).values(
                survey_id=survey_id, question_id=question, value=key, cell=cell, count=1,
                total=number,
            )  # fmt: skip
            await connection.execute(
                answer.on_conflict_do_update(
                    index_elements=["survey_id", "question_id", "value", "cell"],
                    set_={
                        "count": AnswerTally.count + answer.excluded.count,
                        "total": AnswerTally.total + answer.excluded.total,
                    },
                )
            )

    async def cells(self, survey_id: str) -> dict[str, int]:
        """Respondents per cell."""
        query = select(RespondentTally.cell, RespondentTally.count).where(
            RespondentTally.survey_id == survey_id
        )
        return {cell: int(n) for cell, n in await self.session.execute(query)}

    async def answers(self, survey_id: str) -> list[Tally]:
        """(question, value, cell, count, total) for every tallied answer."""
        tally = AnswerTally
        query = select(tally.question_id, tally.value, tally.cell, tally.count, tally.total).where(
            tally.survey_id == survey_id
        )
        connection = await self.session.connection()
        return [(q, v, c, int(n), float(t)) for q, v, c, n, t in await connection.execute(query)]

    async def sent(self, survey_id: str) -> int:
        """How many responses to the survey are sent (to check the tallies against)."""
        query = (
            select(func.count())
            .select_from(SurveyRun)
            .where(SurveyRun.survey_id == survey_id, SurveyRun.status == "submitted")
        )
        return int((await self.session.execute(query)).scalar_one())

    async def replace(
        self,
        survey_id: str,
        cells: Counter[str],
        answers: Counter[tuple[str, str, str]],
        totals: Mapping[tuple[str, str, str], float],
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
                    {
                        "survey_id": survey_id,
                        "question_id": q,
                        "value": v,
                        "cell": c,
                        "count": n,
                        "total": totals.get((q, v, c), 0.0),
                    }
                    for (q, v, c), n in answers.items()
                ],
            )
