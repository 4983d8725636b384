"""The retention job removes exactly what is past its keeping time, voice notes included."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.services.retention import Retention, RetentionPolicy, RetentionReport
from storage.database import Database
from storage.files import FileStore
from storage.models import AuditEntry, ExportRecord, Resident, Story, WebChat
from tests.conftest import FakeClock
from tests.support.panel import member_row

POLICY = RetentionPolicy(raw_stories=90, inactive_residents=730, unfinished_joining=30,
                         export_records=730)  # fmt: skip


async def test_what_is_past_its_time_goes_and_the_rest_stays(
    database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    voice = FileStore(tmp_path / "voice")
    old_note, new_note = voice.save(b"old", "ogg"), voice.save(b"new", "ogg")
    now = clock()
    long_ago, lately = now - timedelta(days=800), now - timedelta(days=5)
    month_ago = now - timedelta(days=40)
    async with database.transaction() as session:
        rows = [
            member_row(1, long_ago, updated_at=long_ago),  # inactive member: erased
            member_row(2, long_ago, updated_at=lately),  # active member: stays
            member_row(3, now, status="joining", step="postcode", updated_at=month_ago),
            member_row(4, now, status="joining", step="postcode", updated_at=lately),
        ]
        residents = [Resident(**row) for row in rows]
        session.add_all(residents)
        await session.flush()
        told = {"resident_id": residents[1].id, "language": "en", "signifiers": {},
                "quote_consent": False}  # fmt: skip
        session.add_all([
            Story(**told, raw_text="Dr Jones at 07700 900123", redacted_text="[name] at [phone]",
                  voice_files={"keys": [old_note]}, moderation="approved",
                  created_at=now - timedelta(days=100)),
            Story(**told, raw_text="Nurse Ann", redacted_text="[name]",
                  voice_files={"keys": [new_note]}, moderation="new",
                  created_at=now - timedelta(days=100)),
            Story(**told, raw_text="Nurse Bea", redacted_text="[name]", voice_files={"keys": []},
                  moderation="approved", created_at=now - timedelta(days=10)),
        ])  # fmt: skip
        for days in (800, 10):
            session.add(ExportRecord(created_at=now - timedelta(days=days), actor="lead1",
                                     survey_id="gp_access", format="csv", reason="r"))  # fmt: skip
        session.add(WebChat(token_hash="a" * 64, chat_id=-77, shown={},
                            created_at=long_ago, seen_at=long_ago))  # fmt: skip
    retention = Retention(database, POLICY, voice_store=voice, clock=clock)
    assert await retention.run() == RetentionReport(1, 1, 1, 1, 1)
    assert await retention.run() == RetentionReport()  # nothing left to do
    async with database.transaction() as session:
        chats = set((await session.execute(select(Resident.chat_id))).scalars())
        stories = {s.raw_text: s for s in (await session.execute(select(Story))).scalars()}
        records = await session.scalar(select(func.count()).select_from(ExportRecord))
        web_chats = await session.scalar(select(func.count()).select_from(WebChat))
        audited = await session.scalar(
            select(func.count()).where(AuditEntry.action == "retention.run")
        )
    assert chats == {2, 4}
    assert set(stories) == {"[name] at [phone]", "Nurse Ann", "Nurse Bea"}  # only the old one
    assert stories["[name] at [phone]"].voice_files == {"keys": []}
    assert not voice.path(old_note).exists() and voice.path(new_note).exists()
    assert records == 1 and web_chats == 0 and audited == 2
