"""Aggregate queries for the dashboard: counts only, never a row about a person."""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Resident, Story, SurveyRun


class DashboardRepository:
    """Counts over the panel, surveys and stories."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def residents_by_status(self) -> dict[str, int]:
        """Residents per status (member, reserve, joining)."""
        query = select(Resident.status, func.count()).group_by(Resident.status)
        return {status: int(n) for status, n in await self.session.execute(query)}

    async def stopped_and_blocked(self) -> tuple[int, int]:
        """Members who stopped consultations, and who blocked the bot."""
        stopped = (Resident.status == "member") & Resident.consultations_stopped.is_(True)
        query = select(func.count().filter(stopped), func.count(Resident.blocked_at))
        found, blocked = (await self.session.execute(query)).one()
        return int(found), int(blocked)

    async def joined_between(self, bounds: list[datetime]) -> list[int]:
        """Members who joined in each span between consecutive moments."""
        # One range count per span reads only that span of the (status, joined_at) index.
        counts = []
        for start, end in pairwise(bounds):
            span = select(func.count()).where(
                Resident.status == "member", Resident.joined_at >= start, Resident.joined_at < end
            )
            counts.append(int((await self.session.execute(span)).scalar_one()))
        return counts

    async def runs_by_survey(self) -> dict[tuple[str, str], int]:
        """Survey runs per (survey, status)."""
        query = select(SurveyRun.survey_id, SurveyRun.status, func.count()).group_by(
            SurveyRun.survey_id, SurveyRun.status
        )
        return {(survey, status): int(n) for survey, status, n in await self.session.execute(query)}

    async def stories_by_state(self) -> dict[str, int]:
        """Stories per moderation state."""
        query = select(Story.moderation, func.count()).group_by(Story.moderation)
        return {state: int(n) for state, n in await self.session.execute(query)}

    async def stories(self, state: str, limit: int, offset: int = 0) -> list[Story]:
        """Stories in one moderation state, oldest first (the queue) or newest first (the wall)."""
        order = Story.id if state == "new" else Story.id.desc()
        query = (
            select(Story)
            .where(Story.moderation == state)
            .order_by(order)
            .limit(limit)
            .offset(offset)
        )
        return list((await self.session.execute(query)).scalars())

    async def story(self, story_id: int) -> Story | None:
        """One story, for moderation."""
        return await self.session.get(Story, story_id)

    async def approved_signifiers(self) -> list[dict[str, Any]]:
        """The signifiers of every approved story (for patterns across them)."""
        query = select(Story.signifiers).where(Story.moderation == "approved")
        return list((await self.session.execute(query)).scalars())
