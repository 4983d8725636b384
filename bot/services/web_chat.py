"""The web chat channel: the same conversation as Telegram, for residents in a browser.

A resident is known by a random token in a cookie (no account); only its hash is stored. Each
action becomes an Inbound for PanelChat, and the page shows the bot's latest messages: buttons
already answered show the answer chosen, as in Telegram. Nothing the resident typed is kept here.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.i18n import negotiate
from bot.services.chat import Inbound, Outcome, Reply, Voice
from bot.services.metrics import handling
from bot.services.panel_chat import PanelChat
from storage.database import Database
from storage.repositories import ResidentRepository
from storage.web_chats import WebChatRepository

SHOWN_MESSAGES = 12  # the page shows the bot's last messages, like the end of a chat
REFERRAL_PREFIX = "ref_"
CHANNEL = "web"
Clock = Callable[[], datetime]


def token_hash(token: str) -> str:
    """What is stored of a resident's cookie."""
    return hashlib.sha256(token.encode()).hexdigest()


def form_token(token: str) -> str:
    """The token every form of a chat carries, so that no other site can post into it."""
    return hashlib.sha256(b"panelbot web chat form\0" + token.encode()).hexdigest()[:32]


def new_chat_id() -> int:
    """A chat id for a browser: negative, so it never meets a Telegram user's (positive) id."""
    return -(secrets.randbelow(2**52) + 1)


@dataclass
class Conversation:
    """What a chat's page shows."""

    language: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    ended: bool = False  # the resident deleted everything: the chat is gone


class WebChat:
    """Starts browser chats and passes residents' actions to PanelChat."""

    def __init__(self, database: Database, chat: PanelChat, *, clock: Clock) -> None:
        if chat.channel != CHANNEL:
            raise ValueError("the web chat needs a PanelChat for the web channel")
        self.database = database
        self.chat = chat
        self.clock = clock

    async def begin(self, referral: str, client_language: str | None) -> tuple[str, Conversation]:
        """A new chat (a champion's referral code, if any): its token and first page."""
        token = secrets.token_urlsafe(32)
        async with self.database.transaction() as session:
            WebChatRepository(session).add(token_hash(token), new_chat_id(), self.clock())
        argument = f"{REFERRAL_PREFIX}{referral}" if referral else ""
        found = await self.act(token, client_language, command="start", argument=argument)
        assert found is not None
        return token, found

    async def exists(self, token: str) -> bool:
        """Whether a chat has this token (checked before a large upload is read)."""
        async with self.database.transaction() as session:
            return await WebChatRepository(session).by_token_hash(token_hash(token)) is not None

    async def page(self, token: str, client_language: str | None) -> Conversation | None:
        """What the chat with this token shows now (None: no such chat)."""
        async with self.database.transaction() as session:
            found = await WebChatRepository(session).by_token_hash(token_hash(token))
            if found is None:
                return None
            resident = await ResidentRepository(session).by_chat(CHANNEL, found.chat_id)
            language = resident.language if resident else negotiate(client_language)
            return Conversation(language, list(found.shown.get("messages", [])))

    async def act(
        self,
        token: str,
        client_language: str | None,
        *,
        command: str | None = None,
        argument: str = "",
        text: str | None = None,
        button: str | None = None,
        voice: Voice | None = None,
    ) -> Conversation | None:
        """Apply a command, typed text, a button press or a voice note; the page after it
        (None: no chat)."""
        async with self.database.transaction() as session:
            found = await WebChatRepository(session).by_token_hash(token_hash(token))
            chat_id = found.chat_id if found else None
        if chat_id is None:
            return None
        event = Inbound(
            chat_id, f"web:{uuid.uuid4().hex}", command=command, argument=argument, text=text,
            button=button, client_language=client_language, voice=voice,
        )  # fmt: skip
        async with handling(CHANNEL):
            outcome = await self.chat.handle(event)
        async with self.database.transaction() as session:
            chats = WebChatRepository(session)
            resident = await ResidentRepository(session).by_chat(CHANNEL, chat_id)
            if resident is None:  # /forgetme: erasing the resident removed this chat too
                return Conversation(negotiate(client_language), _messages(outcome.replies), True)
            chat = await chats.by_chat(chat_id)
            if chat is None:
                return None
            # A deep copy: changed in place, the stored value would look unchanged and not be saved.
            messages = _after(copy.deepcopy(chat.shown.get("messages", [])), outcome, button)
            chats.show(chat, {"messages": messages}, self.clock())
            return Conversation(resident.language, messages)


async def deliver(database: Database, chat_id: int, reply: Reply, now: datetime) -> bool:
    """Put a message from the outbox (a broadcast, a notice) at the end of a chat's page;
    False when the chat is gone."""
    async with database.transaction() as session:
        chats = WebChatRepository(session)
        chat = await chats.by_chat(chat_id)
        if chat is None:
            return False
        messages = copy.deepcopy(chat.shown.get("messages", []))
        chats.show(chat, {"messages": [*messages, page_message(reply)][-SHOWN_MESSAGES:]}, now)
        return True


def _after(
    shown: list[dict[str, Any]], outcome: Outcome, button: str | None
) -> list[dict[str, Any]]:
    """The page's messages after an outcome: the pressed message updated, new ones added."""
    if button is not None:
        for message in reversed(shown):
            labels = {b["id"]: b["label"] for row in message["buttons"] for b in row}
            if button in labels:
                if outcome.edit is not None:
                    message.update(page_message(outcome.edit))
                elif not outcome.stale:
                    message["buttons"], message["chosen"] = [], labels[button]
                break
    return [*shown, *_messages(outcome.replies)][-SHOWN_MESSAGES:]


def _messages(replies: list[Reply]) -> list[dict[str, Any]]:
    return [page_message(reply) for reply in replies]


def page_message(reply: Reply) -> dict[str, Any]:
    """A reply as the page keeps it (a file's bytes as base64)."""
    buttons = [[{"id": b.id, "label": b.label} for b in row] for row in reply.buttons]
    document = reply.document
    file = None
    if document is not None:
        data = base64.b64encode(document.content).decode()
        file = {"name": document.filename, "type": document.mime_type, "data": data}
    return {"text": reply.text, "buttons": buttons, "file": file, "chosen": None}
