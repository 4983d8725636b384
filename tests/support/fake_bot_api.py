"""A fake Bot API for the sender: fast, with the faults real Telegram has (429, 403, 5xx).

It answers sendMessage only, counts what it accepted per chat, and serves the counts at
`/fake/stats`. Run alone: python -m tests.support.fake_bot_api PORT [--blocked 5,9]
[--limit-per-second N] [--server-error-every K] [--delay-ms D]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field

from aiohttp import web

OK = json.dumps({"ok": True, "result": {"message_id": 1, "date": 0, "chat": {"id": 0}}})


@dataclass
class Faults:
    """What the fake gets wrong, on purpose."""

    blocked: frozenset[int] = frozenset()  # 403: the bot was blocked by the user
    limit_per_second: int = 0  # 429 with retry_after beyond this many a second (0: none)
    retry_after: int = 1
    server_error_every: int = 0  # 500 on every k-th call (0: never)
    delay_ms: float = 0.0  # time each answer takes


@dataclass
class FakeBotApi:
    """The fake's state: what it accepted, and how often it said no."""

    faults: Faults = field(default_factory=Faults)
    received: Counter[int] = field(default_factory=Counter)
    answers: Counter[int] = field(default_factory=Counter)
    calls: int = 0
    keep_payloads: bool = False  # keep every accepted message (tests that read them)
    payloads: list[dict[str, object]] = field(default_factory=list)
    _window: tuple[int, int] = (0, 0)  # (second, calls in it)

    async def send_message(self, request: web.Request) -> web.Response:
        """Accept a message, or fail as configured."""
        self.calls += 1
        payload = json.loads(await request.read())
        chat_id = int(payload["chat_id"])
        if self.faults.delay_ms:
            await asyncio.sleep(self.faults.delay_ms / 1000)
        status, body = self._answer(chat_id)
        self.answers[status] += 1
        if status == 200:
            self.received[chat_id] += 1
            if self.keep_payloads:
                self.payloads.append(payload)
        return web.Response(status=status, text=body, content_type="application/json")

    def _answer(self, chat_id: int) -> tuple[int, str]:
        faults = self.faults
        if faults.server_error_every and self.calls % faults.server_error_every == 0:
            return 500, json.dumps({"ok": False, "error_code": 500})
        if faults.limit_per_second:
            second = int(time.monotonic())
            start, count = self._window
            self._window = (second, count + 1) if second == start else (second, 1)
            if self._window[1] > faults.limit_per_second:
                retry = {"retry_after": faults.retry_after}
                return 429, json.dumps({"ok": False, "error_code": 429, "parameters": retry})
        if chat_id in faults.blocked:
            return 403, json.dumps({"ok": False, "error_code": 403})
        return 200, OK

    async def stats(self, _request: web.Request) -> web.Response:
        """What has been accepted, per chat, and every status given."""
        body = {
            "received": {str(chat): count for chat, count in self.received.items()},
            "answers": {str(status): count for status, count in self.answers.items()},
            "calls": self.calls,
        }
        return web.json_response(body)

    def app(self) -> web.Application:
        """The aiohttp application (any token)."""
        app = web.Application()
        app.router.add_post("/bot{token}/sendMessage", self.send_message)
        app.router.add_get("/fake/stats", self.stats)
        return app


def main() -> None:
    """Serve the fake on a port until killed."""
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--blocked", default="")
    parser.add_argument("--limit-per-second", type=int, default=0)
    parser.add_argument("--server-error-every", type=int, default=0)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    args = parser.parse_args()
    blocked = frozenset(int(chat) for chat in args.blocked.split(",") if chat)
    faults = Faults(blocked, args.limit_per_second, 1, args.server_error_every, args.delay_ms)
    web.run_app(
        FakeBotApi(faults).app(), host="127.0.0.1", port=args.port, print=None, access_log=None
    )


if __name__ == "__main__":
    main()
