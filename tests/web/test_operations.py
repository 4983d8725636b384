"""Operators' endpoints: readiness, and metrics that count without telling anything personal."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from bot.web.app import create_app
from storage.database import Database
from tests.support.web_resident import WebResident
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
