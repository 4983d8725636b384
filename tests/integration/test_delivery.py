"""Broadcasts through the outbox to a fake Bot API with Telegram's faults (SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, time, timedelta

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select, update

from bot.channels.bot_api import BotApi
from bot.services.broadcast_text import composer
from bot.services.broadcasts import MESSAGE, SURVEY, Broadcasts, Draft, NotAllowed, Report
from bot.services.delivery import Limits, Sender
from bot.services.quiet_hours import QuietHours
from bot.services.recruitment import PLACE_OPENED, place_opened_text
from storage.broadcasts import Audience, BroadcastRepository
from storage.database import Database
from storage.models import OutboxMessage, Resident, SurveyRun
from storage.outbox import Outbox
from tests.integration.test_survey_chat import library
from tests.support.fake_bot_api import FakeBotApi, Faults
from tests.support.panel import new_member

NEVER_QUIET = QuietHours(start=time(0), end=time(0))
FAST = Limits(per_second=0, in_flight=16, poll_seconds=0.05, record_every=0.005)


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeBotApi, str]]:
    api = FakeBotApi()
    server = TestServer(api.app(), host="127.0.0.1")
    await server.start_server()
    yield api, f"http://127.0.0.1:{server.port}"
    await server.close()


async def add_members(database: Database, count: int, first: int = 1, **kwargs: object) -> None:
    """Members in two localities, alternately, half of them aged 65-74."""
    async with database.transaction() as session:
        for n in range(first, first + count):
            locality = "city_centre" if n % 2 else "east_valley"
            age = "65_74" if n % 4 < 2 else "25_34"
            member = new_member(n, locality, {"age_band": age}, now())
            for name, value in kwargs.items():
                setattr(member, name, value)
            session.add(member)


async def drain(
    database: Database,
    base_url: str,
    broadcast_id: int,
    *,
    limits: Limits = FAST,
    quiet: QuietHours = NEVER_QUIET,
    clock: Callable[[], datetime] = now,
    until: Callable[[Report], bool] = lambda report: report.pending == 0,
    seconds: float = 20.0,
) -> Report:
    """Run a sender until the broadcast's report says so (or the seconds pass)."""
    broadcasts = Broadcasts(database, clock=clock, wake=lambda: None)
    stop = asyncio.Event()
    async with BotApi(base_url, "1:TEST") as api:
        sender = Sender(
            Outbox(database),
            api,
            composer(library()),
            clock=clock,
            limits=limits,
            quiet=quiet,
            sole=database.dialect == "sqlite",
        )
        running = asyncio.create_task(sender.run(stop))
        try:
            for _ in range(int(seconds / 0.05)):
                await asyncio.sleep(0.05)
                report = await broadcasts.report(broadcast_id)
                assert report is not None
                if until(report):
                    break
        finally:
            stop.set()
            await running
    report = await broadcasts.report(broadcast_id)
    assert report is not None
    return report


EVERYONE = Audience()


async def broadcast(database: Database, audience: Audience = EVERYONE, **kwargs: object) -> int:
    service = Broadcasts(database, clock=now, wake=lambda: None)
    fields: dict[str, object] = {
        "kind": MESSAGE,
        "audience": audience,
        "send_at": now(),
        "text": "Have your say on the new clinic.",
        **kwargs,
    }
    made = await service.send(Draft(**fields), actor="test", sender=None, allowed=None)  # type: ignore[arg-type]
    return made.id


async def test_a_segment_gets_the_message_once_each_and_nobody_else_does(
    database: Database, fake: tuple[FakeBotApi, str]
) -> None:
    api, url = fake
    await add_members(database, 40)
    await add_members(database, 3, first=100, consultations_stopped=True)
    await add_members(database, 3, first=200, status="reserve")
    audience = Audience(("city_centre",), {"age_band": ("65_74",)})
    service = Broadcasts(database, clock=now, wake=lambda: None)
    expected = {n for n in range(1, 41) if n % 2 and n % 4 < 2}
    assert await service.preview(audience, None) == len(expected)
    report = await drain(database, url, await broadcast(database, audience))
    assert dict(api.received) == {chat: 1 for chat in expected}
    assert (report.recipients, report.sent, report.failed) == (len(expected), len(expected), 0)


async def test_champions_reach_only_their_own_localities(database: Database) -> None:
    service = Broadcasts(database, clock=now, wake=lambda: None)
    with pytest.raises(NotAllowed):
        await service.preview(Audience(("east_valley",)), ["city_centre"])
    with pytest.raises(NotAllowed):
        await service.preview(Audience(), ["city_centre"])  # "everyone" is beyond them
    assert await service.preview(Audience(("city_centre",)), ["city_centre"]) == 0


async def test_blocked_members_become_inactive_and_are_left_out_next_time(
    database: Database, fake: tuple[FakeBotApi, str]
) -> None:
    api, url = fake
    api.faults = Faults(blocked=frozenset({3, 7}))
    await add_members(database, 10)
    report = await drain(database, url, await broadcast(database))
    assert (report.sent, report.blocked) == (8, 2)
    async with database.transaction() as session:
        rows = await session.execute(
            select(Resident.chat_id).where(Resident.blocked_at.is_not(None))
        )
        assert set(rows.scalars()) == {3, 7}
    again = await drain(database, url, await broadcast(database))
    assert again.recipients == 8 and again.sent == 8


