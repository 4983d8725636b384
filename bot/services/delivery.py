"""The broadcast sender: drains the outbox within Telegram's limits and never loses a message.

It claims due messages in batches, sends them at the configured pace with a bounded number in
flight, and records each result within a few milliseconds of the Bot API's answer. A 429 pauses
all sending for the `retry_after` it names and puts the message back without counting a failure;
a 403 marks the resident inactive; server and network errors are retried with growing gaps. If the
process dies, the messages it had claimed go back to the queue, so only those in flight at that
moment (sent, but not yet recorded) can reach someone twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from bot.services.chat import Button
from bot.services.metrics import DELIVERIES, ERRORS
from bot.services.quiet_hours import QuietHours
from storage.outbox import BroadcastContent, Claimed, Finished, Outbox

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
SENT, RETRY, BLOCKED, FAILED = "sent", "retry", "blocked", "failed"
Message = tuple[str, tuple[tuple[Button, ...], ...]]


@dataclass(frozen=True)
class SendResult:
    """What the Bot API said: sent, retry (after `retry_after` s, if given), blocked or failed."""

    kind: str
    retry_after: float | None = None
    error: str | None = None  # an HTTP status or error class; never message text


class Transport(Protocol):
    """Sends one message to a chat."""

    async def send_message(
        self, chat_id: int, text: str, buttons: tuple[tuple[Button, ...], ...] = ()
    ) -> SendResult:
        """Send, and say what happened."""


Composer = Callable[[Claimed, BroadcastContent], Message | None]


@dataclass
class Limits:
    """How fast to send: messages a second overall (0: no limit), per chat, and in flight."""

    per_second: float = 30.0
    per_chat_seconds: float = 1.0
    in_flight: int = 32
    batch: int = 200
    max_attempts: int = 8
    lease: timedelta = timedelta(minutes=2)
    poll_seconds: float = 1.0
    record_every: float = 0.02


class Pacer:
    """Spaces sends evenly at a rate, and holds everything back after a 429 or server trouble."""

    def __init__(self, per_second: float) -> None:
        self.gap = 1.0 / per_second if per_second > 0 else 0.0
        self._next = 0.0
        self._paused_until = 0.0
        self._server_errors = 0

    async def wait(self) -> None:
        """Return when the next message may go."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        slot = max(self._next, self._paused_until, now)
        self._next = slot + self.gap
        if slot > now:
            await asyncio.sleep(slot - now)

    def pause(self, seconds: float) -> None:
        """Send nothing for a while (Telegram's `retry_after`)."""
        until = asyncio.get_running_loop().time() + seconds
        self._paused_until = max(self._paused_until, until)

    def server_error(self) -> None:
        """Back off a little more after each server error in a row (up to 5 s)."""
        self._server_errors += 1
        self.pause(min(0.05 * 2**self._server_errors, 5.0))

    def server_ok(self) -> None:
        """A message went through: server errors are over."""
        self._server_errors = 0


@dataclass
class _Run:
    """One sender run's moving parts."""

    results: list[Finished] = field(default_factory=list)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    last_sent: dict[int, float] = field(default_factory=dict)


