"""Updates of different chats are handled at once; one chat's updates one at a time, in order."""

from __future__ import annotations

import asyncio
import random

from hypothesis import given, settings
from hypothesis import strategies as st
from telegram import Update

from bot.channels.ordering import PerChatOrder


def update(update_id: int, chat_id: int) -> Update:
    """A private text message update from one chat."""
    chat = {"id": chat_id, "type": "private"}
    message = {"message_id": update_id, "date": 0, "chat": chat, "text": "x"}
    found = Update.de_json({"update_id": update_id, "message": message}, None)
    assert found is not None
    return found


async def run_all(processor: PerChatOrder, updates: list[Update], delays: list[float]) -> dict:
    """Feed updates as the application does (a task each, in arrival order); what happened."""
    log: dict[str, list] = {"started": [], "finished": [], "overlaps": []}
    busy: set[int] = set()
    running = [0, 0]  # now, most

    async def handle(item: Update, delay: float) -> None:
        chat_id = item.effective_chat.id  # type: ignore[union-attr]
        if chat_id in busy:
            log["overlaps"].append(chat_id)
        busy.add(chat_id)
        running[0] += 1
        running[1] = max(running)
        log["started"].append(item.update_id)
        await asyncio.sleep(delay)
        log["finished"].append(item.update_id)
        running[0] -= 1
        busy.discard(chat_id)

    await asyncio.gather(
        *(
            asyncio.create_task(processor.process_update(item, handle(item, delay)))
            for item, delay in zip(updates, delays, strict=True)
        )
    )
    log["most_at_once"] = running[1]
    return log


async def test_different_chats_run_together_and_one_chat_waits() -> None:
    processor = PerChatOrder(8)
    updates = [update(1, 100), update(2, 200), update(3, 100), update(4, 300)]
    log = await run_all(processor, updates, [0.05, 0.01, 0.0, 0.01])
    assert log["overlaps"] == []
    assert log["started"][:3] == [1, 2, 4]  # 3 waits for 1, its chat's earlier update
    assert log["finished"].index(1) < log["finished"].index(3)
    assert log["most_at_once"] == 3
    assert processor.chats_in_hand == 0


@settings(max_examples=60, deadline=None)
@given(
    chats=st.lists(st.integers(1, 5), min_size=1, max_size=40),
    concurrency=st.integers(1, 6),
    seed=st.integers(0, 1000),
)
def test_each_chat_in_arrival_order_never_overlapping_within_the_bound(
    chats: list[int], concurrency: int, seed: int
) -> None:
    rng = random.Random(seed)
    updates = [update(n + 1, chat) for n, chat in enumerate(chats)]
    delays = [rng.choice([0.0, 0.0, 0.001, 0.003]) for _ in updates]
    processor = PerChatOrder(concurrency)
    log = asyncio.run(run_all(processor, updates, delays))
    assert log["overlaps"] == []
    assert log["most_at_once"] <= concurrency
    for chat in set(chats):
        mine = [u.update_id for u in updates if u.effective_chat.id == chat]  # type: ignore[union-attr]
        assert [n for n in log["started"] if n in mine] == mine
    assert sorted(log["finished"]) == [u.update_id for u in updates]
    assert processor.chats_in_hand == 0
