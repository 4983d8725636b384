"""Repositories: the only place that builds queries for residents, consent and updates."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Select, bindparam, delete, func, inspect, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from storage.models import (
    AreaPack,
    ConsentRecord,
    MemberCount,
    ProcessedUpdate,
    ProfileAnswer,
    Resident,
    Role,
    Selection,
    Story,
    SurveyAnswer,
    SurveyRun,
    WebChat,
)


def _per_dialect(build: Callable[[Callable[..., Any]], Any]) -> dict[str, Any]:
    """A statement built once per dialect with its INSERT (which has ON CONFLICT on both)."""
    return {"postgresql": build(postgresql_insert), "sqlite": build(sqlite_insert)}


def _record_update(insert: Callable[..., Any]) -> Any:
    statement = insert(ProcessedUpdate).values(
        update_key=bindparam("update_key"), processed_at=bindparam("now")
    )
    return statement.on_conflict_do_nothing()


def _put_answer(insert: Callable[..., Any]) -> Any:
    statement = insert(SurveyAnswer).values(
        run_id=bindparam("run_id"),
        question_id=bindparam("question_id"),
        value=bindparam("value", type_=JSON),
        redacted_text=bindparam("redacted"),
        answered_at=bindparam("now"),
    )
    changed = ("value", "redacted_text", "answered_at")
    return statement.on_conflict_do_update(
        index_elements=["run_id", "question_id"],
        set_={name: statement.excluded[name] for name in changed},
    )


QUOTA_LOCK = 72_001  # advisory lock key held while a join is checked against the quotas
_TAKE_WRITE_LOCK = text("UPDATE area_packs SET id = id WHERE id IS NULL")

# Built once: SQLAlchemy then reuses their compiled SQL without rebuilding cache keys.
_BY_CHAT = (
    select(Resident)
    .where(Resident.channel == bindparam("channel"), Resident.chat_id == bindparam("chat_id"))
    .with_for_update()
)
_DETAILS: dict[str, Select[Any]] = {
    "profile": select(ProfileAnswer)
    .where(ProfileAnswer.resident_id == bindparam("resident_id"))
    .order_by(ProfileAnswer.id),
    "consents": select(ConsentRecord)
    .where(ConsentRecord.resident_id == bindparam("resident_id"))
    .order_by(ConsentRecord.id),
}
_ACTIVE_RUN = (
    select(SurveyRun)
    .where(SurveyRun.resident_id == bindparam("resident_id"), SurveyRun.status == "active")
    .order_by(SurveyRun.updated_at.desc())
    .limit(1)
    .with_for_update()
)
_TOUCH_RESIDENT = (
    update(Resident)
    .where(Resident.id == bindparam("resident_id"))
    .values(updated_at=bindparam("now"))
)
_SAVE_STATE = (
    update(SurveyRun)
    .where(SurveyRun.id == bindparam("run_id"))
    .values(state=bindparam("state", type_=JSON), updated_at=bindparam("now"))
)
_RECORD_UPDATE = _per_dialect(_record_update)
_PUT_ANSWER = _per_dialect(_put_answer)


class ResidentRepository:
    """Residents with their profile answers and consent records."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_chat(self, channel: str, chat_id: int) -> Resident | None:
        """The resident in a chat, locked for update (profile and consents not yet loaded)."""
        result = await self.session.execute(_BY_CHAT, {"channel": channel, "chat_id": chat_id})
        return result.scalar_one_or_none()

    async def load_details(self, resident: Resident) -> None:
        """Load a resident's profile answers and consent records, if not loaded yet."""
        unloaded = inspect(resident).unloaded
        for name, query in _DETAILS.items():
            # One plain query each: a refresh would select the resident again, then lazy-load.
            if name in unloaded:
                found = await self.session.execute(query, {"resident_id": resident.id})
                set_committed_value(resident, name, list(found.scalars()))

    async def touch(self, resident: Resident, now: datetime) -> None:
        """Mark a resident as active now (one statement, not a unit-of-work flush)."""
        if resident.id is None:
            resident.updated_at = now
            return
        connection = await self.session.connection()
        await connection.execute(_TOUCH_RESIDENT, {"resident_id": resident.id, "now": now})
        set_committed_value(resident, "updated_at", now)

    def add(self, resident: Resident) -> None:
        """Stage a new resident."""
        self.session.add(resident)

    async def erase(self, resident: Resident) -> None:
        """Hard-delete a resident and everything held about them."""
        await self.session.execute(delete(Role).where(Role.chat_id == resident.chat_id))
        await self.session.execute(delete(WebChat).where(WebChat.chat_id == resident.chat_id))
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
        # On the connection: given parameters, a session would run an ORM bulk insert instead.
        connection = await self.session.connection()
        statement = _RECORD_UPDATE[connection.dialect.name]
        result = await connection.execute(statement, {"update_key": update_key, "now": now})
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
        result = await self.session.execute(_ACTIVE_RUN, {"resident_id": resident_id})
        return result.scalar_one_or_none()

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

    async def save_state(self, run: SurveyRun, state: dict[str, Any], now: datetime) -> None:
        """Write a run's engine state (one statement, not a unit-of-work flush)."""
        connection = await self.session.connection()
        await connection.execute(_SAVE_STATE, {"run_id": run.id, "state": state, "now": now})
        set_committed_value(run, "state", state)
        set_committed_value(run, "updated_at", now)

    async def put_answer(
        self, run_id: int, question_id: str, value: object, redacted: str | None, now: datetime
    ) -> None:
        """Insert or replace one answer of a run."""
        connection = await self.session.connection()
        await connection.execute(
            _PUT_ANSWER[connection.dialect.name],
            {
                "run_id": run_id,
                "question_id": question_id,
                "value": {"value": value},
                "redacted": redacted,
                "now": now,
            },
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

    async def redacted_texts(self, run_id: int) -> dict[str, str]:
        """The redacted form of a run's free-text answers, by question."""
        query = select(SurveyAnswer.question_id, SurveyAnswer.redacted_text).where(
            SurveyAnswer.run_id == run_id, SurveyAnswer.redacted_text.is_not(None)
        )
        return {question: text for question, text in await self.session.execute(query)}

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


class AreaPackRepository:
    """Installed area packs."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def install(self, name: str, content: dict[str, Any], now: datetime) -> None:
        """Install a pack (it becomes the one in use)."""
        self.session.add(AreaPack(name=name, content=content, installed_at=now))

    async def current(self) -> AreaPack | None:
        """The newest installed pack, if any."""
        query = select(AreaPack).order_by(AreaPack.id.desc()).limit(1)
        return (await self.session.execute(query)).scalar_one_or_none()


class PanelRepository:
    """Counts over the panel's members (never individual rows)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def profile_counts(self) -> list[tuple[str | None, str, str, int]]:
        """(locality, feature, value, members) for every answer members gave."""
        query = select(MemberCount).where(MemberCount.feature != "*", MemberCount.members > 0)
        return [
            (row.locality or None, row.feature, row.value, row.members)
            for row in (await self.session.execute(query)).scalars()
        ]

    async def lock_quotas(self) -> None:
        """Serialise quota decisions across processes until the transaction ends."""
        connection = await self.session.connection()
        if connection.dialect.name == "postgresql":
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": QUOTA_LOCK}
            )
        else:  # SQLite: a write that changes nothing takes the database's single write lock
            await connection.execute(_TAKE_WRITE_LOCK)

    async def members_with(self, feature: str, values: Collection[str]) -> int:
        """How many members gave one of these answers."""
        query = select(func.coalesce(func.sum(MemberCount.members), 0)).where(
            MemberCount.feature == feature, MemberCount.value.in_(values)
        )
        return int((await self.session.execute(query)).scalar_one())

    async def members_in(self, locality: str) -> int:
        """How many members live in a locality."""
        query = select(MemberCount.members).where(
            MemberCount.locality == locality, MemberCount.feature == "*"
        )
        return int((await self.session.execute(query)).scalar_one_or_none() or 0)

    async def locality_counts(self) -> dict[str | None, int]:
        """Members per locality."""
        query = select(MemberCount).where(MemberCount.feature == "*", MemberCount.members > 0)
        rows = (await self.session.execute(query)).scalars()
        return {row.locality or None: row.members for row in rows}

    async def reserve_list(self) -> list[Resident]:
        """Residents waiting on the reserve list, longest-waiting first, with their profiles."""
        query = (
            select(Resident)
            .where(Resident.status == "reserve")
            .options(selectinload(Resident.profile))
            .order_by(Resident.joined_at, Resident.id)
            .with_for_update()
        )
        return list((await self.session.execute(query)).scalars())


class SelectionRepository:
    """The pool a sub-panel is drawn from, and the audit records of each draw."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def pool(self) -> list[Resident]:
        """Members who still want to be consulted, with their profiles, oldest first."""
        query = (
            select(Resident)
            .where(Resident.status == "member", Resident.consultations_stopped.is_(False))
            .options(selectinload(Resident.profile))
            .order_by(Resident.id)
        )
        return list((await self.session.execute(query)).scalars())

    def record(self, selection: Selection) -> None:
        """Keep the audit record of a draw."""
        self.session.add(selection)