class Sender:
    """Drains the outbox until told to stop."""

    def __init__(
        self,
        outbox: Outbox,
        transport: Transport,
        compose: Composer,
        *,
        clock: Clock,
        limits: Limits | None = None,
        quiet: QuietHours | None = None,
        sole: bool = False,
    ) -> None:
        self.outbox = outbox
        self.transport = transport
        self.compose = compose
        self.clock = clock
        self.limits = limits or Limits()
        self.quiet = quiet or QuietHours()
        self.sole = sole  # the only sender (SQLite): whatever is `sending` at start was ours
        self.pacer = Pacer(self.limits.per_second)
        self._contents: dict[int, BroadcastContent | None] = {}
        self._slots = asyncio.Semaphore(self.limits.in_flight)
        self.wake = asyncio.Event()  # set when a broadcast is made, to start at once

    async def run(self, stop: asyncio.Event) -> None:
        """Send until `stop` is set, then finish what is in flight and record it."""
        now = self.clock()
        released = await self.outbox.release(now if self.sole else now - self.limits.lease)
        if released:
            log.info("%d messages claimed before a restart are queued again", released)
        run = _Run()
        recorder = asyncio.create_task(self._record_until(stop, run))
        try:
            while not stop.is_set():
                if not await self._one_batch(run, stop):
                    await self._idle(stop)
        finally:
            await asyncio.gather(*run.tasks, return_exceptions=True)
            stop.set()
            await recorder
            await self._record(run)

    async def _one_batch(self, run: _Run, stop: asyncio.Event) -> bool:
        now = self.clock()
        batch = await self.outbox.claim(
            self.limits.batch, now, daytime=not self.quiet.is_quiet(now)
        )
        await self._load_contents(batch)
        for index, message in enumerate(batch):
            if stop.is_set():
                run.results.extend(self._later(m, 0.0) for m in batch[index:])
                break
            await self._dispatch(run, message)
        return bool(batch)

    async def _dispatch(self, run: _Run, message: Claimed) -> None:
        composed = self._compose(message) if message.wanted else None
        if composed is None:
            run.results.append(self._finished(message, "skipped"))
            return
        loop = asyncio.get_running_loop()
        last = run.last_sent.get(message.chat_id)
        if last is not None and loop.time() - last < self.limits.per_chat_seconds:
            run.results.append(self._later(message, self.limits.per_chat_seconds))
            return
        await self.pacer.wait()
        await self._slots.acquire()
        run.last_sent[message.chat_id] = loop.time()
        task = asyncio.create_task(self._send(run, message, composed))
        run.tasks.add(task)
        task.add_done_callback(run.tasks.discard)

    async def _send(self, run: _Run, message: Claimed, composed: Message) -> None:
        try:
            result = await self.transport.send_message(message.chat_id, *composed)
        except Exception as error:  # a bug in a transport must not lose the message
            log.exception("sending failed")
            result = SendResult(RETRY, error=type(error).__name__)
        finally:
            self._slots.release()
        DELIVERIES.labels(result.kind).inc()
        run.results.append(self._outcome(message, result))

    def _outcome(self, message: Claimed, result: SendResult) -> Finished:
        if result.kind == SENT:
            self.pacer.server_ok()
            return self._finished(message, SENT)
        if result.kind == BLOCKED:
            return self._finished(message, BLOCKED, result.error)
        if result.kind == RETRY and result.retry_after is not None:  # 429: not a failure
            self.pacer.pause(result.retry_after)
            return self._later(message, result.retry_after, result.error)
        attempts = message.attempts + 1
        if result.kind == FAILED or attempts >= self.limits.max_attempts:
            return Finished(message.id, FAILED, attempts, self.clock(), result.error)
        self.pacer.server_error()
        wait = min(2.0**attempts, 300.0)
        return Finished(
            message.id, "pending", attempts, self.clock() + timedelta(seconds=wait), result.error
        )

    def _finished(self, message: Claimed, status: str, error: str | None = None) -> Finished:
        return Finished(message.id, status, message.attempts + 1, self.clock(), error)

    def _later(self, message: Claimed, seconds: float, error: str | None = None) -> Finished:
        when = self.clock() + timedelta(seconds=seconds)
        return Finished(message.id, "pending", message.attempts, when, error)

    def _compose(self, message: Claimed) -> Message | None:
        content = self._contents.get(message.broadcast_id)
        return self.compose(message, content) if content is not None else None

    async def _load_contents(self, batch: list[Claimed]) -> None:
        for broadcast_id in {m.broadcast_id for m in batch} - self._contents.keys():
            self._contents[broadcast_id] = await self.outbox.content(broadcast_id)

    async def _record_until(self, stop: asyncio.Event, run: _Run) -> None:
        while not stop.is_set():
            await asyncio.sleep(self.limits.record_every)
            try:
                await self._record(run)
            except Exception:  # the database is away: keep the results and try again
                ERRORS.labels("sender").inc()
                log.exception("could not record sending results yet")

    async def _record(self, run: _Run) -> None:
        """Write down every result so far (they are what keeps a restart from resending)."""
        if run.results:
            done, run.results = run.results, []
            try:
                await self.outbox.finish(done, self.clock())
            except BaseException:
                run.results[:0] = done
                raise

    async def _idle(self, stop: asyncio.Event) -> None:
        """Wait for a new broadcast, the next poll, or the stop."""
        self.wake.clear()
        waits = [asyncio.create_task(stop.wait()), asyncio.create_task(self.wake.wait())]
        await asyncio.wait(waits, timeout=self.limits.poll_seconds, return_when="FIRST_COMPLETED")
        for waiting in waits:
            waiting.cancel()
        if not self.sole:
            await self.outbox.release(self.clock() - self.limits.lease)
