"""Tallies of sent responses per profile cell: written when a response is sent, read by results."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.driver import fetch_all
from storage.models import AnswerTally, RespondentTally, SurveyRun

Insert = Callable[..., Any]
# Tens of thousands of rows for a big survey: read on the driver, SQLAlchemy's rows cost double.
# The database sums tens of thousands of tallies into a few hundred rows, with each cell's weight
# and group passed in as one JSON object {cell: [weight, group]}.
_WEIGHTED_SUMS = """WITH weights AS MATERIALIZED (
  SELECT key AS cell, CAST(value ->> 0 AS DOUBLE PRECISION) AS weight, value ->> 1 AS grp
  FROM json_each({weights}))
SELECT t.question_id, t.value, w.grp, sum(t.count), sum(t.count * w.weight), sum(t.total),
  sum(t.total * w.weight)
FROM answer_tallies t JOIN weights w ON w.cell = t.cell
WHERE t.survey_id = :survey_id GROUP BY t.question_id, t.value, w.grp"""
_JSON_PARAMETER = {"sqlite": ":weights", "postgresql": "CAST(:weights AS json)"}
_ANSWERS = (
    "SELECT question_id, value, cell, count, total FROM answer_tallies WHERE survey_id = :survey_id"
)
Tally = tuple[str, str, str, int, float]  # question, answer key, cell, count, total
# question, answer key, group, count, Σ weight, Σ number, Σ weight × number
WeightedSum = tuple[str, str, str | None, int, float, float, float]
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
        connection = await self.session.connection()
        return await fetch_all(connection, _ANSWERS, survey_id=survey_id)  # type: ignore[return-value]

    async def weighted_sums(
        self, survey_id: str, weights: Mapping[str, tuple[float, str | None]]
    ) -> list[WeightedSum]:
        """Each answer's count and weighted sums per group, given each cell's weight and group."""
        connection = await self.session.connection()
        sql = _WEIGHTED_SUMS.format(weights=_JSON_PARAMETER[connection.dialect.name])
        rows = await fetch_all(connection, sql, survey_id=survey_id, weights=json.dumps(weights))
        return [tuple(row) for row in rows]

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
