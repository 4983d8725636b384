"""Group commit: answers that arrive together share one transaction on the hot path.

Checking a connection out of the pool and committing cost more than the statements of one
answer; under load, answers arriving in the same moment are applied one after another in one
transaction, and each caller hears back only once that transaction has committed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from storage.answer_store import AnswerStore, AnswerTurn

log = logging.getLogger(__name__)
Result = TypeVar("Result")
# A job applies one event in the batch's transaction. It returns None, having written nothing,
# when the event is not for the hot path.
Job = Callable[[AnswerTurn], Awaitable[Result | None]]
MAX_BATCH = 200  # bounds how long the first answer of a burst waits for the commit


class GroupCommit(Generic[Result]):
    """Queues jobs and runs each batch of them in one transaction."""

    def __init__(self, store: AnswerStore) -> None:
        self.store = store
        self._queue: list[tuple[int, Job[Result], asyncio.Future[Result | None]]] = []
        self._drainer: asyncio.Task[None] | None = None

    async def run(self, order: int, job: Job[Result]) -> Result | None:
        """Run a job in the next batch; its result once the batch has committed.

        A batch runs its jobs by `order` (a chat id), stably: one chat's events stay in turn and
        every worker takes the residents' row locks in the same order, so batches never deadlock.
        """
        future: asyncio.Future[Result | None] = asyncio.get_running_loop().create_future()
        self._queue.append((order, job, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        batch: list[tuple[int, Job[Result], asyncio.Future[Result | None]]] = []
        try:
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                batch.sort(key=lambda item: item[0])
                results = await self._apply([job for _order, job, _future in batch])
                for (_order, _job, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
        finally:  # cancelled (at shutdown): nobody is left waiting; the general path takes over
            for _order, _job, future in batch + self._queue:
                if not future.done():
                    future.set_result(None)
            self._queue = []

    async def _apply(self, jobs: list[Job[Result]]) -> list[Result | None]:
        """Every job's result, or None for all when the batch had to be rolled back."""
        results: list[Result | None] = []
        try:
            async with self.store.turn() as turn:
                for job in jobs:
                    results.append(await job(turn))
        except Exception:
            # The general path redoes each event on its own and reports any real failure there.
            log.exception("a batch of %d answers was rolled back", len(jobs))
            return [None] * len(jobs)
        return results
