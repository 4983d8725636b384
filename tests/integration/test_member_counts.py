"""The member counts kept by triggers always equal a count over residents and their profiles."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import delete, select, text, update

from storage.database import Database
from storage.models import MemberCount, ProfileAnswer, Resident
from tests.support.panel import member_row

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
PLACES = ("north", "south", None)
FEATURES = {"age_band": ("16_24", "65_74"), "sex": ("female", "male"), "carer": ("yes", "no")}
STATUSES = ("joining", "member", "reserve")

_COUNTED = text(
    """SELECT coalesce(r.locality, ''), '*', '*', count(*) FROM residents r
    WHERE r.status = 'member' GROUP BY coalesce(r.locality, '')
    UNION ALL
    SELECT coalesce(r.locality, ''), p.feature, p.value, count(*)
    FROM profile_answers p JOIN residents r ON r.id = p.resident_id
    WHERE r.status = 'member' GROUP BY coalesce(r.locality, ''), p.feature, p.value"""
)


async def _kept_and_counted(database: Database) -> tuple[Counter[tuple], Counter[tuple]]:
    async with database.transaction() as session:
        kept = Counter(
            {
                (row.locality, row.feature, row.value): row.members
                for row in (await session.execute(select(MemberCount))).scalars()
                if row.members
            }
        )
        counted = Counter({tuple(row[:3]): row[3] for row in await session.execute(_COUNTED)})
    return kept, counted


async def _step(database: Database, chooser: random.Random, chat: int) -> str:
    """One random change to residents or profiles; returns its name."""
    async with database.transaction() as session:
        ids = list((await session.execute(select(Resident.id))).scalars())
        action = chooser.choice(
            ["add", "add", "answer", "answer", "status", "move", "change", "unanswer", "forget"]
        )
        if action == "add" or not ids:
            resident = Resident(
                **member_row(chat, NOW, status=chooser.choice(STATUSES),
                             locality=chooser.choice(PLACES))
            )  # fmt: skip
            resident.profile = [
                ProfileAnswer(feature=f, value=chooser.choice(v), answered_at=NOW)
                for f, v in FEATURES.items()
                if chooser.random() < 0.7
            ]
            session.add(resident)
            return "add"
        target = chooser.choice(ids)
        if action == "answer":
            feature = chooser.choice(list(FEATURES))
            exists = await session.scalar(
                select(ProfileAnswer.id).where(
                    ProfileAnswer.resident_id == target, ProfileAnswer.feature == feature
                )
            )
            if exists is None:
                value = chooser.choice(FEATURES[feature])
                session.add(
                    ProfileAnswer(resident_id=target, feature=feature, value=value, answered_at=NOW)
                )
        elif action == "status":
            change = update(Resident).where(Resident.id == target)
            await session.execute(change.values(status=chooser.choice(STATUSES)))
        elif action == "move":
            change = update(Resident).where(Resident.id == target)
            await session.execute(change.values(locality=chooser.choice(PLACES)))
        elif action == "change":
            value = chooser.choice(FEATURES["sex"])
            await session.execute(
                update(ProfileAnswer)
                .where(ProfileAnswer.resident_id == target, ProfileAnswer.feature == "sex")
                .values(value=value)
            )
        elif action == "unanswer":
            await session.execute(
                delete(ProfileAnswer).where(
                    ProfileAnswer.resident_id == target, ProfileAnswer.feature == "carer"
                )
            )
        else:  # as /forgetme does: the ORM deletes the resident, the database cascades
            resident = await session.get(Resident, target)
            assert resident is not None
            await session.delete(resident)
        return action


async def test_counts_follow_every_change(database: Database) -> None:
    chooser = random.Random(2026)
    actions: Counter[str] = Counter()
    for chat in range(1, 241):
        actions[await _step(database, chooser, chat)] += 1
        kept, counted = await _kept_and_counted(database)
        assert kept == counted, f"after step {chat} ({actions})"
    assert min(actions.values()) >= 10  # every kind of change was tried
    assert sum(kept.values()) > 0
