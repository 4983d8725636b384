"""Steps residents take through the peer, shared by the end-to-end tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from resident import Resident  # type: ignore[import-not-found]

LANGUAGE_POSITION = {"en": 0, "cy": 1, "pl": 2, "ur": 3}


async def step(resident: Resident, action: str, expect: str) -> list[str]:
    """Do one thing and wait until a reply whose text or buttons hold `expect`; return the texts."""
    if action.startswith("press:"):
        await resident.press(action[6:])
    else:
        await resident.send(action)
    texts: list[str] = []
    while not any(expect in text for text in texts):
        message = await resident.next(timeout=10)
        texts.append(" ".join([message.content, *message.buttons()]))
    return texts


async def press_nth(resident: Resident, message: Any, index: int) -> Any:
    """Press a (translated) button by its position and return the next new message."""
    await resident.press(message.buttons()[index], message=message)
    return await resident.next(timeout=10, kinds=("message",))


async def join_by_position(
    resident: Resident, language: str, postcode: str = "LS6 1AA", start: str = ""
) -> Any:
    """Join in any language by pressing buttons by position (no special-category questions)."""
    await resident.command("start", start)
    languages = await resident.next(timeout=10)
    notice = await press_nth(resident, languages, LANGUAGE_POSITION[language])
    special = await press_nth(resident, notice, 0)  # yes, join
    consultations = await press_nth(resident, special, 1)  # no special-category questions
    await press_nth(resident, consultations, 0)  # yes, send consultations
    await resident.send(postcode)
    age = await resident.next(timeout=10, kinds=("message",))
    sex = await press_nth(resident, age, 2)
    carer = await press_nth(resident, sex, 0)
    return await press_nth(resident, carer, 1)  # the welcome


def database_rows(data_dir: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table of a bot's SQLite database."""
    with sqlite3.connect(data_dir / "panelbot.db") as connection:
        tables = [
            r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        return {t: connection.execute(f"SELECT * FROM {t}").fetchall() for t in tables}
