"""Broadcasts: a message or survey invitation to an audience, now or later, and its report."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime

from storage.audit import audit
from storage.broadcasts import Audience, BroadcastRepository
from storage.database import Database
from storage.models import Broadcast

MESSAGE, SURVEY = "message", "survey"
MAX_TEXT = 3500  # leaves room for the stop line under Telegram's 4,096 characters


class NotAllowed(Exception):
    """The sender may not reach that audience, or the broadcast is not theirs to change."""


@dataclass(frozen=True)
class Draft:
    """A broadcast as its sender describes it."""

    kind: str
    audience: Audience
    send_at: datetime
    text: str = ""
    survey_id: str | None = None
    urgent: bool = False


@dataclass(frozen=True)
class Report:
    """How a broadcast went."""

    broadcast_id: int
    status: str
    recipients: int
    pending: int
    sent: int
    blocked: int
    failed: int
    skipped: int
    responded: int


def within(localities: Collection[str], allowed: Collection[str] | None) -> bool:
    """Whether an audience stays inside the localities a sender may reach (None: anywhere)."""
    if allowed is None:
        return True
    return bool(localities) and set(localities) <= set(allowed)


class Broadcasts:
    """Makes, cancels and reports broadcasts; the sender does the sending."""

    def __init__(
        self, database: Database, *, clock: Callable[[], datetime], wake: Callable[[], None]
    ) -> None:
        self.database = database
        self.clock = clock
        self.wake = wake  # tells the sender there is something new

    async def preview(self, audience: Audience, allowed: Collection[str] | None) -> int:
        """The exact number of members the broadcast would reach now."""
        if not within(audience.localities, allowed):
            raise NotAllowed("outside the sender's localities")
        async with self.database.transaction() as session:
            return await BroadcastRepository(session).count(audience)

    async def send(
        self, draft: Draft, *, actor: str, sender: int | None, allowed: Collection[str] | None
    ) -> Broadcast:
        """Store the broadcast with its outbox, in one transaction, and wake the sender."""
        if not within(draft.audience.localities, allowed):
            raise NotAllowed("outside the sender's localities")
        if draft.kind not in (MESSAGE, SURVEY) or (draft.kind == SURVEY) != bool(draft.survey_id):
            raise ValueError("a broadcast is a message, or an invitation to one survey")
        if draft.kind == MESSAGE and not 0 < len(draft.text.strip()) <= MAX_TEXT:
            raise ValueError(f"a message has 1 to {MAX_TEXT} characters")
        now = self.clock()
        async with self.database.transaction() as session:
            broadcast = await BroadcastRepository(session).create(
                Broadcast(
                    created_by=sender,
                    created_at=now,
                    kind=draft.kind,
                    text=draft.text.strip(),
                    survey_id=draft.survey_id,
                    audience=draft.audience.to_json(),
                    send_at=max(draft.send_at, now),
                    urgent=draft.urgent,
                    status="scheduled",
                    recipients=0,
                ),
                draft.audience,
            )
            details = {"broadcast": broadcast.id, "recipients": broadcast.recipients}
            audit(session, actor, "broadcast.create", details, now)
        self.wake()
        return broadcast

    async def cancel(self, broadcast_id: int, *, actor: str, sender: int | None) -> int | None:
        """Cancel a broadcast (a sender's own, or any for `sender=None`); messages dropped."""
        now = self.clock()
        async with self.database.transaction() as session:
            broadcasts = BroadcastRepository(session)
            broadcast = await broadcasts.get(broadcast_id)
            if broadcast is None or (sender is not None and broadcast.created_by != sender):
                raise NotAllowed("not a broadcast of this sender")
            if broadcast.status != "scheduled":
                return None
            dropped = await broadcasts.cancel(broadcast, now)
            audit(session, actor, "broadcast.cancel", {"broadcast": broadcast_id}, now)
        return dropped

    async def report(self, broadcast_id: int) -> Report | None:
        """Sent, blocked, failed and responded so far."""
        async with self.database.transaction() as session:
            broadcasts = BroadcastRepository(session)
            broadcast = await broadcasts.get(broadcast_id)
            if broadcast is None:
                return None
            counts = await broadcasts.delivery(broadcast_id)
            responded = await broadcasts.responded(broadcast)
        return Report(
            broadcast.id,
            broadcast.status,
            broadcast.recipients,
            counts.get("pending", 0) + counts.get("sending", 0),
            counts.get("sent", 0),
            counts.get("blocked", 0),
            counts.get("failed", 0),
            counts.get("skipped", 0) + counts.get("cancelled", 0),
            responded,
        )
