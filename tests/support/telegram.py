"""Offline python-telegram-bot testing: a request class that never touches the network, and
factories for updates."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from telegram import Update
from telegram.request import BaseRequest, RequestData

BOT_USER = {"id": 4242, "is_bot": True, "first_name": "Panelbot", "username": "PanelTestBot"}
_ids = itertools.count(1000)


class OfflineRequest(BaseRequest):
    """Answers Bot API calls from memory and records them; any real network use is impossible."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    @property
    def read_timeout(self) -> float | None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        if not url.startswith("http://offline.invalid/"):
            raise AssertionError(f"network use in an offline test: {url}")
        endpoint = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        self.calls.append((endpoint, params))
        return 200, json.dumps({"ok": True, "result": self._result(endpoint, params)}).encode()

    def _result(self, endpoint: str, params: dict[str, Any]) -> Any:
        if endpoint == "getMe":
            return BOT_USER
        if endpoint in {"sendMessage", "sendDocument", "editMessageText"}:
            chat_id = int(params.get("chat_id", 0))
            message: dict[str, Any] = {
                "message_id": int(params.get("message_id", next(_ids))),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "from": BOT_USER,
                "text": params.get("text") or params.get("caption") or "",
            }
            return message
        return True

    def sent(self, endpoint: str = "sendMessage") -> list[dict[str, Any]]:
        """Parameters of every call to one endpoint, in order."""
        return [params for name, params in self.calls if name == endpoint]


_update_ids = itertools.count(1)


def _user(user_id: int, language_code: str) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Ann", "language_code": language_code}


def message_update(
    bot: Any, user_id: int, text: str, *, language_code: str = "en", chat_type: str = "private"
) -> Update:
    """An update with a text message (a command when it starts with '/')."""
    message: dict[str, Any] = {
        "message_id": next(_ids),
        "date": int(time.time()),
        "chat": {"id": user_id, "type": chat_type},
        "from": _user(user_id, language_code),
        "text": text,
    }
    if text.startswith("/"):
        length = len(text.split(" ", 1)[0])
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    update = Update.de_json({"update_id": next(_update_ids), "message": message}, bot)
    assert update is not None
    return update


def callback_update(
    bot: Any,
    user_id: int,
    data: str,
    *,
    text: str = "Question?",
    language_code: str = "en",
    keyboard: list[list[dict[str, str]]] | None = None,
) -> Update:
    """An update with a button press on a bot message."""
    message = {
        "message_id": next(_ids),
        "date": int(time.time()),
        "chat": {"id": user_id, "type": "private"},
        "from": BOT_USER,
        "text": text,
        "reply_markup": {"inline_keyboard": keyboard or [[{"text": "Yes", "callback_data": data}]]},
    }
    payload = {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": str(next(_ids)),
            "from": _user(user_id, language_code),
            "chat_instance": str(user_id),
            "message": message,
            "data": data,
        },
    }
    update = Update.de_json(payload, bot)
    assert update is not None
    return update
