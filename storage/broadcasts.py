"""Broadcasts and their outbox rows: who is in an audience, making, cancelling and reporting."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, insert, literal, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Broadcast,
    OutboxMessage,
    ProfileAnswer,
    Resident,
    SurveyRun,
    UtcDateTime,
)


@dataclass(frozen=True)
class Audience:
    """Members to reach: in some localities (none: everywhere), with some profile answers,
    or (for "you said, we did") exactly those who answered a survey."""

    localities: tuple[str, ...] = ()
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    answered: str | None = None

    def to_json(self) -> dict[str, Any]:
        """As stored with the broadcast."""
        return {
            "localities": list(self.localities),
            "filters": {feature: list(values) for feature, values in self.filters.items()},
            "answered": self.answered,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Audience:
        """Back from the stored form."""
        filters = {str(f): tuple(str(v) for v in values) for f, values in data["filters"].items()}
        return cls(tuple(data["localities"]), filters, data.get("answered"))


def reachable(audience: Audience) -> ColumnElement[bool]:
    """Members in the audience who still want consultations and have not blocked the bot."""
    conditions: list[ColumnElement[bool]] = [
        Resident.status == "member",
        Resident.consultations_stopped.is_(False),
        Resident.blocked_at.is_(None),
    ]
    if audience.localities:
        conditions.append(Resident.locality.in_(audience.localities))
    for feature, values in audience.filters.items():
        conditions.append(
            exists().where(
                ProfileAnswer.resident_id == Resident.id,
                ProfileAnswer.feature == feature,
                ProfileAnswer.value.in_(values),
            )
        )
    if audience.answered is not None:
        conditions.append(
            exists().where(
                SurveyRun.resident_id == Resident.id,
                SurveyRun.survey_id == audience.answered,
                SurveyRun.status == "submitted",
            )
        )
    return and_(true(), *conditions)


class BroadcastRepository:
    """Broadcasts and their outbox, inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def count(self, audience: Audience) -> int:
        """How many members a broadcast to this audience would reach now."""
        query = select(func.count()).select_from(Resident).where(reachable(audience))
        return int((await self.session.execute(query)).scalar_one())

    async def create(self, broadcast: Broadcast, audience: Audience) -> Broadcast:
        """Store a broadcast and one outbox row per recipient, together."""
        return await self._queue(broadcast, reachable(audience))

    async def notify(self, notice: str, resident_ids: list[int], now: datetime) -> Broadcast:
        """A service notice (its key in `text`) to named residents, through the outbox."""
        broadcast = Broadcast(
            created_at=now,
            kind="notice",
            text=notice,
            audience={"residents": resident_ids},
            send_at=now,
            urgent=False,
            status="scheduled",
            recipients=0,
        )
        return await self._queue(broadcast, Resident.id.in_(resident_ids))

    async def _queue(self, broadcast: Broadcast, who: ColumnElement[bool]) -> Broadcast:
        """Store a broadcast and an outbox row for each resident `who` selects."""
        self.session.add(broadcast)
        await self.session.flush()
        recipients = select(
            literal(broadcast.id),
            Resident.id,
            Resident.chat_id,
            literal("pending"),
            literal(0),
            literal(broadcast.send_at, UtcDateTime()),
        ).where(who)
        columns = ["broadcast_id", "resident_id", "chat_id", "status", "attempts", "not_before"]
        result = await self.session.execute(insert(OutboxMessage).from_select(columns, recipients))
        broadcast.recipients = int(getattr(result, "rowcount", 0) or 0)
        return broadcast

    async def get(self, broadcast_id: int) -> Broadcast | None:
        """One broadcast."""
        return await self.session.get(Broadcast, broadcast_id)

    async def upcoming(self, created_by: int | None, now: datetime) -> list[Broadcast]:
        """Broadcasts not yet due (those of one sender, or all), soonest first."""
        query = select(Broadcast).where(Broadcast.status == "scheduled", Broadcast.send_at > now)
        if created_by is not None:
            query = query.where(Broadcast.created_by == created_by)
        return list((await self.session.execute(query.order_by(Broadcast.send_at))).scalars())

    async def recent(self, created_by: int | None, limit: int = 5) -> list[Broadcast]:
        """The newest broadcasts (of one sender, or all)."""
        query = select(Broadcast)
        if created_by is not None:
            query = query.where(Broadcast.created_by == created_by)
        query = query.order_by(Broadcast.id.desc()).limit(limit)
        return list((await self.session.execute(query)).scalars())

    async def cancel(self, broadcast: Broadcast, now: datetime) -> int:
        """Cancel a broadcast; its messages not yet sent are dropped. How many were."""
        broadcast.status = "cancelled"
        broadcast.cancelled_at = now
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.broadcast_id == broadcast.id, OutboxMessage.status == "pending")
            .values(status="cancelled")
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def delivery(self, broadcast_id: int) -> dict[str, int]:
        """How many of a broadcast's messages are in each state."""
        query = (
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.broadcast_id == broadcast_id)
            .group_by(OutboxMessage.status)
        )
        return {status: int(count) for status, count in await self.session.execute(query)}

    async def responded(self, broadcast: Broadcast) -> int:
        """Recipients who answered: started the survey it invited to, or wrote back, since."""
        sent = select(OutboxMessage.resident_id).where(
            OutboxMessage.broadcast_id == broadcast.id, OutboxMessage.status == "sent"
        )
        if broadcast.survey_id is not None and broadcast.kind == "survey":
            query = select(func.count(func.distinct(SurveyRun.resident_id))).where(
                SurveyRun.resident_id.in_(sent),
                SurveyRun.survey_id == broadcast.survey_id,
                SurveyRun.started_at >= broadcast.send_at,
            )
        else:
            query = select(func.count()).where(
                Resident.id.in_(sent), Resident.updated_at > broadcast.send_at
            )
        return int((await self.session.execute(query)).scalar_one())
