"""A resident using the web chat over plain HTTP (no JavaScript), as a basic phone would."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from aiohttp import FormData
from aiohttp.test_utils import TestClient

from bot.web.chat_views import CHAT_COOKIE, START_COOKIE

_BUTTON = re.compile(r'<button type="submit" name="button" value="([^"]+)">([^<]*)</button>')
_TEXT = re.compile(r'<p class="text">([^<]*)</p>')
_FORM = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class WebResident:
    """One browser: its chat cookie (kept by hand: it is Secure, and tests speak http)."""

    client: TestClient
    accept_language: str = "en-GB,en;q=0.9"
    token: str = ""
    page: str = ""
    statuses: list[int] = field(default_factory=list)

    def _headers(self, cookies: dict[str, str] | None = None) -> dict[str, str]:
        jar = {CHAT_COOKIE: self.token} if self.token else {}
        jar.update(cookies or {})
        cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
        return {"Accept-Language": self.accept_language, **({"Cookie": cookie} if cookie else {})}

    async def open(self, path: str = "/chat") -> str:
        """Load a page (what a reload does)."""
        response = await self.client.get(path, headers=self._headers(), allow_redirects=False)
        self.statuses.append(response.status)
        self.page = await response.text()
        return self.page

    async def start(self, path: str = "/chat") -> str:
        """Open the welcome page and press Start."""
        response = await self.client.get(path, headers=self._headers(), allow_redirects=False)
        welcome = await response.text()
        start_cookie = response.cookies[START_COOKIE].value
        referral = re.search(r'name="referral" value="([^"]*)"', welcome)
        form = {"csrf": start_cookie, "referral": referral.group(1) if referral else ""}
        posted = await self.client.post(
            "/chat/start", data=form, headers=self._headers({START_COOKIE: start_cookie}),
            allow_redirects=False,
        )  # fmt: skip
        assert posted.status == 303, posted.status
        self.token = posted.cookies[CHAT_COOKIE].value
        return await self.open()

    async def post(self, **fields: str) -> int:
        """Send one form of the chat page (with its form token, unless one is given)."""
        found = _FORM.search(self.page)
        return await self._send({"csrf": found.group(1) if found else "", **fields})

    async def voice(self, content: bytes, content_type: str = "audio/ogg", text: str = "") -> int:
        """Send a recording through the chat page's file field (and anything typed with it)."""
        found = _FORM.search(self.page)
        form = FormData()
        form.add_field("csrf", found.group(1) if found else "")
        form.add_field("text", text)
        form.add_field("voice", content, filename="note.ogg", content_type=content_type)
        return await self._send(form)

    async def _send(self, data: FormData | dict[str, str]) -> int:
        response = await self.client.post(
            "/chat", data=data, headers=self._headers(), allow_redirects=False
        )
        self.statuses.append(response.status)
        if response.status == 200:  # the chat ended: this is the goodbye page
            self.page = await response.text()
            self.token = "" if CHAT_COOKIE in response.cookies else self.token
            return response.status
        await self.open()
        return response.status

    async def press(self, button_id: str) -> int:
        return await self.post(button=button_id)

    async def press_label(self, label: str) -> int:
        return await self.press(self.button(label))

    async def say(self, text: str) -> int:
        return await self.post(text=text)

    async def command(self, name: str) -> int:
        return await self.post(command=name)

    def button(self, label: str) -> str:
        """The id of the newest button with this label."""
        for button_id, shown in reversed(self.buttons()):
            if shown == label:
                return button_id
        raise LookupError(f"no button {label!r} in {self.texts()[-2:]}")

    def buttons(self, latest: bool = False) -> list[tuple[str, str]]:
        """(id, label) of every button on the page, or of the latest message only."""
        where = self.page.rsplit('<li class="message"', 1)[-1] if latest else self.page
        return [(html.unescape(i), html.unescape(t)) for i, t in _BUTTON.findall(where)]

    def texts(self) -> list[str]:
        return [html.unescape(text) for text in _TEXT.findall(self.page)]