async def test_429_waits_as_told_and_server_errors_are_retried_without_losing_anyone(
    database: Database, fake: tuple[FakeBotApi, str]
) -> None:
    api, url = fake
    api.faults = Faults(limit_per_second=40, retry_after=1, server_error_every=9)
    await add_members(database, 120)
    report = await drain(database, url, await broadcast(database))
    assert api.answers[429] > 0 and api.answers[500] > 0
    assert dict(api.received) == {chat: 1 for chat in range(1, 121)}
    assert (report.sent, report.failed, report.pending) == (120, 0, 0)


async def test_someone_who_stops_before_the_send_is_skipped(
    database: Database, fake: tuple[FakeBotApi, str]
) -> None:
    api, url = fake
    await add_members(database, 6)
    later = now() + timedelta(seconds=1)
    made = await broadcast(database, send_at=later)
    async with database.transaction() as session:
        await session.execute(
            update(Resident).where(Resident.chat_id == 2).values(consultations_stopped=True)
        )
    report = await drain(database, url, made)
    assert 2 not in api.received and report.sent == 5 and report.skipped == 1


async def test_nothing_but_urgent_news_goes_out_in_quiet_hours(
    database: Database, fake: tuple[FakeBotApi, str]
) -> None:
    api, url = fake
    await add_members(database, 4)
    night = QuietHours()  # 21:00-09:00 UK time
    late = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)
    calm = await broadcast(database, send_at=late - timedelta(minutes=5))
    report = await drain(
        database, url, calm, quiet=night, clock=lambda: late, until=lambda _r: False, seconds=1
    )
    assert report.sent == 0 and api.calls == 0 and report.pending == 4
    async with database.transaction() as session:  # not this one, for the next test's sake
        await session.execute(update(OutboxMessage).values(status="cancelled"))
    urgent = await broadcast(database, send_at=late - timedelta(minutes=5), urgent=True)
    report = await drain(database, url, urgent, quiet=night, clock=lambda: late)
    assert report.sent == 4


async def test_a_cancelled_broadcast_sends_nothing(
    database: Database, fake: tuple[FakeBotApi, str]
) -> None:
    api, url = fake
    await add_members(database, 5)
    made = await broadcast(database, send_at=now() + timedelta(hours=2))
    service = Broadcasts(database, clock=now, wake=lambda: None)
    with pytest.raises(NotAllowed):
        await service.cancel(made, actor="test", sender=999)  # not theirs
    assert await service.cancel(made, actor="test", sender=None) == 5
    report = await drain(database, url, made)
    assert api.calls == 0 and report.status == "cancelled" and report.sent == 0


async def test_you_said_we_did_reaches_exactly_those_who_answered(
    database: Database, fake: tuple[FakeBotApi, str]
) -> None:
    api, url = fake
    await add_members(database, 6)
    async with database.transaction() as session:
        ids = dict((await session.execute(select(Resident.chat_id, Resident.id))).tuples().all())
        for chat, status in ((1, "submitted"), (2, "active"), (4, "submitted")):
            session.add(
                SurveyRun(
                    resident_id=ids[chat],
                    survey_id="branching",
                    survey_version=3,
                    status=status,
                    state={},
                    started_at=now(),
                    updated_at=now(),
                    reminders_sent=0,
                )
            )
    made = await broadcast(
        database, Audience(answered="branching"), text="You said the clinic opened too late."
    )
    await drain(database, url, made)
    assert dict(api.received) == {1: 1, 4: 1}


async def test_a_survey_invitation_carries_a_start_button_in_the_residents_language(
    database: Database, fake: tuple[FakeBotApi, str]
) -> None:
    api, url = fake
    await add_members(database, 2)
    async with database.transaction() as session:
        await session.execute(update(Resident).where(Resident.chat_id == 2).values(language="cy"))
    api.keep_payloads = True
    made = await broadcast(database, kind=SURVEY, survey_id="branching", text="")
    await drain(database, url, made)
    by_chat = {message["chat_id"]: message for message in api.payloads}
    assert "Pets and wellbeing" in str(by_chat[1]["text"])
    assert "Anifeiliaid anwes a lles" in str(by_chat[2]["text"])
    keyboard = by_chat[1]["reply_markup"]["inline_keyboard"]  # type: ignore[index]
    assert keyboard[0][0]["callback_data"] == "n:branching"


async def test_messages_left_in_flight_by_a_dead_sender_are_sent_after_a_restart(
    database: Database, fake: tuple[FakeBotApi, str]
) -> None:
    api, url = fake
    await add_members(database, 5)
    made = await broadcast(database)
    claimed = await Outbox(database).claim(3, now(), daytime=True)  # then the sender "dies"
    assert len(claimed) == 3
    if database.dialect == "postgresql":  # several senders: only an expired lease is taken back
        async with database.transaction() as session:
            await session.execute(
                update(OutboxMessage).values(claimed_at=now() - timedelta(minutes=10))
            )
    report = await drain(database, url, made)
    assert dict(api.received) == {chat: 1 for chat in range(1, 6)}
    assert report.sent == 5


async def test_a_notice_goes_to_named_residents_in_their_own_language(
    database: Database, fake: tuple[FakeBotApi, str]
) -> None:
    api, url = fake
    api.keep_payloads = True
    await add_members(database, 3)
    async with database.transaction() as session:
        await session.execute(update(Resident).where(Resident.chat_id == 2).values(language="cy"))
        ids = dict((await session.execute(select(Resident.chat_id, Resident.id))).tuples().all())
        notice = await BroadcastRepository(session).notify(PLACE_OPENED, [ids[1], ids[2]], now())
    await drain(database, url, notice.id)
    texts = {message["chat_id"]: message["text"] for message in api.payloads}
    assert texts == {1: place_opened_text("en"), 2: place_opened_text("cy")}
