"""The webhook route checks the secret before reading the body, and answers a good update only
once it has been handled (so Telegram delivers again what a killed worker never finished)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.channels.ordering import PerChatOrder
from bot.handlers.webhook import SECRET_HEADER, WebhookReceiver
from tests.support.telegram import OfflineRequest

SECRET = "s3cret-token_ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@pytest.fixture
async def client() -> AsyncIterator[tuple[TestClient[web.Request, web.Application], Application]]:  # type: ignore[type-arg]
    application = (
        Application.builder()
        .token("1:OFFLINE")
        .base_url("http://offline.invalid/bot")
        .request(OfflineRequest())
        .updater(None)
        .concurrent_updates(PerChatOrder(4))
        .build()
    )
    handled: list[int] = []

    async def record(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        await asyncio.sleep(0.05)  # the answer must wait for this
        handled.append(update.update_id)

    application.add_handler(TypeHandler(Update, record))
    application.bot_data["handled"] = handled
    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post("/telegram", WebhookReceiver(application, SECRET).receive)
    async with application, TestClient(TestServer(app)) as test_client:
        yield test_client, application


UPDATE = {
    "update_id": 5,
    "message": {
        "message_id": 1,
        "date": 0,
        "chat": {"id": 9, "type": "private"},
        "from": {"id": 9, "is_bot": False, "first_name": "A"},
        "text": "hi",
    },
}


@pytest.mark.parametrize("given", [None, "", "wrong", SECRET[:-1], SECRET + "x"])
async def test_wrong_or_missing_secret_is_refused(client, given: str | None) -> None:  # type: ignore[no-untyped-def]
    test_client, application = client
    headers = {} if given is None else {SECRET_HEADER: given}
    response = await test_client.post("/telegram", data=b"not even json", headers=headers)
    assert response.status == 403
    assert application.bot_data["handled"] == []


async def test_a_good_update_is_handled_before_the_answer(client) -> None:  # type: ignore[no-untyped-def]
    test_client, application = client
    response = await test_client.post("/telegram", json=UPDATE, headers={SECRET_HEADER: SECRET})
    assert response.status == 200
    assert application.bot_data["handled"] == [5]


async def test_a_bad_body_with_the_right_secret_is_a_400(client) -> None:  # type: ignore[no-untyped-def]
    test_client, application = client
    response = await test_client.post("/telegram", data=b"{", headers={SECRET_HEADER: SECRET})
    assert response.status == 400
    assert application.bot_data["handled"] == []
