"""The Telegram adapters, driven offline through python-telegram-bot's own machinery."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram.ext import Application

from bot.channels.telegram import TelegramApp
from bot.handlers.resident import ResidentHandlers, inbound_from
from bot.services.area import AreaProfile
from bot.services.panel_chat import PanelChat
from storage.database import Database
from tests.conftest import migrated_sqlite
from tests.support.telegram import OfflineRequest, callback_update, message_update

DEMO_AREA = Path(__file__).resolve().parents[2] / "areas" / "demo"


@pytest.fixture
async def offline(tmp_path: Path) -> AsyncIterator[tuple[TelegramApp, OfflineRequest]]:
    request = OfflineRequest()
    application = (
        Application.builder()
        .token("1:OFFLINE")
        .base_url("http://offline.invalid/bot")
        .request(request)
        .get_updates_request(OfflineRequest())
        .updater(None)
        .build()
    )
    database = Database(await migrated_sqlite(tmp_path))
    ResidentHandlers(PanelChat(database, area=AreaProfile.load(DEMO_AREA))).register(application)
    async with application:
        yield application, request
    await database.dispose()


async def test_start_asks_for_the_language_with_buttons(
    offline: tuple[TelegramApp, OfflineRequest],
) -> None:
    app, request = offline
    await app.process_update(message_update(app.bot, 11, "/start ref_abc"))
    sent = request.sent()
    assert len(sent) == 1
    keyboard = sent[0]["reply_markup"]["inline_keyboard"]
    assert [b["callback_data"] for row in keyboard for b in row] == [
        "language:en",
        "language:cy",
        "language:pl",
        "language:ur",
    ]


async def test_a_button_press_is_answered_and_the_question_marked(
    offline: tuple[TelegramApp, OfflineRequest],
) -> None:
    app, request = offline
    await app.process_update(message_update(app.bot, 12, "/start"))
    await app.process_update(
        callback_update(
            app.bot,
            12,
            "language:pl",
            text="Hello!",
            keyboard=[[{"text": "Polski", "callback_data": "language:pl"}]],
        )
    )
    assert request.sent("answerCallbackQuery")[0]["text"] == "Polski"
    edited = request.sent("editMessageText")[0]
    assert edited["text"].endswith("✓ Polski")
    assert "reply_markup" not in edited
    assert "/mydata" in request.sent()[-1]["text"]  # the privacy notice follows, in Polish


async def test_a_stale_button_gets_a_notice_and_the_question_being_asked(
    offline: tuple[TelegramApp, OfflineRequest],
) -> None:
    app, request = offline
    await app.process_update(message_update(app.bot, 13, "/start"))
    before = request.sent()
    await app.process_update(callback_update(app.bot, 13, "carer:yes"))
    assert (
        request.sent("answerCallbackQuery")[0]["text"] == "That question has already been answered."
    )
    assert request.sent("editMessageText") == []  # the old question keeps its buttons
    assert request.sent() == [*before, before[-1]]  # "which language?" again, nothing else


async def test_mydata_sends_a_file(offline: tuple[TelegramApp, OfflineRequest]) -> None:
    app, request = offline
    await app.process_update(message_update(app.bot, 14, "/start"))
    await app.process_update(message_update(app.bot, 14, "/mydata"))
    assert len(request.sent("sendDocument")) == 1


async def test_group_chats_are_ignored(offline: tuple[TelegramApp, OfflineRequest]) -> None:
    app, request = offline
    await app.process_update(message_update(app.bot, -100, "/start", chat_type="group"))
    assert request.sent() == []


async def test_a_failure_gets_a_kind_apology(
    offline: tuple[TelegramApp, OfflineRequest], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, request = offline

    async def broken(*_args: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(PanelChat, "handle", broken)
    await app.process_update(message_update(app.bot, 15, "LS6 1AA", language_code="en"))
    assert request.sent()[-1]["text"].startswith("Sorry, something went wrong on our side.")


def test_commands_are_parsed_with_bot_mentions_and_arguments() -> None:
    update = message_update(None, 16, "/Start@PanelTestBot ref_x1")
    event = inbound_from(update)
    assert event is not None
    assert (event.command, event.argument, event.chat_id) == ("start", "ref_x1", 16)
