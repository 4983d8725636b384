"""Repositories: the only place that builds queries for residents, consent and updates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import ConsentRecord, ProcessedUpdate, ProfileAnswer, Resident, Role


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
        """Record an update; False when it was processed before."""
        try:
            async with self.session.begin_nested():
                self.session.add(ProcessedUpdate(update_key=update_key, processed_at=now))
        except IntegrityError:
            return False
        return True
