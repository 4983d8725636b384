"""Operators' endpoints: readiness, and metrics that count without telling anything personal."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from bot.services.panel_chat import PanelChat
from bot.services.web_chat import WebChat
from bot.web.app import create_app
from bot.web.chat_views import START_COOKIE, START_LIMIT
from storage.database import Database
from tests.conftest import FakeClock
from tests.support.web_resident import WebResident
from tests.web.conftest import AREA
from tests.web.test_web_chat import join, site  # noqa: F401 (the fixture)


async def test_ready_only_when_migrated(database: Database) -> None:
    client = TestClient(TestServer(create_app(database)))
    await client.start_server()
    assert (await client.get("/readyz")).status == 200
    async with database.transaction() as session:
        head = await session.scalar(text("SELECT version_num FROM alembic_version"))
        await session.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    try:
        assert (await client.get("/readyz")).status == 503
    finally:
        async with database.transaction() as session:
            await session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
        await client.close()


async def test_metrics_count_updates_and_never_show_what_residents_wrote(
    site: TestClient,  # noqa: F811 (the fixture)
) -> None:
    resident = WebResident(site)
    await join(resident)
    response = await site.get("/metrics")
    assert response.status == 200
    body = await response.text()
    handled = next(
        line for line in body.splitlines()
        if line.startswith('panelbot_updates_total{channel="web",result="handled"}')
    )  # fmt: skip
    assert float(handled.split()[-1]) >= 11  # start, consents, postcode and profile
    assert "panelbot_update_seconds_bucket" in body and "panelbot_outbox_messages" in body
    assert "LS1" not in body


async def test_metrics_need_the_token_when_one_is_set(database: Database) -> None:
    client = TestClient(TestServer(create_app(database, metrics_token="s3cret-metrics")))
    await client.start_server()
    assert (await client.get("/metrics")).status == 404  # even from this machine
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status == 404
    right = await client.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics"})
    assert right.status == 200
    await client.close()


async def test_metrics_passed_on_by_a_proxy_are_not_local(site: TestClient) -> None:  # noqa: F811
    proxied = await site.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert proxied.status == 404


async def start_from(client: TestClient, address: str) -> int:
    """Press Start on the welcome page, as a browser at `address` behind the proxy."""
    forwarded = {"X-Forwarded-For": f"198.51.100.1, {address}"}
    welcome = await client.get("/chat", headers=forwarded)
    start = welcome.cookies[START_COOKIE].value
    posted = await client.post(
        "/chat/start", data={"csrf": start, "referral": ""}, allow_redirects=False,
        headers={**forwarded, "Cookie": f"{START_COOKIE}={start}"},
    )  # fmt: skip
    return posted.status


@pytest.mark.parametrize("trusted", [True, False])
async def test_limits_count_the_address_a_trusted_proxy_forwards(
    database: Database, clock: FakeClock, trusted: bool
) -> None:
    chat = PanelChat(database, area=AREA, surveys=None, clock=clock, channel="web")
    proxies = frozenset({"127.0.0.1"}) if trusted else frozenset()
    app = create_app(database, web_chat=WebChat(database, chat, clock=clock),
                     trusted_proxies=proxies)  # fmt: skip
    app[START_LIMIT].most = 1
    client = TestClient(TestServer(app))
    await client.start_server()
    assert await start_from(client, "203.0.113.5") == 303
    assert await start_from(client, "203.0.113.5") == 429
    # Trusted, the proxy's word tells people apart; untrusted, the header is ignored.
    assert await start_from(client, "203.0.113.6") == (303 if trusted else 429)
    await client.close()
