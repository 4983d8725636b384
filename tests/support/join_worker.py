"""A separate process joining residents, to race other processes for the same quota places.

Run: python -m tests.support.join_worker URL PANEL_SIZE FIRST_CHAT_ID COUNT START_AT
Every resident answers all but the last question, then at START_AT (a time.time() value) all
give their last answer at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import time
from pathlib import Path

from bot.services.area import AreaProfile
from bot.services.panel_chat import PanelChat
from storage.database import Database
from tests.support.driver import LAST_ANSWER, ResidentDriver, join

DEMO = Path(__file__).resolve().parents[2] / "areas" / "demo"


async def race(url: str, panel_size: int, first: int, count: int, start_at: float) -> None:
    """Join `count` residents and give their last answers at `start_at`."""
    database = Database(url)
    area = dataclasses.replace(AreaProfile.load(DEMO), panel_size=panel_size)
    chat = PanelChat(database, area=area)
    drivers = [ResidentDriver(chat, chat_id) for chat_id in range(first, first + count)]
    for driver in drivers:
        await join(driver, postcode="LS12 1AA", last=False)
    await asyncio.sleep(max(0.0, start_at - time.time()))
    await asyncio.gather(*(driver.press(LAST_ANSWER) for driver in drivers))
    await database.dispose()


if __name__ == "__main__":
    url, size, first, count, start_at = sys.argv[1:6]
    asyncio.run(race(url, int(size), int(first), int(count), float(start_at)))
