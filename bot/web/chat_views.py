"""The web chat's pages: a resident joins and talks to the bot in any browser, without JavaScript.

Every action is a plain form post answered with a redirect back to the chat (post/redirect/get),
so reloading never repeats an answer. The cookie holds the resident's token; forms carry a token
derived from it, so no other site can post into a chat.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections import deque
from typing import Any

import jinja2
from aiohttp import web
from aiohttp.web_request import FileField

from bot.i18n import LANGUAGES, language, negotiate
from bot.i18n import gettext as _
from bot.services.accounts import same
from bot.services.chat import Voice
from bot.services.commands import COMMANDS
from bot.services.web_chat import Conversation, WebChat, form_token
from bot.web.guard import CSRF_FIELD, client_address, public

WEB_CHAT = web.AppKey("web_chat", WebChat)
CHAT_TEMPLATES = web.AppKey("chat_templates", jinja2.Environment)
CHAT_COOKIE = "__Host-panelbot-chat"
START_COOKIE = "__Host-panelbot-chat-start"
KEEP_SECONDS = 180 * 24 * 3600  # a resident can come back to their chat for six months
MAX_TEXT = 4000
MAX_VOICE_BYTES = 10 * 1024 * 1024  # as for Telegram voice notes
# What phones record, by the type the browser reports (anything else is kept as ".audio").
AUDIO_SUFFIXES = {
    "audio/ogg": "ogg", "audio/opus": "opus", "audio/webm": "webm", "audio/mpeg": "mp3",
    "audio/mp4": "m4a", "audio/x-m4a": "m4a", "audio/aac": "aac", "audio/wav": "wav",
    "audio/x-wav": "wav", "audio/amr": "amr", "audio/3gpp": "3gp",
}  # fmt: skip
MENU = ("surveys", "story", "profile", "language", "stop", "mydata", "forgetme", "help")
RIGHT_TO_LEFT = {lang.code for lang in LANGUAGES if lang.right_to_left}


def _client_language(request: web.Request) -> str | None:
    """The browser's first language (Accept-Language), for those who have not chosen one."""
    header = request.headers.get("Accept-Language", "")
    return header.split(",")[0].split(";")[0].strip() or None


def _render(request: web.Request, template: str, lang: str, **context: Any) -> web.Response:
    with language(lang):
        body = (
            request.app[CHAT_TEMPLATES]
            .get_template(template)
            .render(lang=lang, rtl=lang in RIGHT_TO_LEFT, _=_, **context)
        )
    return web.Response(text=body, content_type="text/html")


def _welcome(request: web.Request, referral: str = "") -> web.Response:
    """The first page: what the panel is, and a button to start (its form token in a cookie)."""
    start = secrets.token_urlsafe(24)
    lang = negotiate(_client_language(request))
    response = _render(request, "chat_welcome.html", lang, start=start, referral=referral)
    response.set_cookie(START_COOKIE, start, httponly=True, samesite="Strict", secure=True,
                        max_age=3600, path="/")  # fmt: skip
    return response


def _conversation(request: web.Request, token: str, found: Conversation) -> web.Response:
    menu = [(name, description) for name, description in COMMANDS if name in MENU]
    return _render(
        request, "chat_page.html", found.language, conversation=found, form=form_token(token),
        menu=menu, max_text=MAX_TEXT,
    )  # fmt: skip


@public
async def chat_page(request: web.Request) -> web.Response:
    """The chat as it stands, or the welcome page for someone new."""
    token = request.cookies.get(CHAT_COOKIE, "")
    found = await request.app[WEB_CHAT].page(token, _client_language(request)) if token else None
    if found is None:
        return _welcome(request)
    return _conversation(request, token, found)


@public
async def join_page(request: web.Request) -> web.Response:
    """A champion's link (/join?ref=CODE): the welcome page, carrying their code."""
    referral = request.query.get("ref", "")
    if not (referral.replace("_", "").isalnum() and len(referral) <= 64):
        referral = ""
    token = request.cookies.get(CHAT_COOKIE, "")
    if token and await request.app[WEB_CHAT].page(token, None) is not None:
        raise web.HTTPSeeOther("/chat")  # already in a chat: carry on there
    return _welcome(request, referral)


class StartLimit:
    """At most `most` new chats an hour from one address (a crowd at a library shares one;
    a script making thousands does not get them)."""

    def __init__(self, most: int = 60, seconds: float = 3600.0) -> None:
        self.most = most
        self.seconds = seconds
        self._starts: dict[str, deque[float]] = {}

    def allows(self, address: str) -> bool:
        """Count a start from this address; False when it is one too many."""
        now = time.monotonic()
        starts = self._starts.setdefault(address, deque())
        while starts and now - starts[0] > self.seconds:
            starts.popleft()
        if len(starts) >= self.most:
            return False
        starts.append(now)
        if len(self._starts) > 100_000:  # forget quiet addresses rather than grow without end
            self._starts = {
                a: s for a, s in self._starts.items() if s and now - s[-1] < self.seconds
            }
        return True


