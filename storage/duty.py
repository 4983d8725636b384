"""Once-only duties across workers: whoever holds a PostgreSQL advisory lock does the job.

A session advisory lock lives as long as its connection, so a worker killed with -9 lets go at
once (the server drops its connection) and another takes the duty within `check_every` seconds.
The lock's connection is its own, outside the pool, so it is really closed when released.
SQLite serves one process, which always holds every duty.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)
SENDER = 72_010  # the broadcast sender: one pace for the whole bot
JOBS = 72_011  # reminders and the retention job
_TRY = text("SELECT pg_try_advisory_lock(:key)")
_STILL_THERE = text("SELECT 1")


class Duty:
    """Whether this process holds one duty, kept up to date while `keep` runs."""

    def __init__(self, url: str, key: int, name: str, *, check_every: float = 5.0) -> None:
        self.url = url
        self.key = key
        self.name = name
        self.check_every = check_every
        self._taken = asyncio.Event()
        self._lost = asyncio.Event()
        self._lost.set()

    @property
    def held(self) -> bool:
        """Whether this process holds the duty now."""
        return self._taken.is_set()

    async def keep(self, stop: asyncio.Event) -> None:
        """Take the duty when it is free and keep checking it is still ours, until `stop`."""
        if not self.url.startswith("postgresql"):
            self._set(True)
            await stop.wait()
            self._set(False)
            return
        engine = create_async_engine(self.url, poolclass=NullPool)
        try:
            while not stop.is_set():
                try:
                    async with engine.connect() as connection:
                        await self._hold(connection, stop)
                except Exception as error:  # the database is away: the duty is nobody's here
                    log.warning(
                        "duty %s: database unreachable (%s)", self.name, type(error).__name__
                    )
                self._set(False)
                await _pause(stop, self.check_every)
        finally:
            self._set(False)
            await engine.dispose()

    async def _hold(self, connection: AsyncConnection, stop: asyncio.Event) -> None:
        """Try for the lock, or check the connection holding it, every few seconds."""
        while not stop.is_set():
            if self.held:
                await connection.execute(_STILL_THERE)
            else:
                taken = (await connection.execute(_TRY, {"key": self.key})).scalar()
                if taken:
                    log.info("duty %s taken by this worker", self.name)
                self._set(bool(taken))
            await connection.commit()  # a session lock outlives the transaction; never sit in one
            await _pause(stop, self.check_every)

    def _set(self, held: bool) -> None:
        if held:
            self._lost.clear()
            self._taken.set()
        else:
            self._taken.clear()
            self._lost.set()

    async def while_held(
        self, work: Callable[[asyncio.Event], Awaitable[None]], stop: asyncio.Event
    ) -> None:
        """Run `work(until)` whenever the duty is ours; `until` is set on losing it, or at stop."""
        while not stop.is_set():
            if not await _first(self._taken, stop):
                return
            until = asyncio.Event()
            watcher = asyncio.create_task(_set_when_either(self._lost, stop, until))
            try:
                await work(until)
            finally:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    """Sleep, waking early at stop."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def _first(wanted: asyncio.Event, stop: asyncio.Event) -> bool:
    """Wait for `wanted` or `stop`; True when `wanted` came (and stop did not)."""
    waits = [asyncio.create_task(wanted.wait()), asyncio.create_task(stop.wait())]
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in waits:
        task.cancel()
    return wanted.is_set() and not stop.is_set()


async def _set_when_either(
    first: asyncio.Event, second: asyncio.Event, then: asyncio.Event
) -> None:
    """Set `then` as soon as either event is set."""
    await _first(first, second)
    then.set()
