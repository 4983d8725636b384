"""The story wall: only redacted text, moderation with CSRF, hostile text escaped."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from storage.database import Database
from storage.models import AuditEntry, Story
from tests.conftest import FakeClock
from tests.support.panel import new_member
from tests.web.conftest import Browser

HOSTILE = '<script>alert("x")</script> The nurse <NAME> was kind'


async def add_stories(database: Database, clock: FakeClock, count: int) -> list[int]:
    async with database.transaction() as session:
        member = new_member(5001, "city_centre", {}, clock())
        session.add(member)
        await session.flush()
        stories = [
            Story(
                resident_id=member.id,
                language="en",
                raw_text=f"Sister Joan Smith on ward {n} was kind",
                redacted_text=HOSTILE,
                signifiers={"setting": "hospital", "feeling": 4, "mattered_most": "listened_to"},
                voice_files={"keys": []},
                quote_consent=n % 2 == 0,
                moderation="new",
                created_at=clock(),
            )
            for n in range(count)
        ]
        session.add_all(stories)
        await session.flush()
        return [story.id for story in stories]


async def test_moderators_see_only_redacted_text_escaped_and_can_approve(
    web: TestClient, database: Database, clock: FakeClock
) -> None:
    first, second, third = await add_stories(database, clock, 3)
    browser = Browser(web)
    assert await browser.sign_in("lead1")
    status, queue = await browser.get("/stories")
    assert status == 200
    assert "Joan Smith" not in queue  # the raw text never reaches the dashboard
    assert "<script>" not in queue and "&lt;script&gt;" in queue
    assert "Hospital" in queue
    assert await browser.post(f"/stories/{first}", {"action": "approve"}, csrf=False) == 403
    assert (
        await browser.post(f"/stories/{first}", {"action": "approve", "text": "Kind nurse"}) == 303
    )
    assert await browser.post(f"/stories/{second}", {"action": "reject"}) == 303
    edited = {"action": "redact", "text": "The nurse was kind"}
    assert await browser.post(f"/stories/{third}", edited) == 303
    assert await browser.post("/stories/99999", {"action": "approve"}) == 404
    assert await browser.post(f"/stories/{third}", {"action": "publish"}) == 400
    _status, wall = await browser.get("/stories?state=approved")
    assert "Kind nurse" in wall and "How people felt" in wall
    assert "<td>*</td>" in wall  # one story: its counts are hidden
    async with database.transaction() as session:
        states = {
            s.id: (s.moderation, s.redacted_text)
            for s in (await session.execute(select(Story))).scalars()
        }
        actions = list((await session.execute(select(AuditEntry.action))).scalars())
    assert states[first] == ("approved", "Kind nurse")
    assert states[second][0] == "rejected"
    assert states[third] == ("new", "The nurse was kind")
    assert {"story.approve", "story.reject", "story.redact"} <= set(actions)


async def test_champions_cannot_read_or_moderate_stories(
    web: TestClient, database: Database, clock: FakeClock
) -> None:
    [story] = await add_stories(database, clock, 1)
    browser = Browser(web)
    assert await browser.sign_in("champion1")
    assert (await browser.get("/stories"))[0] == 403
    assert await browser.post(f"/stories/{story}", {"action": "approve"}) == 403
