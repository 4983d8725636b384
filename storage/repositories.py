"""Repositories: the only place that builds queries for residents, consent and updates."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import (
    ConsentRecord,
    ProcessedUpdate,
    ProfileAnswer,
    Resident,
    Role,
    Story,
    SurveyAnswer,
    SurveyRun,
)


def _insert_for(session: AsyncSession) -> Callable[..., Any]:
    """The dialect's INSERT, which has ON CONFLICT on both SQLite and PostgreSQL."""
    bind = session.get_bind()
    return postgresql_insert if bind.dialect.name == "postgresql" else sqlite_insert


class ResidentRepository:
    """Residents with their profile answers and consent records."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_chat(self, channel: str, chat_id: int) -> Resident | None:
        """The resident in a chat, with profile and consents loaded; locked for update."""
        query = (
            select(Resident)
            .where(Resident.channel == channel, Resident.chat_id == chat_id)
            .options(selectinload(Resident.profile), selectinload(Resident.consents))
            .with_for_update()
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    def add(self, resident: Resident) -> None:
        """Stage a new resident."""
        self.session.add(resident)

    async def erase(self, resident: Resident) -> None:
        """Hard-delete a resident and everything held about them."""
        await self.session.execute(delete(Role).where(Role.chat_id == resident.chat_id))
        await self.session.delete(resident)

    def record_consent(self, resident: Resident, record: ConsentRecord) -> None:
        """Append a consent decision."""
        resident.consents.append(record)

    def set_answer(self, resident: Resident, feature: str, value: str, now: datetime) -> None:
        """Set (or replace) one profile answer."""
        for answer in resident.profile:
            if answer.feature == feature:
                answer.value = value
                answer.answered_at = now
                return
        resident.profile.append(ProfileAnswer(feature=feature, value=value, answered_at=now))

    def clear_answer(self, resident: Resident, feature: str) -> None:
        """Remove one profile answer, if present."""
        resident.profile[:] = [a for a in resident.profile if a.feature != feature]


class UpdateLog:
    """Inbound updates already processed (for idempotent redelivery)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def first_time(self, update_key: str, now: datetime) -> bool:
        """Record an update; False when it was processed before (one statement, no savepoint)."""
        statement = _insert_for(self.session)(ProcessedUpdate).values(
            update_key=update_key, processed_at=now
        )
        result = await self.session.execute(statement.on_conflict_do_nothing())
        return bool(getattr(result, "rowcount", 0))


class SurveyRunRepository:
    """Survey runs and their answers."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def for_resident(self, resident_id: int) -> list[SurveyRun]:
        """Every run of a resident, newest first."""
        query = (
            select(SurveyRun)
            .where(SurveyRun.resident_id == resident_id)
            .options(selectinload(SurveyRun.answers))
            .order_by(SurveyRun.updated_at.desc(), SurveyRun.id.desc())
        )
        return list((await self.session.execute(query)).scalars())

    async def get(self, run_id: int, resident_id: int) -> SurveyRun | None:
        """One run of a resident, locked for update, with its answers."""
        query = (
            select(SurveyRun)
            .where(SurveyRun.id == run_id, SurveyRun.resident_id == resident_id)
            .with_for_update()
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def active(self, resident_id: int) -> SurveyRun | None:
        """The run the resident is answering now, if any."""
        query = (
            select(SurveyRun)
            .where(SurveyRun.resident_id == resident_id, SurveyRun.status == "active")
            .order_by(SurveyRun.updated_at.desc())
            .limit(1)
            .with_for_update()
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def find(self, resident_id: int, survey_id: str, version: int) -> SurveyRun | None:
        """The resident's run of one survey version, if started."""
        query = (
            select(SurveyRun)
            .where(
                SurveyRun.resident_id == resident_id,
                SurveyRun.survey_id == survey_id,
                SurveyRun.survey_version == version,
            )
            .with_for_update()
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    def add(self, run: SurveyRun) -> None:
        """Stage a new run."""
        self.session.add(run)

    async def put_answer(
        self, run_id: int, question_id: str, value: object, redacted: str | None, now: datetime
    ) -> None:
        """Insert or replace one answer of a run."""
        values = {"value": {"value": value}, "redacted_text": redacted, "answered_at": now}
        statement = _insert_for(self.session)(SurveyAnswer).values(
            run_id=run_id, question_id=question_id, **values
        )
        await self.session.execute(
            statement.on_conflict_do_update(index_elements=["run_id", "question_id"], set_=values)
        )

    async def drop_answers(self, run_id: int, question_ids: Collection[str] | None = None) -> None:
        """Remove some answers of a run (all when question_ids is None)."""
        statement = delete(SurveyAnswer).where(SurveyAnswer.run_id == run_id)
        if question_ids is not None:
            statement = statement.where(SurveyAnswer.question_id.in_(question_ids))
        await self.session.execute(statement)

    def add_story(self, story: Story) -> None:
        """Stage a new story."""
        self.session.add(story)

    async def stories_of(self, resident_id: int) -> list[Story]:
        """A resident's stories, oldest first."""
        query = select(Story).where(Story.resident_id == resident_id).order_by(Story.id)
        return list((await self.session.execute(query)).scalars())

    async def pause_others(self, resident_id: int, keep_run_id: int) -> None:
        """Pause every active run of a resident but one."""
        await self.session.execute(
            update(SurveyRun)
            .where(
                SurveyRun.resident_id == resident_id,
                SurveyRun.status == "active",
                SurveyRun.id != keep_run_id,
            )
            .values(status="paused")
        )

    async def reminder_candidates(
        self, idle_since: datetime, limit: int = 1000
    ) -> list[tuple[SurveyRun, Resident]]:
        """Unfinished runs untouched since a time, with their residents (who still want contact)."""
        query = (
            select(SurveyRun, Resident)
            .join(Resident, Resident.id == SurveyRun.resident_id)
            .where(
                SurveyRun.status.in_(("active", "paused")),
                SurveyRun.updated_at < idle_since,
                Resident.status == "member",
                Resident.consultations_stopped.is_(False),
            )
            .order_by(SurveyRun.id)
            .limit(limit)
            .with_for_update(of=SurveyRun, skip_locked=True)
        )
        return [(run, resident) for run, resident in (await self.session.execute(query)).all()]