START_LIMIT = web.AppKey("start_limit", StartLimit)


@public
async def start(request: web.Request) -> web.Response:
    """Start a chat: a new token in the cookie, then the chat's first question."""
    form = await request.post()
    expected = request.cookies.get(START_COOKIE, "")
    if not expected or not same(str(form.get(CSRF_FIELD, "")), expected):
        raise web.HTTPSeeOther("/chat")  # an old or foreign form: show the welcome again
    if not request.app[START_LIMIT].allows(client_address(request)):
        lang = negotiate(_client_language(request))
        response = _render(request, "chat_busy.html", lang)
        response.set_status(429)
        return response
    referral = str(form.get("referral", ""))[:64]
    token, _first = await request.app[WEB_CHAT].begin(referral, _client_language(request))
    response = web.HTTPSeeOther("/chat#latest")
    response.set_cookie(CHAT_COOKIE, token, httponly=True, samesite="Strict", secure=True,
                        max_age=KEEP_SECONDS, path="/")  # fmt: skip
    response.del_cookie(START_COOKIE, path="/")
    raise response


def _voice(field: object) -> Voice | None:
    """A voice note from the form's file field (empty when too big: the bot says so kindly)."""
    if not isinstance(field, FileField) or not field.filename:
        return None
    content = field.file.read(MAX_VOICE_BYTES + 1)
    suffix = AUDIO_SUFFIXES.get(field.content_type.split(";")[0].strip().lower(), "audio")
    return Voice(b"" if len(content) > MAX_VOICE_BYTES else content, suffix)


@public
async def send(request: web.Request) -> web.Response:
    """A button pressed, a command from the menu, something typed, or a voice note."""
    token = request.cookies.get(CHAT_COOKIE, "")
    chat = request.app[WEB_CHAT]
    if not token or not await chat.exists(token):  # before reading what may be a large upload
        raise web.HTTPSeeOther("/chat")
    form = await request.post()
    if not same(str(form.get(CSRF_FIELD, "")), form_token(token)):
        raise web.HTTPSeeOther("/chat")
    button, command = form.get("button"), form.get("command")
    text = str(form.get("text", ""))[:MAX_TEXT].strip()
    voice = _voice(form.get("voice"))
    client = _client_language(request)
    if voice is not None:
        if text:  # typed as well: nothing is lost, the words go first
            await chat.act(token, client, text=text)
        found = await chat.act(token, client, voice=voice)
    elif isinstance(button, str) and button:
        found = await chat.act(token, client, button=button)
    elif isinstance(command, str) and command in MENU:
        found = await chat.act(token, client, command=command)
    elif text.startswith("/"):
        head, _sep, argument = text.partition(" ")
        found = await chat.act(token, client, command=head[1:].lower(), argument=argument.strip())
    elif text:
        found = await chat.act(token, client, text=text)
    else:
        raise web.HTTPSeeOther("/chat#latest")
    if found is not None and found.ended:
        response = _render(request, "chat_ended.html", found.language, conversation=found)
        response.del_cookie(CHAT_COOKIE, path="/")
        return response
    raise web.HTTPSeeOther("/chat#latest")


@public
async def download(request: web.Request) -> web.Response:
    """A file the bot sent (a copy of one's data), from the chat's latest messages."""
    token = request.cookies.get(CHAT_COOKIE, "")
    found = await request.app[WEB_CHAT].page(token, None) if token else None
    index = request.match_info["index"]
    if found is None or not index.isdigit() or int(index) >= len(found.messages):
        raise web.HTTPNotFound()
    file = found.messages[int(index)].get("file")
    if not file:
        raise web.HTTPNotFound()
    return web.Response(
        body=base64.b64decode(file["data"]),
        content_type=file["type"],
        headers={"Content-Disposition": f'attachment; filename="{file["name"]}"'},
    )


def add_web_chat(app: web.Application, chat: WebChat) -> None:
    """Register the web chat's routes."""
    app[WEB_CHAT] = chat
    app[START_LIMIT] = StartLimit()
    app[CHAT_TEMPLATES] = jinja2.Environment(
        loader=jinja2.PackageLoader("bot.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    app.router.add_get("/chat", chat_page)
    app.router.add_get("/join", join_page)
    app.router.add_post("/chat/start", start)
    app.router.add_post("/chat", send)
    app.router.add_get("/chat/file/{index}", download)
